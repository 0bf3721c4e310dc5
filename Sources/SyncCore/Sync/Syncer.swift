import Foundation
import Logging

/// A whole sync: settle what an interrupted run left, plan, guard, submit the
/// changes in batches, and advance the snapshot by exactly what the API accepted.
///
/// Every batch is journaled before it is sent, with the state each row will
/// have in the snapshot; its accepted rows are committed, and its journal
/// entry forgotten, in one transaction. A run killed at any instant therefore
/// leaves the snapshot as it was before some batch or after it, and the next
/// run confirms journaled imports with the API before sending anything new.
public struct Syncer: Sendable {
    /// Reads, maps, validates and diffs.
    public var planner: Planner
    /// Rows per import request.
    public var batchSize: Int
    /// Where messages go.
    public var logger: Logger

    /// Creates a sync engine.
    public init(planner: Planner, batchSize: Int, logger: Logger) {
        self.planner = planner
        self.batchSize = max(1, batchSize)
        self.logger = logger
    }

    /// Runs one sync.
    /// - Parameters:
    ///   - source: where people come from.
    ///   - store: the job's snapshot, opened for writing (its lock held).
    ///   - service: where imports go.
    ///   - job: the job's name, for the report.
    ///   - full: send every current person, whatever the snapshot says.
    ///   - allowMassRemoval: lift the removal guards.
    ///   - now: the run's time (`terminated_at`, grace periods).
    /// - Returns: the report; rows the API rejected are in it, not thrown.
    /// - Throws: ``SyncError`` when the source fails, a guard stops the run (nothing sent),
    ///   or the API fails beyond its retries (what was accepted so far is kept).
    public func run(
        source: some UserSource, store: some SnapshotStore, service: some ImportService, job: String,
        full: Bool = false, allowMassRemoval: Bool = false, now: Date = Date()
    ) async throws -> SyncReport {
        var report = SyncReport(job: job, source: source.description, startedAt: Date(), finishedAt: Date())
        report.full = full
        let journal = try await store.journalEntries()
        for entry in journal where entry.importID != nil {
            try await settle(entry, outcome: try await service.outcome(of: entry.importID!), store: store)
            report.settled += 1
        }
        var changes = try await planner.plan(source: source, snapshot: store, now: now, resendUnchanged: full)
        for entry in journal where entry.importID == nil {
            try await resubmit(entry, changes: &changes, store: store, service: service)
            report.settled += 1
        }
        if let stopped = RemovalGuard.check(changes, policy: planner.removals, allowMassRemoval: allowMassRemoval) {
            throw stopped
        }
        report.records = changes.recordsRead
        report.unchanged = changes.unchanged
        report.invalid = changes.invalid
        report.warnings = changes.warnings
        report.waiting = changes.waiting.map(\.person.sourceID)

        let batches = outgoing(changes, now: now)
        for batch in batches {
            try await send(batch, store: store, service: service, report: &report)
        }
        let newlyMissing = (changes.waiting + (planner.removals.action == .report ? changes.removals : []))
            .filter { $0.person.missingSince == nil }.map(\.person.sourceID)
        try await store.setMissing(newlyMissing, since: now)
        try await store.setMissing(changes.returned, since: nil)
        if planner.removals.action == .report { report.reportedGone = changes.removals.map(\.person.sourceID) }
        report.finishedAt = Date()
        return report
    }

    // MARK: Building rows

    /// A row to send and the snapshot state it gets when accepted.
    struct Outgoing {
        enum Kind: String { case create, update, terminate }
        var kind: Kind
        var row: ImportRow
        var update: SnapshotUpdate
    }

    /// The change set as batches: upserts first, terminations in batches of their own
    /// (so a CSV body never has cells that would clear an unsent field).
    func outgoing(_ changes: ChangeSet, now: Date) -> [[Outgoing]] {
        let layout = changes.layout
        let key = changes.key
        var upserts: [Outgoing] = []
        for row in changes.creates {
            let fields = row.values.indices.compactMap { i in
                row.values[i].map { ImportRow.Field(layout.fields[i], $0) }
            }
            upserts.append(Outgoing(
                kind: .create, row: ImportRow(fields),
                update: SnapshotUpdate(sourceID: row.sourceID, fingerprint: row.fingerprint,
                                       fields: key.storedFields(row.values, layout: layout))))
        }
        for update in changes.updates {
            var fields = update.row.values.indices.map { ImportRow.Field(layout.fields[$0], update.row.values[$0]) }
            let terminatedAt = layout.catalog.terminatedAt
            if update.previous.terminatedAt != nil, layout.position(of: terminatedAt) == nil {
                fields.append(ImportRow.Field(terminatedAt, nil))
            }
            upserts.append(Outgoing(
                kind: .update, row: ImportRow(fields),
                update: SnapshotUpdate(sourceID: update.row.sourceID, fingerprint: update.row.fingerprint,
                                       fields: key.storedFields(update.row.values, layout: layout))))
        }
        var terminations: [Outgoing] = []
        if planner.removals.action == .terminate {
            let when = Timestamps.api(now)
            for removal in changes.removals {
                let catalog = layout.catalog
                var fields = catalog.identity.compactMap { name -> ImportRow.Field? in
                    guard let value = removal.person.fields[name], !catalog.sensitive.contains(name) else { return nil }
                    return ImportRow.Field(name, value)
                }
                fields.append(ImportRow.Field(catalog.terminatedAt, when))
                terminations.append(Outgoing(
                    kind: .terminate, row: ImportRow(fields),
                    update: SnapshotUpdate(sourceID: removal.person.sourceID, fingerprint: removal.fingerprint,
                                           fields: removal.person.fields, terminatedAt: when)))
            }
        }
        return chunks(upserts) + chunks(terminations)
    }

