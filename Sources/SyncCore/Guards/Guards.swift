import ConnectorCore

/// What the operator said about the guards for one run.
public struct GuardOverrides: Sendable {
    /// `--allow-mass-removal`: lift the removal limits and the empty-source stop.
    public var allowMassRemoval: Bool
    /// `--allow-mass-clear`: lift the clearing limits.
    public var allowMassClear: Bool
    /// `--approve PLAN.json`: lift both, but only for exactly what the saved plan listed.
    public var approved: PlanApproval?

    /// Overrides; none by default.
    public init(allowMassRemoval: Bool = false, allowMassClear: Bool = false, approved: PlanApproval? = nil) {
        self.allowMassRemoval = allowMassRemoval
        self.allowMassClear = allowMassClear
        self.approved = approved
    }
}

/// Every check that stops a run before anything is sent (exit 3).
public enum Guards {
    /// Checks a change set against the job's limits and the operator's overrides.
    /// - Returns: `nil` when the run may go on, else the ``SyncError`` (kind `.guardStopped`) to stop with.
    public static func check(
        _ changes: ChangeSet, removals: RemovalPolicy, guards: GuardPolicy, overrides: GuardOverrides = GuardOverrides()
    ) -> SyncError? {
        if let minimum = guards.minRecords, changes.recordsRead < minimum {
            return SyncError(
                .guardStopped,
                "the source returned \(changes.recordsRead) records, fewer than source.min_records (\(minimum)); nothing was sent",
                hint: "check that the source is complete (an export still being written, a filter, permissions); "
                    + "lower source.min_records if it really shrank")
        }
        if let approved = overrides.approved { return approved.check(changes) }
        if !overrides.allowMassRemoval,
            let stopped = RemovalGuard.check(changes, policy: removals, allowMassRemoval: false)
        {
            return stopped
        }
        if !overrides.allowMassClear, let stopped = ClearingGuard.check(changes, policy: guards) { return stopped }
        return nil
    }
}
