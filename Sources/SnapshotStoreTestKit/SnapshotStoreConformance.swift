import ConnectorCore
import Foundation
import SyncCore

/// Checks that a ``SnapshotStore`` keeps the contract the sync engine relies on, the same cases
/// for every store: the in-memory one the engine tests use, SQLite and PostgreSQL.
///
///     @Test func conformance() async throws {
///         try await SnapshotStoreConformance(store: { try openAFreshJob() }, again: { try openTheSameJob() })
///             .verify()
///     }
///
/// The rules:
/// - **Journal**: entries come back in the order added, with their updates (and what each
///   replaces) and import id; a commit that resolves an entry forgets it in the same call.
/// - **People**: what is committed reads back (fields, termination); the index is in the byte
///   order of the ids; a commit clears `missing_since`; a row's `replacing` ids are removed with it.
/// - **Unconfirmed**: ``SnapshotStore/markUnconfirmed(_:resolving:)`` gives each row the
///   unconfirmed fingerprint, no termination, its fields, and keeps when it went missing; people
///   not held yet are added.
/// - **History**: within a run (and only then) each change is an event of the right kind, with
///   the import of the journal entry it resolved; runs beyond `keep` go with their events, events
///   beyond `keepEvents` go oldest first; a run never finished is `interrupted` once another begins.
/// - **Locking**: while one writer is open, a second writer of the same job is refused (`locked`).
public struct SnapshotStoreConformance: Sendable {
    /// A store open for writing, with its history.
    public typealias Store = any SnapshotStore

    /// Makes a fresh, empty store of a job of its own, open for writing; called once per case.
    public var makeStore: @Sendable () async throws -> Store
    /// Opens the last store made again for writing, as a second run would: must be refused.
    public var openAgain: (@Sendable () async throws -> any SnapshotStore)?

    /// Creates the check.
    /// - Parameters:
    ///   - store: makes a fresh, empty store open for writing.
    ///   - again: opens the store last made once more for writing (`nil` for a store without locks).
    public init(
        store: @escaping @Sendable () async throws -> Store,
        again: (@Sendable () async throws -> any SnapshotStore)? = nil
    ) {
        makeStore = store
        openAgain = again
    }

    /// A broken rule, or several.
    public struct Failure: Error, CustomStringConvertible {
        /// What was wrong, one rule a line.
        public var problems: [String]
        public var description: String { problems.joined(separator: "\n") }
    }

    /// Runs every case.
    /// - Throws: ``Failure`` listing every rule broken, or what a case threw.
    public func verify() async throws {
        var problems: [String] = []
        func check(_ condition: Bool, _ rule: String) { if !condition { problems.append(rule) } }
        try await journal(check)
        try await people(check)
        try await unconfirmed(check)
        try await history(check)
        try await bounds(check)
        try await locking(check)
        if !problems.isEmpty { throw Failure(problems: problems) }
    }

    /// A row of `email` and `ssn` (sensitive, so stored as a digest), as the engine would record it.
    public static func update(
        _ id: String, key: SnapshotKey, ssn: String = "123-45-6789", terminated: String? = nil,
        replacing: [String] = []
    ) -> SnapshotUpdate {
        let layout = RowLayout(fields: ["email", "ssn"], catalog: FieldCatalog())
        var fingerprinter = Fingerprinter(key: key, layout: layout)
        let row: [String?] = ["\(id)@example.com", ssn]
        return SnapshotUpdate(
            sourceID: id, fingerprint: fingerprinter.fingerprint(row), fields: key.storedFields(row, layout: layout),
            terminatedAt: terminated, replacing: replacing)
    }

    private typealias Check = (Bool, String) -> Void

    private func journal(_ check: Check) async throws {
        let store = try await makeStore()
        let key = store.key
        let moved = Self.update("new", key: key, replacing: ["old"])
        try await store.commit([Self.update("old", key: key)])
        try await store.addJournalEntry(
            JournalEntry(key: "key-1", createdAt: Date(timeIntervalSince1970: 1_800_000_000), updates: [moved]))
        try await store.addJournalEntry(
            JournalEntry(key: "key-2", createdAt: Date(timeIntervalSince1970: 1_800_000_001), updates: []))
        try await store.setImportID("imp-9", forJournalKey: "key-1")
        let entries = try await store.journalEntries()
        check(entries.map(\.key) == ["key-1", "key-2"], "journal: entries come back in the order added")
        check(entries.first?.importID == "imp-9", "journal: an entry keeps the import id it was given")
        check(entries.first?.updates == [moved], "journal: an entry keeps its updates and what each replaces")
        try await store.commit([moved], resolving: "key-1")
        check(
            try await store.journalEntries().map(\.key) == ["key-2"], "journal: a commit forgets the entry it resolves")
        check(try await store.index().ids == ["new"], "people: a row's replacing ids go in the commit that records it")
        try await store.removeJournalEntry("key-2")
        check(try await store.journalEntries().isEmpty, "journal: an entry removed is gone")
    }

