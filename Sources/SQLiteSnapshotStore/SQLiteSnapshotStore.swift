import Foundation
import GRDB
import GRDBSQLite
import SyncCore

/// The embedded snapshot: one SQLite file per job (WAL, `synchronous = FULL`,
/// mode 0600), its HMAC key beside it (`.key`, 0600) and a lock file (`.lock`).
///
/// Operators can inspect it with `sqlite3`: table `people` holds a row per
/// person (`source_id`, `fingerprint`, `fields` as JSON with sensitive fields
/// as `hmac:` digests, `terminated_at`, `missing_since`), `meta` the schema version.
public final class SQLiteSnapshotStore: SnapshotStore {
    /// The schema this build reads and writes.
    public static let schemaVersion = 1

    public let description: String
    public let key: SnapshotKey
    private let queue: DatabaseQueue
    private let lock: SnapshotLock?

    private init(path: String, queue: DatabaseQueue, key: SnapshotKey, lock: SnapshotLock?) {
        description = "sqlite \(path)"
        self.queue = queue
        self.key = key
        self.lock = lock
    }

    /// A writer leaves the file in rollback-journal mode, so that a read-only
    /// `plan` later needs (and creates) no `-wal` or `-shm` files. WAL is for the run itself.
    deinit {
        if lock != nil {
            try? queue.writeWithoutTransaction { try $0.execute(sql: "PRAGMA journal_mode = DELETE") }
        }
    }

    /// Opens a snapshot to read only, for `plan`: creates nothing, takes no lock.
    /// - Returns: the store, or an ``EmptySnapshot`` when the file does not exist yet.
    /// - Throws: ``SyncError`` for a damaged file, a newer schema or a missing key.
    public static func openForReading(_ settings: SnapshotSettings) throws -> any SnapshotReader {
        guard FileManager.default.fileExists(atPath: settings.path) else {
            return EmptySnapshot(description: "sqlite \(settings.path) (not created yet: first run)")
        }
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try open(settings.path, configuration)
        guard let people = try checkSchema(queue, path: settings.path) else {
            return EmptySnapshot(description: "sqlite \(settings.path) (empty)")
        }
        guard let key = try SnapshotKey.load(fromFile: settings.keyPath, create: false) else {
            if people == 0 { return EmptySnapshot(description: "sqlite \(settings.path) (empty)") }
            throw missingKey(settings)
        }
        return SQLiteSnapshotStore(path: settings.path, queue: queue, key: key, lock: nil)
    }

    /// Opens (or creates) a snapshot to write, for `sync`: takes the job's lock first,
    /// waiting for another run up to `settings.lockWait`.
    /// - Throws: ``SyncError`` when another run holds the lock, or the file is damaged or newer.
    public static func openForWriting(_ settings: SnapshotSettings) throws -> SQLiteSnapshotStore {
        try SnapshotFiles.makeFolder(for: settings.path)
        try SnapshotFiles.checkOwnership(of: settings.path)
        let lock = try SnapshotLock(path: settings.path + ".lock", wait: settings.lockWait)
        let isNew = !FileManager.default.fileExists(atPath: settings.path)
        if isNew { try SnapshotFiles.touchPrivate(settings.path) }
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        let queue = try open(settings.path, configuration)
        let people: Int
        if let count = try checkSchema(queue, path: settings.path) {
            people = count
        } else {
            try create(queue, job: settings.job, path: settings.path)
            people = 0
        }
        guard let key = try SnapshotKey.load(fromFile: settings.keyPath, create: people == 0) else {
            throw missingKey(settings)
        }
        try addIndex(queue, path: settings.path)
        return SQLiteSnapshotStore(path: settings.path, queue: queue, key: key, lock: lock)
    }

