import ConnectorCore

/// Stops a run whose removals look like an outage rather than people leaving.
public enum RemovalGuard {
    /// Checks a change set against the policy.
    /// - Parameters:
    ///   - changes: the plan.
    ///   - policy: the job's removal limits.
    ///   - allowMassRemoval: the operator's `--allow-mass-removal`.
    /// - Returns: `nil` when the run may go on, else the ``SyncError`` (kind `.guardStopped`) to stop with.
    public static func check(_ changes: ChangeSet, policy: RemovalPolicy, allowMassRemoval: Bool) -> SyncError? {
        guard !allowMassRemoval else { return nil }
        let flag = "rerun with --allow-mass-removal if this is really intended"
        // A change read lists only what changed: none is the usual answer; its removals meet the limits below.
        if changes.read?.kind != .changes, changes.recordsRead == 0 && changes.snapshotActive > 0 {
            return SyncError(
                .guardStopped,
                "the source returned no records, but the snapshot holds \(changes.snapshotActive) people; nothing was sent",
                hint: "check the source (filter, file, permissions); \(flag)")
        }
        let count = changes.removals.count
        guard count > 0 else { return nil }
        if let maxCount = policy.maxCount, count > maxCount {
            return SyncError(
                .guardStopped,
                "\(count) removals exceed removals.max_count (\(maxCount)); nothing was sent",
                hint: flag)
        }
        if let maxPercent = policy.maxPercent, changes.snapshotActive > 0 {
            let percent = Double(count) * 100 / Double(changes.snapshotActive)
            if percent > maxPercent {
                let shown = (percent * 10).rounded() / 10
                return SyncError(
                    .guardStopped,
                    "\(count) removals are \(shown)% of the \(changes.snapshotActive) people in the snapshot, "
                        + "above removals.max_percent (\(maxPercent.formatted)%); nothing was sent",
                    hint: flag)
            }
        }
        return nil
    }
}

extension Double {
    /// `20` for 20.0, `12.5` for 12.5.
    var formatted: String { self == rounded() ? String(Int(self)) : String(self) }
}