    private func people(_ check: Check) async throws {
        let store = try await makeStore()
        let key = store.key
        let ids = ["b", "a", "É", "Z", "a1"]
        try await store.commit(
            ids.map { Self.update($0, key: key) } + [
                Self.update("t", key: key, terminated: "2026-01-01 00:00:00 UTC")
            ])
        let index = try await store.index()
        check(
            index.ids == (ids + ["t"]).sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) },
            "people: the index is in the byte order of the ids (got \(index.ids))")
        check(
            index["t"]?.terminated == true && index["a"]?.terminated == false,
            "people: the index says who is terminated")
        check(index["a"]?.fingerprint == Self.update("a", key: key).fingerprint, "people: fingerprints read back")
        let read = try await store.people(["a", "t", "nobody"])
        check(read["a"]?.fields == Self.update("a", key: key).fields, "people: fields read back as committed")
        check(read["t"]?.terminatedAt == "2026-01-01 00:00:00 UTC", "people: a termination reads back")
        check(read["nobody"] == nil && read.count == 2, "people: an id the store does not hold is left out")
        try await store.setMissing(["a", "nobody"], since: Date(timeIntervalSince1970: 1_800_000_000))
        check(
            try await store.index()["a"]?.missingSince == Date(timeIntervalSince1970: 1_800_000_000),
            "people: setMissing records when a person went missing")
        try await store.commit([Self.update("a", key: key)])
        check(try await store.index()["a"]?.missingSince == nil, "people: a commit clears missing_since")
        try await store.setMissing(["b"], since: Date())
        try await store.setMissing(["b"], since: nil)
        check(try await store.index()["b"]?.missingSince == nil, "people: setMissing(nil) clears it")

        // A change read's part of the index: the listed, the missing, the terminated, the unconfirmed.
        try await store.setMissing(["Z"], since: Date(timeIntervalSince1970: 1_800_000_000))
        try await store.markUnconfirmed([Self.update("a1", key: key)], resolving: nil)
        let part = try await store.changeReadIndex(for: ["É", "nobody"])
        check(
            Set(part.index.ids) == ["É", "Z", "a1", "t"] && part.active == 5,
            "people: a change read's index holds the listed, missing, unconfirmed and terminated, and counts "
                + "who is not terminated (got \(part.index.ids.sorted()), \(part.active))")
        check(part.index["Z"]?.missingSince != nil && part.index["t"]?.terminated == true, "people: with their state")
    }

    private func unconfirmed(_ check: Check) async throws {
        let store = try await makeStore()
        let key = store.key
        let since = Date(timeIntervalSince1970: 1_800_000_000)
        try await store.commit([
            Self.update("gone", key: key, terminated: "2026-01-01 00:00:00 UTC"), Self.update("kept", key: key),
        ])
        try await store.setMissing(["kept"], since: since)
        let rows = ["gone", "kept", "fresh"].map { Self.update($0, key: key, ssn: "987-65-4321") }
        try await store.addJournalEntry(JournalEntry(key: "u", createdAt: Date(), updates: rows))
        try await store.markUnconfirmed(rows, resolving: "u")
        let index = try await store.index()
        check(try await store.journalEntries().isEmpty, "unconfirmed: the entry is forgotten in the same call")
        check(index.ids == ["fresh", "gone", "kept"], "unconfirmed: people not held yet are added")
        for id in ["fresh", "gone", "kept"] {
            check(
                index[id]?.fingerprint == .unconfirmed && index[id]?.terminated == false,
                "unconfirmed: \(id) has the unconfirmed fingerprint and no termination")
        }
        check(index["kept"]?.missingSince == since, "unconfirmed: when a person went missing is kept")
        check(
            try await store.people(["fresh"])["fresh"]?.fields == rows[2].fields,
            "unconfirmed: the rows' fields are kept")
    }

    private func history(_ check: Check) async throws {
        let store = try await makeStore()
        let key = store.key
        try await store.commit([Self.update("before", key: key)])
        check(try await store.events(of: "before").isEmpty, "history: outside a run nothing is recorded")
        try await store.beginRun(RunRecord(id: "run1", command: .sync))
        try await store.addJournalEntry(JournalEntry(key: "k1", importID: "imp-1", createdAt: Date(), updates: []))
        try await store.commit([Self.update("E1", key: key), Self.update("E2", key: key)], resolving: "k1")
        try await store.commit([Self.update("E1", key: key, ssn: "987-65-4321")])
        try await store.commit([Self.update("E2", key: key, terminated: "2026-01-01 00:00:00 UTC")])
        try await store.commit([Self.update("E2", key: key)])
        try await store.commit([Self.update("E3", key: key, replacing: ["E1"])])
        try await store.setMissing(["E3", "nobody"], since: Date())
        try await store.setMissing(["E3"], since: nil)
        try await store.markUnconfirmed([Self.update("E2", key: key)], resolving: nil)
        var run = RunRecord(id: "run1", command: .sync)
        run.status = "completed"
        run.finishedAt = Date()
        var read = SourceRead(kind: .changes, reason: "dirsync changes since …", entries: 3)
        read.position = ChangeFeedPosition(feed: "dirsync", server: "CN=DC1", cookie: "TVNEUwM=")
        read.settingsDigest = "d1"
        read.version = "1.2.3"
        read.fullReadAt = Date(timeIntervalSince1970: 1_800_000_000)
        read.reread = ["E5"]
        run.read = read
        try await store.finishRun(run, keep: 10, keepEvents: 1000)
        check(
            try await store.runs(limit: 1).first?.read == read,
            "history: a run keeps how it read its source, with the change feed's position")
        let e1 = try await store.events(of: "E1")
        check(e1.map(\.kind) == [.created, .updated, .rekeyedAway], "history: E1's events are \(e1.map(\.kind))")
        check(e1.first?.importID == "imp-1" && e1.first?.runID == "run1", "history: an event names its run and import")
        check(e1.dropFirst().first?.fields == ["ssn"], "history: a sensitive field is named, compared by digest")
        check(e1.last?.otherID == "E3", "history: a re-key's old id names the new one")
        let e2 = try await store.events(of: "E2").map(\.kind)
        check(e2 == [.created, .terminated, .rehired, .unconfirmed], "history: E2's events are \(e2)")
        let e3 = try await store.events(of: "E3")
        check(
            e3.map(\.kind) == [.rekeyed, .missing, .returned] && e3.first?.otherID == "E1",
            "history: E3's events are \(e3.map(\.kind))")
        check(try await store.events(of: "nobody").isEmpty, "history: nobody's events are recorded for an unknown id")
        check(try await store.lastSuccess()?.id == "run1", "history: the last success is the completed run")

        try await store.beginRun(RunRecord(id: "run2", command: .sync, startedAt: Date().addingTimeInterval(1)))
        try await store.commit([Self.update("E4", key: key)])
        try await store.beginRun(RunRecord(id: "run3", command: .sync, startedAt: Date().addingTimeInterval(2)))
        var third = RunRecord(id: "run3", command: .sync, startedAt: Date().addingTimeInterval(2))
        third.status = "failed"
        third.finishedAt = Date().addingTimeInterval(3)
        try await store.finishRun(third, keep: 2, keepEvents: 1000)
        let runs = try await store.runs(limit: 10)
        check(runs.map(\.id) == ["run3", "run2"], "history: runs beyond keep go (kept \(runs.map(\.id)))")
        check(runs.map(\.status) == ["failed", "interrupted"], "history: a run never finished is interrupted")
        check(try await store.events(of: "E1").isEmpty, "history: a forgotten run's events go with it")
        check(try await store.events(of: "E4").count == 1, "history: a kept run's events stay")
        check(try await store.lastSuccess() == nil, "history: a forgotten success is no longer the last")
        let health = try await store.health()
        check(
            health.people == 4 && health.journalPending == 0 && health.terminated == 0,
            "history: health counts \(health)")
    }

    private func bounds(_ check: Check) async throws {
        let store = try await makeStore()
        let key = store.key
        for night in 1...3 {
            let id = "night\(night)"
            let started = Date().addingTimeInterval(Double(night))
            try await store.beginRun(RunRecord(id: id, command: .full, startedAt: started))
            try await store.commit((0..<20).map { Self.update("P\($0)", key: key, ssn: "00\(night)-45-6789") })
            var run = RunRecord(id: id, command: .full, startedAt: started)
            run.status = "completed"
            run.finishedAt = started
            try await store.finishRun(run, keep: 10, keepEvents: 30)
        }
        check(try await store.runs(limit: 10).count == 3, "bounds: keepEvents forgets events, not runs")
        let events = try await store.events(of: "P1")
        check(events.map(\.runID) == ["night3"], "bounds: the oldest events go first (P1 keeps \(events.map(\.runID)))")
        check(try await store.events(of: "P15").count == 2, "bounds: the newest 30 events stay")
    }

    private func locking(_ check: Check) async throws {
        guard let openAgain else { return }
        let first = try await makeStore()
        do {
            _ = try await openAgain()
            check(false, "locking: a second writer of the job opened while the first is open")
        } catch let error as SyncError {
            check(error.kind == .locked, "locking: a second writer is refused as locked, not \(error.kind)")
        }
        withExtendedLifetime(first) {}
    }
}
