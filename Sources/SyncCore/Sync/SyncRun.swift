import ConnectorCore
import Foundation
import Logging

/// One `sync`, from opening the snapshot to the report, and the one place its report is made:
/// open the snapshot (taking the job's lock) → record the run's start → settle the journal →
/// plan → guards → send (``Syncer``) → record how it ended.
///
/// It never throws: how the run ended, however it ended, is the report's ``SyncReport/failure``,
/// and what it applied before a failure is in the report too.
public struct SyncRun: Sendable {
    /// The job's name.
    public var job: String
    /// This run's id, in its history and its log lines.
    public var runID: String
    /// `sync`, or `sync --full` (every current person sent, whatever the snapshot says).
    public var full = false
    /// The engine: plan, guards, send.
    public var syncer: Syncer
    /// What the operator lifted of the guards.
    public var overrides = GuardOverrides()
    /// How much history to keep, and when the job is stale.
    public var history = HistoryPolicy()
    /// The run's clock: `terminated_at`, grace periods, the report's times.
    public var clock: @Sendable () -> Date = { Date() }
    /// Where messages go.
    public var logger: Logger

    /// Creates a run.
    public init(job: String, runID: String, syncer: Syncer, logger: Logger) {
        self.job = job
        self.runID = runID
        self.syncer = syncer
        self.logger = logger
    }

    /// Runs the sync.
    /// - Parameters:
    ///   - source: where people come from.
    ///   - openStore: opens the job's snapshot for writing, holding its lock until the store is released.
    ///   - service: where imports go.
    /// - Returns: the report: what was applied, and the failure or the guard that stopped the run, if any.
    public func run(
        source: some UserSource, openStore: () async throws -> any SnapshotStore, service: some ImportService
    ) async -> SyncReport {
        var report = SyncReport(job: job, source: source.description, startedAt: clock())
        report.full = full
        do {
            let store = try await openStore()
            let recorder = RunRecorder(
                store: store, run: RunRecord(id: runID, command: full ? .full : .sync, startedAt: report.startedAt),
                policy: history, logger: logger)
            // A store that cannot record the run cannot record its people either: nothing is sent.
            try await recorder.begin()
            do {
                var syncer = syncer
                // What the last successful run's joined sources matched, for the join guard.
                syncer.planner.lastSuccess = try await store.lastSuccess()
                // The run before this one, whose change feed position a change read continues.
                syncer.planner.previousRun = try await store.runs(limit: 2).first { $0.id != runID }
                try await syncer.run(
                    source: source, store: store, service: service, full: full, overrides: overrides, now: clock(),
                    into: &report)
            } catch {
                report.failure = Self.failure(error)
            }
            report.finishedAt = clock()
            report.apiRetries = service.retries
            await recorder.finish(&report)
        } catch {
            // Failed before the run could begin (the lock, the snapshot).
            report.failure = Self.failure(error)
            report.finishedAt = clock()
            report.apiRetries = service.retries
        }
        return report
    }
}

extension SyncRun {
    /// A run's failure as the report keeps it: a ``SyncError`` as it is; anything else (no part of the
    /// engine throws one on purpose) said with what it was.
    static func failure(_ error: any Error) -> SyncError {
        if let error = error as? SyncError { return error }
        return SyncError(
            .snapshot, "the run stopped: \(error)",
            hint: "what was accepted before it stopped is kept; run again, and report this if it recurs",
            underlying: error)
    }
}

/// How much run history a job keeps (`history:`), and how old its last success may be.
public struct HistoryPolicy: Sendable {
    /// How many runs the snapshot store remembers (`history.keep`), with what each did to each person.
    public var keep = 400
    /// How many person events the history keeps at most (`history.keep_events`): the oldest go first.
    public var keepEvents = 2_000_000
    /// How old the last success may be before the job is stale (`history.stale_after`): `status`
    /// turns critical and `stale` webhooks are told.
    public var staleAfter = Duration.seconds(26 * 3600)

    /// Creates the defaults.
    public init() {}

    /// Whether a job is stale: its last success (or, without one, its first run) is older than ``staleAfter``.
    public func isStale(lastSuccess: Date?, firstStart: Date?, now: Date) -> Bool {
        Self.isStale(lastSuccess: lastSuccess, firstStart: firstStart, now: now, maxAge: staleAfter)
    }

    /// Whether the last success (or, without one, the first run) is older than `maxAge` at `now`.
    public static func isStale(lastSuccess: Date?, firstStart: Date?, now: Date, maxAge: Duration) -> Bool {
        guard let since = lastSuccess ?? firstStart else { return false }
        return now.timeIntervalSince(since) > Double(maxAge.components.seconds)
    }
}
