import ConnectorCore
import Foundation
import Logging

/// A whole sync: settle what an interrupted run left, plan, guard, submit the
/// changes in batches, and advance the snapshot by exactly what the API accepted.
///
/// Every batch is journaled under a key of its own before it is sent, with the
/// state each row will have in the snapshot; its accepted rows are committed,
/// and its journal entry forgotten, in one transaction. A run killed at any
/// instant therefore leaves the snapshot as it was before some batch or after
/// it. The next run first settles the journal: imports with an id are asked
/// for and committed as they ended; a submission never confirmed marks its
/// people unconfirmed, so the plan sends them again in their current state.
public struct Syncer: Sendable {
    /// Reads, maps, validates and diffs.
    public var planner: Planner
    /// What happens to leavers, and the limits that stop a run.
    public var policy: RunPolicy
    /// Rows per import request.
    public var batchSize: Int
    /// Imports submitted and being polled at once (`api.max_in_flight`).
    public var maxInFlight = 4
    /// Where messages go.
    public var logger: Logger
    /// Told how many batches have been sent of how many, after each (for a progress line).
    public var progress: (@Sendable (_ sent: Int, _ total: Int) -> Void)?

    /// Creates a sync engine.
    public init(planner: Planner, policy: RunPolicy, batchSize: Int, logger: Logger) {
        self.planner = planner
        self.policy = policy
        self.batchSize = max(1, batchSize)
        self.logger = logger
    }

    /// Runs one sync, counting into `report` as it goes: when the run fails part-way, the report
    /// still says what was applied (created, updated, terminated, rejected) before it failed.
    /// - Parameters:
    ///   - source: where people come from.
    ///   - store: the job's snapshot, opened for writing (its lock held).
    ///   - service: where imports go.
    ///   - full: send every current person, whatever the snapshot says.
    ///   - overrides: what the operator lifted of the guards (`--allow-mass-removal`, `--approve`).
    ///   - now: the run's time (`terminated_at`, grace periods).
    ///   - report: filled as the run goes; rows the API rejected are in it, not thrown.
    /// - Throws: ``SyncError`` when the source fails, a guard stops the run (nothing sent),
    ///   or the API fails beyond its retries (what was accepted so far is kept in `report`).
    public func run(
        source: some UserSource, store: some SnapshotStore, service: some ImportService, full: Bool = false,
        overrides: GuardOverrides = GuardOverrides(), now: Date = Date(), into report: inout SyncReport
    ) async throws {
        report.full = full
        try await settleJournal(store: store, service: service, report: &report)
        var changes = try await planner.plan(source: source, snapshot: store, now: now, resendUnchanged: full)
        changes.withhold(report.unsettled)
        if let approved = overrides.approved {
            for id in changes.release(approved.held) {
                logger.notice("\(id) is let through, as the approved plan listed")
            }
        }
        if let stopped = Guards.check(changes, policy: policy, overrides: overrides) {
            throw stopped
        }
        report.records = changes.recordsRead
        report.read = changes.read
        report.unchanged = changes.unchanged
        report.invalid = changes.invalid
        report.warnings += changes.warnings + changes.held.map(\.reason)
        report.unmatched = changes.unmatched
        report.joined = changes.joined
        report.waiting = changes.waiting.map(\.person.sourceID)
        report.rekeys = changes.rekeys.map {
            .init(from: $0.previous.sourceID, to: $0.sourceID, matchedOn: $0.matchedOn)
        }

        if !changes.moved.isEmpty {
            // Re-keyed people whose row is as it was: only the snapshot row moves.
            try await store.commit(
                changes.moved.map { snapshotUpdate(of: $0, layout: changes.layout, key: changes.key) })
        }
        let (upserts, terminations) = outgoing(changes, now: now)
        let total = upserts.count + terminations.count
        var done = 0
        // Terminations go only once every upsert of the run has ended: a rehire or a
        // re-key is never undone by a termination that overtook it.
        let matchedOn = changes.layout.catalog.email + [changes.layout.catalog.employeeID]
        for batches in [upserts, terminations] {
            // Each batch's outcome, added to the report in plan order whatever order they end in;
            // those that ended are added even when another fails the run.
            var tallies = [Tally?](repeating: nil, count: batches.count)
            defer { for tally in tallies { if let tally { report.add(tally) } } }
            try await InFlightImports(limit: maxInFlight).run(
                count: batches.count, claims: { Self.claims(of: batches[$0], matchedOn: matchedOn) },
                send: { [self] index in
                    var tally = Tally()
                    try await send(batches[index][...], store: store, service: service, tally: &tally)
                    return tally
                },
                finished: { index, tally in
                    tallies[index] = tally
                    done += 1
                    progress?(done, total)
                })
        }
        let newlyMissing = (changes.waiting + (policy.removals.action == .report ? changes.removals : []))
            .filter { $0.person.missingSince == nil }.map(\.person.sourceID)
        try await store.setMissing(newlyMissing, since: now)
        try await store.setMissing(changes.returned, since: nil)
        if policy.removals.action == .report { report.reportedGone = changes.removals.map(\.person.sourceID) }
        report.journalPending = try await store.journalEntries().count
        report.finishedAt = Date()
    }
}
