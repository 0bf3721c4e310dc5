import ConnectorCore

/// The limits besides the removal limits that stop a run before anything is
/// sent: `guards:` in the config, and `source.min_records`.
public struct GuardPolicy: Sendable, Hashable {
    /// The most people one run may clear a field for, as a percentage of the people
    /// the snapshot holds; 10 by default, `nil` for no percentage limit.
    public var maxClearedPercent: Double? = 10
    /// The most people one run may clear a field for; `nil` (the default) for no count limit.
    public var maxClearedCount: Int?
    /// The fewest records a source may return (`source.min_records`); `nil` for no limit.
    public var minRecords: Int?
    /// The most people one run may change a field for (from one value to another), as a percentage
    /// of the people the snapshot holds, by field; a field not named has no limit. By default the
    /// fields the API matches people on: `email` and `employee_id` at 10 %.
    public var maxChangedPercent: [String: Double]?
    /// How far the share of people a joined source matches may fall since the last successful run,
    /// in percent of that share (`guards.max_join_drop_percent`): a directory that lost an OU.
    public var maxJoinDropPercent: Double = 20
    /// Fewer people than this changing a field never stop a run (a small job's few edits).
    public static let changedFloor = 5

    /// The defaults: a field cleared for at most 10 % of the snapshot, no record minimum.
    public init() {}

    package init(section: ConfigSection?, source: ConfigSection) throws {
        minRecords = try source.int("min_records", in: 0...Int.max)
        guard let section else { return }
        maxClearedCount = try section.int("max_cleared_count", in: 0...Int.max)
        maxJoinDropPercent = try section.double("max_join_drop_percent", in: 0...100) ?? maxJoinDropPercent
        if let node = section.node("max_changed_percent") {
            if case .mapping = node.value {
                let fields = try node.section()
                maxChangedPercent = try Dictionary(
                    uniqueKeysWithValues: fields.keys.map { ($0, try fields.double($0, in: 0...100) ?? 100) })
                try fields.finish()
            } else {
                maxChangedPercent = ["*": try section.double("max_changed_percent", in: 0...100) ?? 100]
            }
        }
        if section.has("max_cleared_percent") || maxClearedCount != nil {
            maxClearedPercent = try section.double("max_cleared_percent", in: 0...100)
        }
        try section.finish()
    }
}