    private func chunks(_ rows: [Outgoing]) -> [[Outgoing]] {
        stride(from: 0, to: rows.count, by: batchSize).map { Array(rows[$0..<min($0 + batchSize, rows.count)]) }
    }

    // MARK: Sending

    private func send(
        _ batch: [Outgoing], store: some SnapshotStore, service: some ImportService, report: inout SyncReport
    ) async throws {
        let key = UUID().uuidString.lowercased()
        try await store.addJournalEntry(JournalEntry(key: key, createdAt: Date(), updates: batch.map(\.update)))
        FailPoint.hit("after-journal")
        let submitted = try await service.submit(batch.map(\.row), idempotencyKey: key)
        try await store.setImportID(submitted.id, forJournalKey: key)
        report.importsSent += 1
        logger.info("submitted \(batch.count) rows as import \(submitted.id)")
        FailPoint.hit("after-submit")
        let outcome = try await service.outcome(of: submitted.id)
        FailPoint.hit("after-complete")
        switch outcome {
        case .failed(let message):
            try await store.removeJournalEntry(key)
            for item in batch {
                report.rejected.append(.init(sourceID: item.update.sourceID, action: item.kind.rawValue, field: nil,
                                             message: "the import failed: \(message)"))
            }
        case .completed(let errors):
            let rejectedRows = Dictionary(grouping: errors.filter { batch.indices.contains($0.row) }, by: \.row)
            var accepted: [SnapshotUpdate] = []
            for (i, item) in batch.enumerated() {
                if let problems = rejectedRows[i] {
                    for problem in problems {
                        report.rejected.append(.init(sourceID: item.update.sourceID, action: item.kind.rawValue,
                                                     field: problem.field, message: problem.message))
                    }
                    continue
                }
                accepted.append(item.update)
                switch item.kind {
                case .create: report.created += 1
                case .update: report.updated += 1
                case .terminate: report.terminated += 1
                }
            }
            try await store.commit(accepted, resolving: key)
            FailPoint.hit("after-commit")
        }
    }

    /// The rows of a completed import that the API applied: those without an error.
    static func accepted(_ rows: [SnapshotUpdate], errors: [ImportRowError]) -> [SnapshotUpdate] {
        let rejected = Set(errors.map(\.row))
        return rows.indices.filter { !rejected.contains($0) }.map { rows[$0] }
    }

    // MARK: Settling an interrupted run

    /// Commits what a journaled import that the API answered got applied.
    private func settle(_ entry: JournalEntry, outcome: ImportOutcome, store: some SnapshotStore) async throws {
        switch outcome {
        case .failed:
            try await store.removeJournalEntry(entry.key)
        case .completed(let errors):
            try await store.commit(Self.accepted(entry.updates, errors: errors), resolving: entry.key)
        }
        logger.notice("settled interrupted import \(entry.importID ?? entry.key)")
    }

    /// A journaled submission whose answer never came: send it again with the
    /// same idempotency key. If the API had it, it returns that first import;
    /// if not, this applies it now. Only rows whose content is still what was
    /// journaled are sent; the rest go out with this run's batches. (A
    /// termination carries this run's time, so it never matches its journaled
    /// row and is sent again with a later `terminated_at`: the same person,
    /// terminated once more, which the API treats as an update of the date.)
    private func resubmit(
        _ entry: JournalEntry, changes: inout ChangeSet, store: some SnapshotStore, service: some ImportService
    ) async throws {
        let journaled = Dictionary(entry.updates.map { ($0.sourceID, $0) }, uniquingKeysWith: { first, _ in first })
        let batch = outgoing(changes, now: changes.plannedAt).joined().filter {
            journaled[$0.update.sourceID]?.fingerprint == $0.update.fingerprint
                && journaled[$0.update.sourceID]?.terminatedAt == $0.update.terminatedAt
        }
        guard !batch.isEmpty else {
            logger.warning("""
                an interrupted import (key \(entry.key)) could not be confirmed and none of its \(entry.updates.count) \
                rows is still to be sent as it was; they are sent again as needed
                """)
            try await store.removeJournalEntry(entry.key)
            return
        }
        let submitted = try await service.submit(batch.map(\.row), idempotencyKey: entry.key)
        try await store.setImportID(submitted.id, forJournalKey: entry.key)
        let outcome = try await service.outcome(of: submitted.id)
        let sent = submitted.replayed ? entry.updates : batch.map(\.update)
        var committed: [String: Fingerprint] = [:]
        switch outcome {
        case .failed:
            try await store.removeJournalEntry(entry.key)
        case .completed(let errors):
            let accepted = Self.accepted(sent, errors: errors)
            try await store.commit(accepted, resolving: entry.key)
            for update in accepted { committed[update.sourceID] = update.fingerprint }
        }
        logger.notice("settled interrupted import \(submitted.id) (\(submitted.replayed ? "it had arrived" : "sent again"))")
        let isDone = { (id: String, fingerprint: Fingerprint) in committed[id] == fingerprint }
        changes.creates.removeAll { isDone($0.sourceID, $0.fingerprint) }
        changes.updates.removeAll { isDone($0.row.sourceID, $0.row.fingerprint) }
        changes.removals.removeAll { committed[$0.person.sourceID] != nil && isDone($0.person.sourceID, $0.fingerprint) }
    }
}
