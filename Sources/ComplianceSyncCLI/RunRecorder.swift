import Foundation
import Logging
import SyncCore

/// Records a writing run in its snapshot store's history, for `status` and `history`.
struct RunRecorder {
    let store: any SnapshotStore
    let run: RunRecord
    let job: JobConfiguration
    let logger: Logger

    /// Records that the run starts. A store that cannot record it cannot record the run's people either:
    /// the run fails before anything is sent.
    func begin() async throws {
        try await store.beginRun(run)
    }

    /// Records how the run ended, forgets runs beyond `history.keep`, and tells the report when the job
    /// last succeeded and whether it is stale. A failure to record is logged; the run's outcome stands.
    func finish(_ report: inout SyncReport) async {
        var run = run
        run.finish(with: report)
        do {
            try await store.finishRun(run, keep: job.historyKeep, keepEvents: job.historyKeepEvents)
            guard let history = store as? any RunHistoryReader else { return }
            let status = try await JobStatus.read(
                history, job: job.snapshot.job, maxAge: job.staleAfter, counts: false)
            report.lastSuccessAt = status.lastSuccess.map { $0.finishedAt ?? $0.startedAt }
            report.stale = !report.completed && status.isStale
        } catch {
            logger.error("cannot record run \(run.id) in the history of \(store.description): \(error)")
        }
    }
}
