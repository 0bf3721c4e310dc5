import ConnectorCore

/// Stops a run that would change one field for many people at once, from one value to another:
/// the mark of a source that lost or swapped an attribute (an AD permission lost for one OU, so
/// the join falls back to HR's addresses for thousands) rather than of people really changing.
/// By default it watches the fields the API matches people on, `email` and `employee_id`.
public enum ChangeGuard {
    /// The people a run would change each field for, from one value to another, in layout order
    /// (fields changed for nobody left out; a value set where there was none, or cleared, is no change here).
    public static func changes(_ changes: ChangeSet) -> [(field: String, people: [String])] {
        let layout = changes.layout
        var changed = Array(repeating: [String](), count: layout.fields.count)
        for update in changes.updates {
            for (i, name) in layout.fields.enumerated()
            where update.row.values[i] != nil && update.previous.fields[name] != nil && update.changed.contains(name) {
                changed[i].append(update.row.sourceID)
            }
        }
        return layout.fields.indices.filter { !changed[$0].isEmpty }.map { (layout.fields[$0], changed[$0]) }
    }

    /// The limit for one field, in percent of the snapshot's active people; `nil` for none.
    static func limit(of field: String, policy: GuardPolicy, catalog: FieldCatalog) -> Double? {
        guard let limits = policy.maxChangedPercent else {
            return catalog.email.contains(field) || field == catalog.employeeID ? 10 : nil
        }
        return limits[field] ?? limits["*"]
    }

    /// Checks a change set against the limits.
    /// - Returns: `nil` when the run may go on, else the ``SyncError`` (kind `.guardStopped`) naming each field.
    public static func check(_ changes: ChangeSet, policy: GuardPolicy) -> SyncError? {
        let active = changes.snapshotActive
        var over: [String] = []
        for (field, people) in Self.changes(changes) where people.count >= GuardPolicy.changedFloor && active > 0 {
            guard let limit = limit(of: field, policy: policy, catalog: changes.layout.catalog) else { continue }
            let percent = Double(people.count) * 100 / Double(active)
            if percent > limit {
                let shown = (percent * 10).rounded() / 10
                over.append(
                    "\(field) for \(people.count) people (\(shown.formatted)% of \(active), above \(limit.formatted)%)")
            }
        }
        guard !over.isEmpty else { return nil }
        return SyncError(
            .guardStopped,
            "the run would change \(over.joined(separator: "; ")), above guards.max_changed_percent; nothing was sent",
            hint: "check that every source still returns these attributes as before (read access to an OU, a join "
                + "that matched fewer people, a renamed column); rerun with --allow-mass-change, or approve a saved "
                + "plan with --approve, if this is really intended")
    }
}
