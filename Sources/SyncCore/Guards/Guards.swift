import ConnectorCore

/// What the operator said about the guards for one run.
public struct GuardOverrides: Sendable {
    /// `--allow-mass-removal`: lift the removal limits and the empty-source stop.
    public var allowMassRemoval: Bool
    /// `--allow-mass-clear`: lift the clearing limits.
    public var allowMassClear: Bool
    /// `--allow-mass-change`: lift the limits on fields changed for many people.
    public var allowMassChange: Bool
    /// `--allow-partial-join`: let a joined source give no records, or match far fewer people than last time.
    public var allowPartialJoin: Bool
    /// `--approve PLAN.json`: lift them all, but only for exactly what the saved plan listed.
    public var approved: PlanApproval?

    /// Overrides; none by default.
    public init(
        allowMassRemoval: Bool = false, allowMassClear: Bool = false, allowMassChange: Bool = false,
        allowPartialJoin: Bool = false, approved: PlanApproval? = nil
    ) {
        self.allowPartialJoin = allowPartialJoin
        self.allowMassRemoval = allowMassRemoval
        self.allowMassClear = allowMassClear
        self.allowMassChange = allowMassChange
        self.approved = approved
    }
}

/// Every check that stops a run before anything is sent (exit 3).
public enum Guards {
    /// Checks a change set against the job's limits and the operator's overrides.
    /// - Returns: `nil` when the run may go on, else the ``SyncError`` (kind `.guardStopped`) to stop with.
    public static func check(
        _ changes: ChangeSet, policy: RunPolicy, overrides: GuardOverrides = GuardOverrides()
    ) -> SyncError? {
        let guards = policy.guards
        if let minimum = guards.minRecords, changes.recordsRead < minimum {
            return SyncError(
                .guardStopped,
                "the source returned \(changes.recordsRead) records, fewer than source.min_records (\(minimum)); nothing was sent",
                hint: "check that the source is complete (an export still being written, a filter, permissions); "
                    + "lower source.min_records if it really shrank")
        }
        if let stopped = checkJoined(changes, overrides: overrides, policy: guards) { return stopped }
        if let approved = overrides.approved { return approved.check(changes, guards: guards) }
        if !overrides.allowMassRemoval,
            let stopped = RemovalGuard.check(changes, policy: policy.removals, allowMassRemoval: false)
        {
            return stopped
        }
        if !overrides.allowMassClear, let stopped = ClearingGuard.check(changes, policy: guards) { return stopped }
        if !overrides.allowMassChange, let stopped = ChangeGuard.check(changes, policy: guards) { return stopped }
        return nil
    }

    /// A joined source below its `min_records` (never lifted); one that gave no records while the
    /// primary gave some; or one that matches a share of the people far below the last successful
    /// run's: an outage, a lost permission or a lost OU, not a directory that emptied. Read as
    /// "nobody matched", every such person would be sent with that source's fields gone or from elsewhere.
    static func checkJoined(_ changes: ChangeSet, overrides: GuardOverrides, policy: GuardPolicy) -> SyncError? {
        for member in changes.joined {
            if let minimum = member.minRecords, member.records < minimum {
                return SyncError(
                    .guardStopped,
                    "the joined source \(member.source) returned \(member.records) records, fewer than its "
                        + "min_records (\(minimum)); nothing was sent",
                    hint: "check that \(member.source) is complete (an export still being written, a filter, "
                        + "permissions); lower its min_records if it really shrank")
            }
            let lifted = overrides.allowPartialJoin || (overrides.approved?.sawJoin(member) ?? false)
            let flag = "rerun with --allow-partial-join, or approve a saved plan with --approve, if this is really so"
            if member.records == 0, changes.recordsRead > 0, !lifted {
                return SyncError(
                    .guardStopped,
                    "the joined source \(member.source) returned no records, while the primary returned "
                        + "\(changes.recordsRead); nothing was sent",
                    hint: "check \(member.source) (its server, filter, permissions); \(flag)")
            }
            guard let before = changes.joinedBefore, let matched = before.matched[member.source], before.records > 0,
                changes.recordsRead > 0, !lifted
            else { continue }
            let was = Double(matched) / Double(before.records),
                now = Double(member.matched) / Double(changes.recordsRead)
            if matched - member.matched >= 5, now < was * (1 - policy.maxJoinDropPercent / 100) {
                return SyncError(
                    .guardStopped,
                    "the joined source \(member.source) matched \(member.matched) of \(changes.recordsRead) people, "
                        + "down from \(matched) of \(before.records) at the last successful run (more than "
                        + "guards.max_join_drop_percent, \(policy.maxJoinDropPercent.formatted)%, less); nothing was sent",
                    hint: "check that \(member.source) still returns everyone (a permission lost for an OU, a filter); "
                        + flag)
            }
        }
        return nil
    }
}
