import Foundation
import Logging

/// Records a writing run (`sync`, `baseline`, `journal --resolve`) in its snapshot store's history,
/// for `status` and `history`.
public struct RunRecorder: Sendable {
    /// The store the run writes, whose history it joins.
    public let store: any SnapshotStore
    /// The run, as recorded when it starts.
    public let run: RunRecord
    /// How much history to keep, and when the job is stale.
    public let policy: HistoryPolicy
    /// Where a failure to record is said.
    public let logger: Logger

    /// Creates a recorder.
    public init(store: any SnapshotStore, run: RunRecord, policy: HistoryPolicy, logger: Logger) {
        self.store = store
        self.run = run
        self.policy = policy
        self.logger = logger
    }

    /// Records that the run starts. A store that cannot record it cannot record the run's people either:
    /// the run fails before anything is sent.
    public func begin() async throws {
        try await store.beginRun(run)
    }

    /// Records how the run ended, forgets runs beyond the history's bounds, and tells the report when the
    /// job last succeeded and whether it is stale. A failure to record is logged; the run's outcome stands.
    public func finish(_ report: inout SyncReport) async {
        var run = run
        run.finish(with: report)
        do {
            try await store.finishRun(run, keep: policy.keep, keepEvents: policy.keepEvents)
            report.lastSuccessAt = try await store.lastSuccess().map { $0.finishedAt ?? $0.startedAt }
            let firstStart = try await store.runs(limit: 100_000).last?.startedAt
            report.stale =
                !report.completed
                && policy.isStale(lastSuccess: report.lastSuccessAt, firstStart: firstStart, now: report.finishedAt)
        } catch {
            logger.error("cannot record run \(run.id) in the history of \(store.description): \(error)")
        }
    }
}
