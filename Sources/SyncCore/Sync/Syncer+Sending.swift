import ConnectorCore
import Foundation

/// Sending one batch: journal, submit, wait, judge the answer, commit what was applied.
extension Syncer {
    /// Journals a batch, submits it under a key of its own, waits for the import to end,
    /// and records what the API applied. A batch the API refuses as too large is sent
    /// again in halves; one it refuses for good (400, 409, 422) is reported row by row,
    /// so one bad batch never blocks the rest of the run, or every run after it.
    func send(
        _ batch: ArraySlice<Outgoing>, store: some SnapshotStore, service: some ImportService, tally: inout Tally
    ) async throws {
        let key = UUID().uuidString.lowercased()
        try await store.addJournalEntry(JournalEntry(key: key, createdAt: Date(), updates: batch.map(\.update)))
        FailPoint.hit("after-journal")
        let submitted: SubmittedImport
        do {
            submitted = try await service.submit(batch.map(\.row), idempotencyKey: key)
        } catch let error as SyncError where error.kind == .refused || error.kind == .tooLarge {
            // Nothing of it was applied: the snapshot already says so.
            try await store.removeJournalEntry(key)
            if batch.count > 1 && error.kind == .tooLarge {
                logger.notice("the API refused \(batch.count) rows as too large; sending them in halves")
                let half = batch.startIndex + batch.count / 2
                try await send(batch[..<half], store: store, service: service, tally: &tally)
                try await send(batch[half...], store: store, service: service, tally: &tally)
                return
            }
            for item in batch { tally.reject(item, field: nil, "the API refused the import: \(error.message)") }
            return
        } catch let error as SyncError where error.kind == .unconfirmed {
            // An earlier attempt may have been applied: its people are sent again next run, never dropped.
            try await store.markUnconfirmed(batch.map(\.update), resolving: key)
            logger.warning("\(error.message); its \(batch.count) people are sent again next run")
            for item in batch { tally.reject(item, field: nil, "not confirmed: \(error.message); sent again next run") }
            return
        }
        try await store.setImportID(submitted.id, forJournalKey: key)
        tally.importsSent += 1
        logger.info(
            "submitted \(batch.count) rows as import \(submitted.id)",
            metadata: ["import": "\(submitted.id)", "batch_rows": "\(batch.count)"])
        FailPoint.hit("after-submit")
        let outcome = try await service.outcome(of: submitted.id)
        FailPoint.hit("after-complete")
        let rows = Array(batch)
        switch Self.judge(outcome, rows: rows.count) {
        case .failed(let message):
            try await store.removeJournalEntry(key)
            for item in rows { tally.reject(item, field: nil, "the import failed: \(message)") }
        case .unconfirmed(let reason):
            try await store.markUnconfirmed(rows.map(\.update), resolving: key)
            logger.warning(
                "import \(submitted.id) could not be confirmed (\(reason)); its \(rows.count) people are sent again next run"
            )
            for item in rows { tally.reject(item, field: nil, "not confirmed: \(reason); sent again next run") }
        case .completed(let errors, _):
            let rejectedRows = Dictionary(grouping: errors, by: \.row)
            var accepted: [SnapshotUpdate] = []
            for (i, item) in rows.enumerated() {
                if let problems = rejectedRows[i] {
                    for problem in problems { tally.reject(item, field: problem.field, problem.message) }
                    continue
                }
                accepted.append(item.update)
                tally.count(item.kind)
            }
            try await store.commit(accepted, resolving: key)
            FailPoint.hit("after-commit")
        }
    }

    /// An outcome checked against the request it answers: per-row errors that name no
    /// row of it, or a row count other than the rows sent, make the whole answer
    /// unconfirmed. Nothing of an answer that cannot be fully understood is accepted.
    static func judge(_ outcome: ImportOutcome, rows: Int) -> ImportOutcome {
        guard case .completed(let errors, let rowCount) = outcome else { return outcome }
        if let rowCount, rowCount != rows {
            return .unconfirmed(reason: "the API counted \(rowCount) rows in an import of \(rows)")
        }
        if let stray = errors.first(where: { !(0..<rows).contains($0.row) }) {
            return .unconfirmed(reason: "a row error names row \(stray.row) of an import of \(rows) rows")
        }
        return outcome
    }
}

extension Syncer {
    /// What the API did with the rows of one batch.
    struct Tally: Sendable {
        var created = 0, updated = 0, terminated = 0
        var importsSent = 0
        var rejected: [SyncReport.Rejection] = []

        /// Counts a row the API applied.
        mutating func count(_ kind: Outgoing.Kind) {
            switch kind {
            case .create: created += 1
            case .update: updated += 1
            case .terminate: terminated += 1
            }
        }

        /// Lists a row the API did not apply.
        mutating func reject(_ item: Outgoing, field: String?, _ message: String) {
            rejected.append(
                .init(sourceID: item.update.sourceID, action: item.kind.rawValue, field: field, message: message))
        }
    }
}

extension SyncReport {
    /// Adds what one batch did.
    mutating func add(_ tally: Syncer.Tally) {
        created += tally.created
        updated += tally.updated
        terminated += tally.terminated
        importsSent += tally.importsSent
        rejected += tally.rejected
    }
}