    /// Every person, in id order. Read through SQLite's C API: a million rows in
    /// a fraction of a second, where decoding GRDB rows took seconds.
    public func index() async throws -> SnapshotIndex {
        try await read { db in
            var index = SnapshotIndex()
            index.reserveCapacity(try Int.fetchOne(db, sql: "SELECT count(*) FROM people") ?? 0)
            let statement = try db.makeStatement(
                sql: """
                    SELECT source_id, fingerprint, terminated_at IS NOT NULL, missing_since FROM people ORDER BY source_id
                    """)
            let handle = statement.sqliteStatement
            while true {
                let step = sqlite3_step(handle)
                if step == SQLITE_DONE { break }
                guard step == SQLITE_ROW else {
                    throw SyncError(
                        .snapshot,
                        "\(self.description): reading people failed: "
                            + String(cString: sqlite3_errmsg(sqlite3_db_handle(handle))))
                }
                let id = String(
                    decoding: UnsafeBufferPointer(
                        start: sqlite3_column_text(handle, 0), count: Int(sqlite3_column_bytes(handle, 0))),
                    as: UTF8.self)
                let blob = UnsafeRawBufferPointer(
                    start: sqlite3_column_blob(handle, 1), count: Int(sqlite3_column_bytes(handle, 1)))
                guard let fingerprint = Fingerprint(bytes: blob) else {
                    throw SyncError(
                        .snapshot, "\(self.description): the fingerprint of \(id) is damaged",
                        hint: "restore the snapshot from backup, or run `sync --full`")
                }
                let missing =
                    sqlite3_column_type(handle, 3) == SQLITE_NULL
                    ? nil : Date(timeIntervalSince1970: sqlite3_column_double(handle, 3))
                index.append(
                    id,
                    SnapshotEntry(
                        fingerprint: fingerprint, terminated: sqlite3_column_int(handle, 2) != 0, missingSince: missing)
                )
            }
            return index
        }
    }

    public func people(_ sourceIDs: [String]) async throws -> [String: StoredPerson] {
        guard !sourceIDs.isEmpty else { return [:] }
        return try await read { db in
            var people: [String: StoredPerson] = [:]
            people.reserveCapacity(sourceIDs.count)
            let statement = try db.makeStatement(
                sql: "SELECT fields, terminated_at, missing_since FROM people WHERE source_id = ?")
            // Through the C API, as `index()`: GRDB's rows cost more than the lookups themselves.
            let handle = statement.sqliteStatement
            let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
            for var id in sourceIDs {
                sqlite3_reset(handle)
                _ = id.withUTF8 { sqlite3_bind_text(handle, 1, $0.baseAddress, Int32($0.count), transient) }
                let step = sqlite3_step(handle)
                if step == SQLITE_DONE { continue }
                guard step == SQLITE_ROW else {
                    throw SyncError(
                        .snapshot,
                        "\(self.description): reading \(id) failed: "
                            + String(cString: sqlite3_errmsg(sqlite3_db_handle(handle))))
                }
                let count = Int(sqlite3_column_bytes(handle, 0))
                let json = sqlite3_column_blob(handle, 0).map { Data(bytes: $0, count: count) } ?? Data()
                guard let fields = StoredPerson.decodeFields(json) else {
                    throw SyncError(
                        .snapshot, "\(self.description): the stored fields of \(id) are damaged",
                        hint: "restore the snapshot from backup, or run `sync --full`")
                }
                let terminatedAt =
                    sqlite3_column_type(handle, 1) == SQLITE_NULL
                    ? nil : String(cString: sqlite3_column_text(handle, 1))
                let missing =
                    sqlite3_column_type(handle, 2) == SQLITE_NULL
                    ? nil : Date(timeIntervalSince1970: sqlite3_column_double(handle, 2))
                people[id] = StoredPerson(
                    sourceID: id, fields: fields, terminatedAt: terminatedAt, missingSince: missing)
            }
            sqlite3_reset(handle)
            return people
        }
    }

