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

    // MARK: Building rows

    /// A row to send and the snapshot state it gets when accepted.
    struct Outgoing: Sendable {
        enum Kind: String { case create, update, terminate }
        var kind: Kind
        var row: ImportRow
        var update: SnapshotUpdate
        /// The emails and employee ids an update's person had before, where the row changes them
        /// (`email:old@example.com`): the API could still match them on those (see ``claims(of:matchedOn:)``).
        var formerKeys: [String] = []
    }

    /// What the API could match a batch's rows on, before and after: their source ids (and those
    /// they re-key), each email (lower-cased) and employee id they send, and their former ones.
    static func claims(of batch: [Outgoing], matchedOn: [String]) -> Set<String> {
        var claims = Set<String>()
        for item in batch {
            claims.insert("id:" + item.update.sourceID)
            for id in item.update.replacing { claims.insert("id:" + id) }
            for field in item.row.fields where matchedOn.contains(field.name) {
                if let value = field.value { claims.insert(Self.key(field.name, value)) }
            }
            claims.formUnion(item.formerKeys)
        }
        return claims
    }

    /// A claim on a matched field's value.
    static func key(_ field: String, _ value: String) -> String { field + ":" + value.lowercased() }

    /// The change set as batches: upserts, and terminations in batches of their own
    /// (so a CSV body never has cells that would clear an unsent field). Everyone
    /// upserted is present in the source, so every such row clears `terminated_at`
    /// (unless the job maps it): a create can land on a terminated record (a rehire,
    /// a reused email, an id the API matches otherwise) and must leave the person live.
    func outgoing(_ changes: ChangeSet, now: Date) -> (upserts: [[Outgoing]], terminations: [[Outgoing]]) {
        let layout = changes.layout
        let key = changes.key
        let catalog = layout.catalog
        let clearsTermination = layout.position(of: catalog.terminatedAt) == nil
        let matchedOn = catalog.email + [catalog.employeeID]
        /// The values an update changes of those the API matches on, as they were.
        func formerKeys(_ fields: [ImportRow.Field], _ previous: [String: String]) -> [String] {
            matchedOn.compactMap { name in
                guard let old = previous[name], fields.first(where: { $0.name == name })?.value != old else {
                    return nil
                }
                return Self.key(name, old)
            }
        }
        func upsert(_ row: PlannedRow, kind: Outgoing.Kind, previous: [String: String] = [:]) -> Outgoing {
            var fields = row.values.indices.compactMap { i -> ImportRow.Field? in
                // A create leaves out what it does not have; an update clears it.
                guard kind != .create || row.values[i] != nil else { return nil }
                return ImportRow.Field(layout.fields[i], row.values[i])
            }
            if clearsTermination { fields.append(ImportRow.Field(catalog.terminatedAt, nil)) }
            return Outgoing(
                kind: kind, row: ImportRow(fields), update: snapshotUpdate(of: row, layout: layout, key: key),
                formerKeys: previous.isEmpty ? [] : formerKeys(fields, previous))
        }
        var upserts = changes.creates.map { upsert($0, kind: .create) }
        upserts += changes.updates.map { upsert($0.row, kind: .update, previous: $0.previous.fields) }
        var terminations: [Outgoing] = []
        if policy.removals.action == .terminate {
            let when = Timestamps.api(now)
            for removal in changes.removals {
                var fields = catalog.identity.compactMap { name -> ImportRow.Field? in
                    guard let value = removal.person.fields[name], !catalog.sensitive.contains(name) else { return nil }
                    return ImportRow.Field(name, value)
                }
                let terminatedAt = removal.terminatedAt ?? when
                fields.append(ImportRow.Field(catalog.terminatedAt, terminatedAt))
                terminations.append(
                    Outgoing(
                        kind: .terminate, row: ImportRow(fields),
                        update: SnapshotUpdate(
                            sourceID: removal.person.sourceID, fingerprint: removal.fingerprint,
                            fields: removal.person.fields, terminatedAt: terminatedAt),
                        formerKeys: formerKeys(fields, removal.person.fields)))
            }
        }
        return (Self.releaseOrder(upserts, matchedOn: matchedOn).flatMap(chunks), chunks(terminations))
    }

    /// Upserts in layers: a row that takes an email or employee id another row of the run gives up
    /// comes in a later layer than that row. Each layer is batched apart, so the taker's batch is
    /// later in plan order and shares a claim with the giver's, and waits for it to end
    /// (``InFlightImports``): sent first, it would be refused as "already taken", or matched by the
    /// API to the giver. A cycle (two people swapping addresses) keeps plan order past eight layers.
    static func releaseOrder(_ rows: [Outgoing], matchedOn: [String]) -> [[Outgoing]] {
        var givers: [String: [Int]] = [:]
        for (i, row) in rows.enumerated() { for key in row.formerKeys { givers[key, default: []].append(i) } }
        guard !givers.isEmpty else { return [rows] }
        let waitsFor: [[Int]] = rows.enumerated().map { i, row in
            row.row.fields.flatMap { field -> [Int] in
                guard matchedOn.contains(field.name), let value = field.value else { return [] }
                return (givers[key(field.name, value)] ?? []).filter { $0 != i }
            }
        }
        var layer = [Int](repeating: 0, count: rows.count)
        for _ in 0..<8 {
            var moved = false
            for i in rows.indices {
                let needed = waitsFor[i].map { layer[$0] + 1 }.max() ?? 0
                if needed > layer[i] && needed < 8 {
                    layer[i] = needed
                    moved = true
                }
            }
            if !moved { break }
        }
        let count = (layer.max() ?? 0) + 1
        var layers = [[Outgoing]](repeating: [], count: count)
        for (i, row) in rows.enumerated() { layers[layer[i]].append(row) }
        return layers
    }

    /// The snapshot state a row gets once accepted.
    private func snapshotUpdate(of row: PlannedRow, layout: RowLayout, key: SnapshotKey) -> SnapshotUpdate {
        SnapshotUpdate(
            sourceID: row.sourceID, fingerprint: row.fingerprint,
            fields: key.storedFields(row.values, layout: layout), replacing: row.replacing)
    }

    private func chunks(_ rows: [Outgoing]) -> [[Outgoing]] {
        stride(from: 0, to: rows.count, by: batchSize).map { Array(rows[$0..<min($0 + batchSize, rows.count)]) }
    }

    // MARK: Sending

    /// Journals a batch, submits it under a key of its own, waits for the import to end,
    /// and records what the API applied. A batch the API refuses as too large is sent
    /// again in halves; one it refuses for good (400, 409, 422) is reported row by row,
    /// so one bad batch never blocks the rest of the run, or every run after it.
    private func send(
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

    // MARK: Settling an interrupted run

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
