import ConnectorCore
import Foundation

/// A plan an operator saved (`plan --save PLAN.json`) and reviewed, given back to
/// `sync --approve PLAN.json`: the guards are lifted only for exactly the removals
/// and field clearings it listed.
public struct PlanApproval: Sendable {
    /// Where the plan was read from, for messages.
    public var path: String
    /// Source ids the plan would remove.
    public var removals: Set<String>
    /// `(source id, field)` pairs the plan would clear.
    public var clearings: Set<[String]>
    /// `(source id, field)` pairs the plan would change from one value to another.
    public var changed: Set<[String]>
    /// What each joined source gave the plan, `[records, matched]` by name: approving the plan lets a
    /// joined source be as empty, or match as few, as the plan saw it.
    public var joins: [String: [Int]]
    /// Source ids the plan held back (``HeldPerson``): approving the plan lets them through.
    public var held: Set<String>

    /// Reads a saved plan.
    /// - Parameters:
    ///   - path: the file `plan --save` wrote.
    ///   - job: the job it must belong to.
    ///   - maxAge: how old it may be.
    ///   - now: the run's time.
    /// - Throws: ``SyncError`` (kind `.configuration`) for a file that is not a saved plan of this job, or too old.
    public init(path: String, job: String, maxAge: Duration, now: Date = Date()) throws {
        self.path = path
        try Self.checkOwnership(path)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SyncError(
                .configuration, "cannot read the saved plan \(path)",
                hint: "save one with `compliance-sync plan --config JOB.yml --save PLAN.json`")
        }
        // Fail closed: a file that is not a whole plan document approves nothing.
        guard let plan = try? PlanDocument.decode(data), plan.format == PlanDocument.formatName else {
            throw SyncError(.configuration, "\(path) is not a plan saved by `compliance-sync plan --save`")
        }
        guard plan.job == job else {
            throw SyncError(
                .configuration, "the saved plan \(path) is of job \(plan.job), not \(job)",
                hint: "approve a plan saved from this job's config")
        }
        guard let plannedAt = ISO8601DateFormatter().date(from: plan.plannedAt) else {
            throw SyncError(.configuration, "the saved plan \(path) has no readable planned_at")
        }
        guard now.timeIntervalSince(plannedAt) <= maxAge.seconds else {
            throw SyncError(
                .configuration, "the saved plan \(path) was made at \(plan.plannedAt), more than \(maxAge) ago",
                hint: "review a fresh plan (`plan --save`), or pass a longer --approve-max-age")
        }
        joins = Dictionary(plan.joined.map { ($0.source, [$0.records, $0.matched]) }, uniquingKeysWith: { a, _ in a })
        held = Set(plan.held.map(\.sourceId))
        removals = Set(plan.removals.map(\.sourceId))
        var clearings: Set<[String]> = []
        var changes: Set<[String]> = []
        for update in plan.updates {
            for field in update.changed {
                if update.fields[field] == nil {
                    clearings.insert([update.sourceId, field])
                } else {
                    changes.insert([update.sourceId, field])
                }
            }
        }
        self.clearings = clearings
        self.changed = changes
    }

    /// Checks that a run makes no removal, no clearing and no change of a guarded field
    /// (``ChangeGuard``) that the saved plan did not list.
    /// - Parameter guards: the job's limits, which say the fields the change guard watches.
    /// - Returns: `nil` when everything is approved, else the ``SyncError`` (kind `.guardStopped`) naming what is not.
    public func check(_ changes: ChangeSet, guards: GuardPolicy = GuardPolicy()) -> SyncError? {
        var missing = changes.removals.map(\.person.sourceID).filter { !removals.contains($0) }.map {
            "removal of \($0)"
        }
        for (field, people) in ClearingGuard.clearings(changes) {
            missing += people.filter { !clearings.contains([$0, field]) }.map { "clearing \(field) of \($0)" }
        }
        // Only the fields the change guard watches: an approval is for what a guard would stop.
        for (field, people) in ChangeGuard.changes(changes)
        where ChangeGuard.limit(of: field, policy: guards, catalog: changes.layout.catalog) != nil {
            missing += people.filter { !self.changed.contains([$0, field]) }.map { "change of \(field) of \($0)" }
        }
        guard !missing.isEmpty else { return nil }
        let shown =
            missing.prefix(10).joined(separator: ", ") + (missing.count > 10 ? " and \(missing.count - 10) more" : "")
        return SyncError(
            .guardStopped,
            "the run would make changes the saved plan \(path) does not list: \(shown); nothing was sent",
            hint: "review a new plan (`plan --save`) and approve that one")
    }

    /// Refuses a saved plan another user owns, or that group or others may write: whoever could
    /// change it could approve removals nobody reviewed.
    static func checkOwnership(_ path: String) throws {
        switch FileOwnership.problem(at: path) {
        case .ownedBy(let uid):
            throw SyncError(
                .configuration, "the saved plan \(path) belongs to another user (uid \(uid)); it approves nothing",
                hint: "approve a plan this user saved (`plan --save`), or copy it after review and own it")
        case .writableByOthers(let mode):
            throw SyncError(
                .configuration,
                "the saved plan \(path) may be changed by group or others (mode \(FileOwnership.octal(mode))); "
                    + "it approves nothing",
                hint: "chmod go-w \(path) after reviewing it again, or save a new plan (plan --save writes mode 0600)")
        case nil: return
        }
    }

    /// Whether the plan saw a joined source give what it gives now.
    public func sawJoin(_ member: JoinedSource.MemberCount) -> Bool {
        joins[member.source] == [member.records, member.matched]
    }
}