    public func commit(_ updates: [SnapshotUpdate], resolving journalKey: String?) async throws {
        guard !updates.isEmpty || journalKey != nil else { return }
        try await write { db in
            let statement = try db.makeStatement(
                sql: """
                    INSERT INTO people (source_id, fingerprint, fields, terminated_at, missing_since, updated_at)
                    VALUES (?, ?, ?, ?, NULL, ?)
                    ON CONFLICT (source_id) DO UPDATE SET fingerprint = excluded.fingerprint, fields = excluded.fields,
                        terminated_at = excluded.terminated_at, missing_since = NULL, updated_at = excluded.updated_at
                    """)
            let replaced = try db.makeStatement(sql: "DELETE FROM people WHERE source_id = ?")
            let now = Date().timeIntervalSince1970
            for update in updates {
                for id in update.replacing { try replaced.execute(arguments: [id]) }
                try statement.execute(arguments: [
                    update.sourceID, Data(update.fingerprint.bytes), JSONWriter.object(update.fields),
                    update.terminatedAt, now,
                ])
            }
            if let journalKey {
                try db.execute(sql: "DELETE FROM journal WHERE idempotency_key = ?", arguments: [journalKey])
            }
        }
    }

    public func markUnconfirmed(_ updates: [SnapshotUpdate], resolving journalKey: String?) async throws {
        try await write { db in
            let statement = try db.makeStatement(
                sql: """
                    INSERT INTO people (source_id, fingerprint, fields, terminated_at, missing_since, updated_at)
                    VALUES (?, ?, ?, NULL, NULL, ?)
                    ON CONFLICT (source_id) DO UPDATE SET fingerprint = excluded.fingerprint, fields = excluded.fields,
                        terminated_at = NULL, updated_at = excluded.updated_at
                    """)
            let now = Date().timeIntervalSince1970
            let unconfirmed = Data(Fingerprint.unconfirmed.bytes)
            for update in updates {
                try statement.execute(arguments: [update.sourceID, unconfirmed, JSONWriter.object(update.fields), now])
            }
            if let journalKey {
                try db.execute(sql: "DELETE FROM journal WHERE idempotency_key = ?", arguments: [journalKey])
            }
        }
    }

    public func addJournalEntry(_ entry: JournalEntry) async throws {
        let entries = try JournalCoding.encode(entry.updates)
        try await write { db in
            try db.execute(
                sql: "INSERT INTO journal (idempotency_key, import_id, created_at, entries) VALUES (?, ?, ?, ?)",
                arguments: [entry.key, entry.importID, entry.createdAt.timeIntervalSince1970, entries])
        }
    }

    public func setImportID(_ importID: String, forJournalKey key: String) async throws {
        try await write { db in
            try db.execute(
                sql: "UPDATE journal SET import_id = ? WHERE idempotency_key = ?", arguments: [importID, key])
        }
    }

    public func removeJournalEntry(_ key: String) async throws {
        try await write { db in
            try db.execute(sql: "DELETE FROM journal WHERE idempotency_key = ?", arguments: [key])
        }
    }

