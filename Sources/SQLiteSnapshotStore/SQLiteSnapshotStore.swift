import ConnectorCore
import Foundation
import GRDB
import GRDBSQLite
import JobConfig
import SyncCore
import Synchronization

/// The embedded snapshot: one SQLite file per job (WAL, `synchronous = FULL`,
/// mode 0600), its HMAC key beside it (`.key`, 0600) and a lock file (`.lock`).
///
/// Operators can inspect it with `sqlite3`: table `people` holds a row per
/// person (`source_id`, `fingerprint`, `fields` as JSON with sensitive fields
/// as `hmac:` digests, `terminated_at`, `missing_since`), `meta` the schema version,
/// `runs` and `events` the run history and audit trail (`SQLiteSnapshotStore+History.swift`).
public final class SQLiteSnapshotStore: SnapshotStore {
    /// The schema this build reads and writes.
    public static let schemaVersion = 1

    public let description: String
    public let key: SnapshotKey
    let queue: DatabaseQueue
    private let lock: SnapshotLock?
    /// The lock file a writing run holds.
    let lockPath: String
    /// The run between `beginRun` and `finishRun`, whose events the operations record.
    let currentRun = Mutex<RunRecord?>(nil)

    private init(path: String, queue: DatabaseQueue, key: SnapshotKey, lock: SnapshotLock?) {
        description = "sqlite \(path)"
        self.queue = queue
        self.key = key
        self.lock = lock
        lockPath = path + ".lock"
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
    public static func openForReading(_ settings: SnapshotSettings) throws -> any ReadableSnapshot {
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
            // A new file frees the pages of forgotten history as it goes (before its first table).
            if isNew { try db.execute(sql: "PRAGMA auto_vacuum = INCREMENTAL") }
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
        do {
            try addHistoryTables(queue)
        } catch {
            throw damaged(settings.path, error)
        }
        return SQLiteSnapshotStore(path: settings.path, queue: queue, key: key, lock: lock)
    }

    // MARK: - Schema

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
            hint: "restore it from backup, or move it away and run `sync --full` to rebuild it", underlying: error)
    }

    private static func missingKey(_ settings: SnapshotSettings) -> SyncError {
        SyncError(
            .snapshot, "the snapshot \(settings.path) holds people but its key \(settings.keyPath) is missing",
            hint: "restore the key file from backup; or move both away and run `sync --full` to start afresh")
    }
}
