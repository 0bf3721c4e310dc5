import ConnectorCore
import Foundation

/// Settling what an interrupted run left in the journal.
extension Syncer {
    /// Settles what earlier runs journaled, before anything new is planned. An import the
    /// API answered is committed as it ended. A submission whose answer never came (the
    /// process died, or every answer was lost) may or may not have been applied, and the
    /// source may have changed since: its people are marked unconfirmed, so that this
    /// run's plan sends each of them in their current state under a new key. (Sending it
    /// again under its own key could meet a different body the API already holds.)
    public func settleJournal(store: some SnapshotStore, service: some ImportService, report: inout SyncReport)
        async throws
    {
        for entry in try await store.journalEntries() {
            guard let importID = entry.importID else {
                try await store.markUnconfirmed(entry.updates, resolving: entry.key)
                logger.warning(
                    """
                    an interrupted submission (key \(entry.key), \(entry.updates.count) rows) was never confirmed; \
                    its people are sent again in their current state
                    """)
                report.settled += 1
                continue
            }
            let outcome: ImportOutcome
            do {
                outcome = try await service.outcome(of: importID)
            } catch let error as SyncError where error.kind == .api {
                // An answer the run cannot use: the entry stays for the next run, and only its people
                // wait; the rest of the run goes on (one unreadable import never blocks every later run).
                let people = entry.updates.flatMap { [$0.sourceID] + $0.replacing }
                report.unsettled.formUnion(people)
                report.warnings.append(
                    "import \(importID) of an earlier run (journal key \(entry.key)) could not be read "
                        + "(\(error.message)); its \(entry.updates.count) people wait for it and are not sent this run. "
                        + "If the API can no longer answer for it, `journal --unconfirm \(entry.key)` settles it by hand"
                )
                continue
            }
            switch Self.judge(outcome, rows: entry.updates.count) {
            case .failed:
                try await store.removeJournalEntry(entry.key)
            case .unconfirmed(let reason):
                try await store.markUnconfirmed(entry.updates, resolving: entry.key)
                report.warnings.append(
                    "import \(importID) of an earlier run could not be confirmed (\(reason)); its people are sent again"
                )
            case .completed(let errors, _):
                let rejected = Set(errors.map(\.row))
                try await store.commit(
                    entry.updates.indices.filter { !rejected.contains($0) }.map { entry.updates[$0] },
                    resolving: entry.key)
            }
            logger.notice("settled interrupted import \(importID)")
            report.settled += 1
        }
    }
}