    public func journalEntries() async throws -> [JournalEntry] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT idempotency_key, import_id, created_at, entries FROM journal ORDER BY created_at"
            )
            .map { row in
                JournalEntry(
                    key: row[0], importID: row[1], createdAt: Date(timeIntervalSince1970: row[2]),
                    updates: try JournalCoding.decode(row[3], description: self.description))
            }
        }
    }

    public func setMissing(_ sourceIDs: [String], since: Date?) async throws {
        guard !sourceIDs.isEmpty else { return }
        try await write { db in
            let statement = try db.makeStatement(sql: "UPDATE people SET missing_since = ? WHERE source_id = ?")
            for id in sourceIDs {
                try statement.execute(arguments: [since?.timeIntervalSince1970, id])
            }
        }
    }

    /// How many people the snapshot holds, and how many of them are terminated.
    public func counts() async throws -> (people: Int, terminated: Int) {
        try await read { db in
            let row = try Row.fetchOne(db, sql: "SELECT count(*), count(terminated_at) FROM people")!
            return (row[0], row[1])
        }
    }

    // MARK: - Plumbing

    private func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await queue.read(body)
        } catch let error as SyncError {
            throw error
        } catch {
            throw SyncError(
                .snapshot, "reading the snapshot \(description) failed: \(error)",
                hint: "if the file is damaged, restore it from backup or move it away and run `sync --full`")
        }
    }

    private func write(_ body: @escaping @Sendable (Database) throws -> Void) async throws {
        do {
            try await queue.write(body)
        } catch let error as SyncError {
            throw error
        } catch {
            throw SyncError(
                .snapshot, "writing the snapshot \(description) failed: \(error)",
                hint: "check free disk space and the file's permissions; nothing of this batch was recorded")
        }
    }

    private static func open(_ path: String, _ configuration: Configuration) throws -> DatabaseQueue {
        do {
            return try DatabaseQueue(path: path, configuration: configuration)
        } catch {
            throw damaged(path, error)
        }
    }

    /// Checks the file is a snapshot of a schema this build knows.
    /// - Returns: how many people it holds, or `nil` for a database with no tables at all (a new file).
    /// - Throws: for a damaged file, another program's database, or a newer schema.
    private static func checkSchema(_ queue: DatabaseQueue, path: String) throws -> Int? {
        let found: (empty: Bool, version: Int?, people: Int)
        do {
            found = try queue.read { db in
                let tables = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master WHERE type = 'table'") ?? 0
                if tables == 0 { return (true, nil, 0) }
                guard try db.tableExists("meta"), try db.tableExists("people") else { return (false, nil, 0) }
                let version = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'schema_version'")
                return (
                    false, version.flatMap(Int.init) ?? -1,
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM people") ?? 0
                )
            }
        } catch {
            throw damaged(path, error)
        }
        if found.empty { return nil }
        guard let version = found.version else {
            throw SyncError(
                .snapshot, "\(path) is a database of another program, not a compliance-sync snapshot",
                hint: "point snapshot.path at the job's snapshot file, or at a new path")
        }
        if version > schemaVersion {
            throw SyncError(
                .snapshot,
                "the snapshot \(path) has schema version \(version), newer than this build's \(schemaVersion)",
                hint: "run the compliance-sync release that wrote it, or a newer one")
        }
        if version < 1 {
            throw SyncError(
                .snapshot, "the snapshot \(path) has no valid schema version",
                hint: "restore it from backup, or move it away and run `sync --full`")
        }
        return found.people
    }

    private static func create(_ queue: DatabaseQueue, job: String, path: String) throws {
        do {
            try queue.write { db in
                try db.execute(
                    sql: """
                        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                        CREATE TABLE people (
                            source_id TEXT PRIMARY KEY,
                            fingerprint BLOB NOT NULL,
                            fields TEXT NOT NULL,
                            terminated_at TEXT,
                            missing_since REAL,
                            updated_at REAL NOT NULL
                        ) WITHOUT ROWID;
                        CREATE TABLE journal (
                            idempotency_key TEXT PRIMARY KEY,
                            import_id TEXT,
                            created_at REAL NOT NULL,
                            entries TEXT NOT NULL
                        );
                        """)
                try db.execute(
                    sql: "INSERT INTO meta (key, value) VALUES ('schema_version', ?), ('job', ?), ('created_at', ?)",
                    arguments: [String(schemaVersion), job, Timestamps.iso(Date())])
            }
        } catch {
            throw damaged(path, error)
        }
    }

    /// What `index()` reads, in id order, without the stored fields: with this covering index
    /// SQLite reads an eighth of the file, and a million people load in 0.15 s instead of 0.27 s.
    /// Made by the first writer that finds it missing; snapshots without it (made by an
    /// earlier version) still read the same, by scanning the table.
    private static func addIndex(_ queue: DatabaseQueue, path: String) throws {
        do {
            try queue.write { db in
                try db.execute(
                    sql: """
                        CREATE INDEX IF NOT EXISTS people_index ON people (source_id, fingerprint, terminated_at, missing_since)
                        """)
            }
        } catch {
            throw damaged(path, error)
        }
    }

    private static func damaged(_ path: String, _ error: any Error) -> SyncError {
        SyncError(
            .snapshot, "the snapshot \(path) cannot be read as a SQLite database (\(error))",
            hint: "restore it from backup, or move it away and run `sync --full` to rebuild it")
    }

    private static func missingKey(_ settings: SnapshotSettings) -> SyncError {
        SyncError(
            .snapshot, "the snapshot \(settings.path) holds people but its key \(settings.keyPath) is missing",
            hint: "restore the key file from backup; or move both away and run `sync --full` to start afresh")
    }
}
