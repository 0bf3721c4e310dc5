import ConnectorCore
import Foundation
import GRDB
import JobConfig
import SnapshotStoreTestKit
import SyncCore
import Testing

@testable import SQLiteSnapshotStore

@Suite struct SQLiteSnapshotStoreTests {
    let folder: URL
    let settings: SnapshotSettings

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("snap-\(UUID())")
        settings = SnapshotSettings(job: "test", path: folder.appendingPathComponent("state/test.snapshot").path)
    }

    func update(_ id: String, key: SnapshotKey, ssn: String = "123-45-6789", terminated: String? = nil)
        -> SnapshotUpdate
    {
        let layout = RowLayout(fields: ["email", "ssn"], catalog: FieldCatalog())
        var fingerprinter = Fingerprinter(key: key, layout: layout)
        let row: [String?] = ["\(id)@example.com", ssn]
        return SnapshotUpdate(
            sourceID: id, fingerprint: fingerprinter.fingerprint(row),
            fields: key.storedFields(row, layout: layout), terminatedAt: terminated)
    }

    func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
    }

    /// The contract every store keeps (SnapshotStoreTestKit): journal, people, unconfirmed rows,
    /// history and its bounds, locking.
    @Test func keepsTheStoreContract() async throws {
        let root = folder
        defer { try? FileManager.default.removeItem(at: root) }
        let last = LastPath()
        try await SnapshotStoreConformance(
            store: {
                let settings = SnapshotSettings(
                    job: "test", path: root.appendingPathComponent("\(UUID())/test.snapshot").path)
                last.set(settings)
                return try SQLiteSnapshotStore.openForWriting(settings)
            },
            again: { try SQLiteSnapshotStore.openForWriting(last.get()!) }
        ).verify()
    }

    @Test func planOnAMissingSnapshotCreatesNothing() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let reader = try SQLiteSnapshotStore.openForReading(settings)
        #expect(reader is EmptySnapshot)
        #expect(!FileManager.default.fileExists(atPath: folder.path))
    }

    @Test func commitsReadBackAndStayPrivate() async throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try SQLiteSnapshotStore.openForWriting(settings)
        let updates = (0..<1200).map { update("E\($0)", key: store.key) }
        try await store.commit(updates)
        try await store.commit([update("E5", key: store.key, terminated: "2026-01-01 00:00:00 UTC")])
        let index = try await store.index()
        #expect(index.count == 1200)
        #expect(index["E7"]?.fingerprint == updates[7].fingerprint)
        #expect(index["E5"]?.terminated == true && index["E6"]?.terminated == false)
        let people = try await store.people(["E1", "E5", "nobody"])
        #expect(people.count == 2)
        #expect(people["E1"]?.fields["email"] == "E1@example.com")
        #expect(people["E1"]?.fields["ssn"]?.hasPrefix("hmac:") == true)
        #expect(people["E5"]?.terminatedAt == "2026-01-01 00:00:00 UTC")
        try await store.setMissing(["E2"], since: Date(timeIntervalSince1970: 1000))
        #expect(try await store.index()["E2"]?.missingSince == Date(timeIntervalSince1970: 1000))
        try await store.commit([update("E2", key: store.key)])
        #expect(try await store.index()["E2"]?.missingSince == nil)

        #expect(try mode(settings.path) == 0o600)
        #expect(try mode(settings.keyPath) == 0o600)
        #expect(try mode(folder.appendingPathComponent("state").path) == 0o700)
        let bytes =
            try Data(contentsOf: URL(fileURLWithPath: settings.path))
            + ((try? Data(contentsOf: URL(fileURLWithPath: settings.path + "-wal"))) ?? Data())
        #expect(bytes.range(of: Data("123-45-6789".utf8)) == nil)
        #expect(bytes.range(of: Data("123456789".utf8)) == nil)

        let pragmas = try await DatabaseQueue(path: settings.path).read { db in
            (
                try String.fetchOne(db, sql: "PRAGMA journal_mode"),
                try Int.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'schema_version'")
            )
        }
        #expect(pragmas.0 == "wal" && pragmas.1 == SQLiteSnapshotStore.schemaVersion)
    }

    /// The events are bounded by count as well as by runs (nightly `--full` runs add everyone every
    /// night), and the file gives the freed pages back.
    @Test func theHistoryKeepsAtMostSoManyEventsAndReclaimsTheSpace() async throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try SQLiteSnapshotStore.openForWriting(settings)
        for night in 1...4 {
            let id = "run\(night)"
            try await store.beginRun(RunRecord(id: id, command: .full))
            try await store.commit(
                (0..<3000).map { update("E\($0)", key: store.key, ssn: String(format: "%03d-45-6789", night)) })
            var run = RunRecord(id: id, command: .full)
            run.status = "completed"
            run.finishedAt = Date()
            try await store.finishRun(run, keep: 100, keepEvents: 5000)
        }
        #expect(try await store.runs(limit: 10).count == 4, "every run is kept: the bound is on events")
        let events = try await store.events(of: "E1")
        #expect(events.count == 1 && events.first?.runID == "run4", "\(events.map(\.runID))")
        let (count, free, mode) = try await store.queue.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT count(*) FROM events") ?? -1,
                try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? -1,
                try Int.fetchOne(db, sql: "PRAGMA auto_vacuum") ?? -1
            )
        }
        #expect(count == 5000)
        #expect(mode == 2 && free == 0, "incremental, and the freed pages given back: \(mode), \(free)")
    }

    /// A snapshot made before the history tables existed opens, reads an empty history, and gains them.
    @Test func aSnapshotWithoutHistoryGainsIt() async throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            let store = try SQLiteSnapshotStore.openForWriting(settings)
            try await store.commit([update("E1", key: store.key)])
        }
        try await DatabaseQueue(path: settings.path).write { db in
            try db.execute(sql: "DROP TABLE runs; DROP TABLE events")
        }
        let reader = try #require(try SQLiteSnapshotStore.openForReading(settings) as? SQLiteSnapshotStore)
        #expect(try await reader.runs(limit: 5).isEmpty)
        #expect(try await reader.events(of: "E1").isEmpty)
        let store = try SQLiteSnapshotStore.openForWriting(settings)
        try await store.beginRun(RunRecord(id: "r", command: .sync))
        #expect(try await store.runs(limit: 5).map(\.id) == ["r"])
    }

    @Test func readerSeesWhatAWriterCommitted() async throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            let store = try SQLiteSnapshotStore.openForWriting(settings)
            try await store.commit([update("E1", key: store.key)])
        }
        let state = folder.appendingPathComponent("state").path
        let before = try FileManager.default.contentsOfDirectory(atPath: state).sorted()
        let reader = try SQLiteSnapshotStore.openForReading(settings)
        #expect(try await reader.index().ids == ["E1"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: state).sorted() == before)
    }

    @Test func aSecondWriterIsLockedOut() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = try SQLiteSnapshotStore.openForWriting(settings)
        #expect {
            _ = try SQLiteSnapshotStore.openForWriting(settings)
        } throws: { error in
            (error as? SyncError)?.message.contains("another run is using this snapshot") == true
                && (error as? SyncError)?.exitCode == 5
        }
        _ = first
    }

    /// Whoever can write the snapshot decides who is terminated: a folder or file others may change is refused.
    @Test func aSnapshotOthersMayChangeIsRefused() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        _ = try SQLiteSnapshotStore.openForWriting(settings)
        let state = folder.appendingPathComponent("state").path
        func refusal() -> String {
            do {
                _ = try SQLiteSnapshotStore.openForWriting(settings)
                return "opened"
            } catch {
                return (error as? SyncError)?.description ?? "\(error)"
            }
        }
        chmod(state, 0o777)
        #expect(refusal().contains("the snapshot folder \(state) may be changed by other users (mode 777)"))
        #expect(refusal().contains("chmod go-w"))
        chmod(state, 0o700)
        chmod(settings.path, 0o664)
        #expect(refusal().contains("the snapshot file \(settings.path) may be changed by other users"))
        chmod(settings.path, 0o600)
        chown(settings.path, 4242, 4242)
        #expect(refusal().contains("is owned by user id 4242, not by this user"))
        chown(settings.path, geteuid(), getegid())
        #expect(refusal() == "opened")
        // The lock file is never followed through a link.
        let lock = settings.path + ".lock"
        try FileManager.default.removeItem(atPath: lock)
        try FileManager.default.createSymbolicLink(
            atPath: lock, withDestinationPath: folder.appendingPathComponent("elsewhere").path)
        #expect(refusal().contains("cannot open the lock file"))
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("elsewhere").path))
    }

    /// The first run is another process holding the job's lock (flock(1) running `cat`, until its input
    /// closes), as a run holds it: a writer that may wait 0.3 s gives up saying so; one that may wait
    /// 30 s opens once the holder lets go. (In-process, the first store's release waited on its deinit,
    /// which a loaded run once delayed past the 30 s; a holder on a timer can end before a starved test looks.)
    @Test func aWriterToldToWaitWaitsForTheFirst() async throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(
            at: folder.appendingPathComponent("state"), withIntermediateDirectories: true)
        let lock = settings.path + ".lock"
        let input = Pipe()
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        holder.arguments = ["-x", lock, "cat"]
        holder.standardInput = input
        holder.standardOutput = FileHandle.nullDevice
        holder.standardError = FileHandle.nullDevice
        try holder.run()
        defer { holder.terminate() }
        let deadline = Date().addingTimeInterval(60)
        while SnapshotLock.isHeld(path: lock) != true && Date() < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(SnapshotLock.isHeld(path: lock) == true, "flock holds the lock")
        var patient = settings
        patient.lockWait = .milliseconds(300)
        let started = Date()
        #expect {
            _ = try SQLiteSnapshotStore.openForWriting(patient)
        } throws: { error in
            String(describing: error).contains("after waiting 0.3 seconds") && Date().timeIntervalSince(started) >= 0.25
        }
        patient.lockWait = .seconds(30)
        // The wait blocks its thread: on a dispatch thread, not one of the few the test's tasks share.
        let waiting = Task { [patient] in
            try await withCheckedThrowingContinuation { (opened: CheckedContinuation<Date, any Error>) in
                DispatchQueue.global().async {
                    opened.resume(
                        with: Result {
                            _ = try SQLiteSnapshotStore.openForWriting(patient)
                            return Date()
                        })
                }
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        let letGo = Date()
        try input.fileHandleForWriting.close()
        let openedAt = try await waiting.value
        #expect(openedAt >= letGo, "it opened only once the first run let go")
    }

    @Test func corruptFileIsAnErrorNotAnEmptySnapshot() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(
            at: folder.appendingPathComponent("state"), withIntermediateDirectories: true)
        try Data(repeating: 0x42, count: 8192).write(to: URL(fileURLWithPath: settings.path))
        for open in [
            { _ = try SQLiteSnapshotStore.openForReading(settings) },
            { _ = try SQLiteSnapshotStore.openForWriting(settings) },
        ] {
            #expect {
                try open()
            } throws: { error in
                let error = error as? SyncError
                return error?.kind == .snapshot
                    && error?.message.contains("cannot be read as a SQLite database") == true
            }
        }
    }

    @Test func newerSchemaIsRefused() async throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            let store = try SQLiteSnapshotStore.openForWriting(settings)
            try await store.commit([update("E1", key: store.key)])
        }
        try await DatabaseQueue(path: settings.path).write { db in
            try db.execute(sql: "UPDATE meta SET value = '99' WHERE key = 'schema_version'")
        }
        #expect {
            _ = try SQLiteSnapshotStore.openForReading(settings)
        } throws: { error in
            (error as? SyncError)?.message.contains("schema version 99, newer than this build's 1") == true
        }
    }

    @Test func missingKeyIsAnError() async throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            let store = try SQLiteSnapshotStore.openForWriting(settings)
            try await store.commit([update("E1", key: store.key)])
        }
        try FileManager.default.removeItem(atPath: settings.keyPath)
        #expect(throws: SyncError.self) { _ = try SQLiteSnapshotStore.openForReading(settings) }
        #expect(throws: SyncError.self) { _ = try SQLiteSnapshotStore.openForWriting(settings) }
    }

    @Test func aKeyOthersCanReadIsRefused() async throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        _ = try SQLiteSnapshotStore.openForWriting(settings)
        chmod(settings.keyPath, 0o644)
        #expect {
            _ = try SQLiteSnapshotStore.openForReading(settings)
        } throws: { error in
            (error as? SyncError)?.hint?.contains("chmod 600") == true
        }
    }

    /// A snapshot made before the covering index reads the same without it, and gets it from its next writer.
    @Test func theIndexIsAddedToOlderSnapshotsAndUsed() async throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let updates: [SnapshotUpdate]
        do {
            let store = try SQLiteSnapshotStore.openForWriting(settings)
            updates = (0..<300).map { update("E\($0)", key: store.key) }
            try await store.commit(updates)
        }
        try await DatabaseQueue(path: settings.path).write { try $0.execute(sql: "DROP INDEX people_index") }
        let plan =
            "EXPLAIN QUERY PLAN SELECT source_id, fingerprint, terminated_at IS NOT NULL, missing_since FROM people ORDER BY source_id"
        func query() async throws -> String {
            try await DatabaseQueue(path: settings.path).read {
                try Row.fetchAll($0, sql: plan).map { $0["detail"] as String }.joined()
            }
        }
        #expect(try await query() == "SCAN people")
        let old = try await SQLiteSnapshotStore.openForReading(settings).index()
        #expect(old.count == 300 && old["E42"]?.fingerprint == updates[42].fingerprint)
        _ = try SQLiteSnapshotStore.openForWriting(settings)
        #expect(try await query() == "SCAN people USING COVERING INDEX people_index")
        let new = try await SQLiteSnapshotStore.openForReading(settings).index()
        #expect(new.ids == old.ids && new.entries.map(\.fingerprint) == old.entries.map(\.fingerprint))
    }

    /// Many batches, as a large sync commits them; each is its own transaction.
    @Test func manyBatchesCommitAndReadBack() async throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try SQLiteSnapshotStore.openForWriting(settings)
        let updates = (0..<20_000).map { update("E\($0)", key: store.key) }
        for start in stride(from: 0, to: updates.count, by: 500) {
            try await store.commit(Array(updates[start..<start + 500]))
        }
        let index = try await store.index()
        #expect(index.count == 20_000)
        #expect(
            index.ids == index.ids.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) },
            "the index comes in id byte order")
        #expect(index["E19999"]?.fingerprint == updates[19_999].fingerprint)
    }
}

@Suite struct ForeignDatabaseTests {
    @Test func anotherProgramsDatabaseIsNeverWrittenInto() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("foreign-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let settings = SnapshotSettings(job: "x", path: folder.appendingPathComponent("hr.sqlite").path)
        try await DatabaseQueue(path: settings.path).write { db in
            try db.execute(sql: "CREATE TABLE payroll (id INTEGER PRIMARY KEY)")
        }
        #expect {
            _ = try SQLiteSnapshotStore.openForWriting(settings)
        } throws: { error in
            (error as? SyncError)?.message.contains("a database of another program") == true
        }
        let tables = try await DatabaseQueue(path: settings.path).read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        #expect(tables == ["payroll"])
    }
}

/// The settings of the store a conformance case made last.
final class LastPath: @unchecked Sendable {
    private let lock = NSLock()
    private var settings: SnapshotSettings?
    func set(_ value: SnapshotSettings) { lock.withLock { settings = value } }
    func get() -> SnapshotSettings? { lock.withLock { settings } }
}
