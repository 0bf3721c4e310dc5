import ConnectorCore

/// Stops a run that would clear one field for many people at once: the mark of a
/// bind account that lost read access to an attribute, or an HR column renamed,
/// rather than of people really losing their job titles or birth dates.
public enum ClearingGuard {
    /// How many people a run would clear each field for, in layout order (fields cleared for nobody left out).
    public static func clearings(_ changes: ChangeSet) -> [(field: String, people: [String])] {
        let layout = changes.layout
        var cleared = Array(repeating: [String](), count: layout.fields.count)
        for update in changes.updates {
            for (i, value) in update.row.values.enumerated()
            where value == nil && update.previous.fields[layout.fields[i]] != nil {
                cleared[i].append(update.row.sourceID)
            }
        }
        return layout.fields.indices.filter { !cleared[$0].isEmpty }.map { (layout.fields[$0], cleared[$0]) }
    }

    /// Checks a change set against the limits.
    /// - Returns: `nil` when the run may go on, else the ``SyncError`` (kind `.guardStopped`) naming each field.
    public static func check(_ changes: ChangeSet, policy: GuardPolicy) -> SyncError? {
        var over: [String] = []
        let active = changes.snapshotActive
        for (field, people) in clearings(changes) {
            let percent = active > 0 ? Double(people.count) * 100 / Double(active) : 0
            let overCount = policy.maxClearedCount.map { people.count > $0 } ?? false
            let overPercent = policy.maxClearedPercent.map { percent > $0 } ?? false
            if overCount || overPercent {
                let shown = (percent * 10).rounded() / 10
                over.append("\(field) for \(people.count) people (\(shown.formatted)% of \(active))")
            }
        }
        guard !over.isEmpty else { return nil }
        let limits = [
            policy.maxClearedCount.map { "guards.max_cleared_count (\($0))" },
            policy.maxClearedPercent.map { "guards.max_cleared_percent (\($0.formatted)%)" },
        ].compactMap { $0 }.joined(separator: " or ")
        return SyncError(
            .guardStopped, "the run would clear \(over.joined(separator: "; ")), above \(limits); nothing was sent",
            hint: "check that the source still returns these attributes (read access, a renamed column); "
                + "rerun with --allow-mass-clear, or approve a saved plan with --approve, if this is really intended")
    }
}
