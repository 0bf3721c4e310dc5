import ConnectorCore

/// What happens to people who are gone from the source (`removals:` in the config).
public struct RemovalPolicy: Sendable, Hashable {
    /// What a removal does.
    public enum Action: String, Sendable, Hashable {
        /// Send the person's identity with `terminated_at` set.
        case terminate
        /// Only list them in plans and reports.
        case report
    }

    /// What a removal does; `terminate` by default.
    public var action = Action.terminate
    /// The most removals one run may make without `--allow-mass-removal`; `nil` for no count limit.
    public var maxCount: Int?
    /// The most removals, as a percentage of the people the snapshot holds; 10 by default.
    public var maxPercent: Double? = 10
    /// How long a person must be missing before they are removed; zero by default.
    public var grace = Duration.zero

    /// The defaults: terminate, at most 10 % per run, no grace.
    public init() {}

    package init(section: ConfigSection?) throws {
        guard let section else { return }
        action = try section.choice("action", ["terminate", "report"]).flatMap(Action.init) ?? action
        maxCount = try section.int("max_count", in: 0...Int.max)
        if section.has("max_percent") || maxCount != nil {
            maxPercent = try section.double("max_percent", in: 0...100)
        }
        grace = try section.duration("grace") ?? grace
        try section.finish()
    }
}
