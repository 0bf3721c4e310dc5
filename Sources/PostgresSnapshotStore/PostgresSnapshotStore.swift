import ConnectorCore
import Foundation
import JobConfig
import Logging
import PostgresClient
import SyncCore
import Synchronization

/// The snapshot in PostgreSQL (`snapshot.type: postgres`), for two sync hosts
/// that share one state: an active/passive pair, or a job that may move.
///
/// Settings under `snapshot:`: `conninfo`, `password_env` / `password_file`,
/// `sslmode`, `sslrootcert` (as for the PostgreSQL source) and `schema`
/// (default `compliance_sync`), `key_file` (the file that keeps the key that
/// hashes sensitive fields, the same on every host; `.state/JOB.snapshot.key`
/// beside the job file by default: never in the database, where a dump alone
/// would expose SSNs). In that schema, table `jobs` holds a row per job (its
/// schema version, a check value of the key, and for snapshots made by earlier
/// versions the key itself, which still works with a warning), and each
/// job has its own tables `"people_JOB"` and `"journal_JOB"`, made on first use, and
/// `"runs_JOB"` and `"events_JOB"`, its run history and audit trail (made by the first
/// writer that finds them missing; an earlier release ignores them).
///
/// A writing run holds a session-level `pg_advisory_lock` on the job from open
/// to exit, so a second host's run of the same job waits or stops; a killed
/// run's lock goes with its connection. Every call is one transaction.
public final class PostgresSnapshotStore: SnapshotStore {
    /// The schema version this build reads and writes.
    public static let schemaVersion = 1

    public let description: String
    public let key: SnapshotKey
    let worker: PostgresWorker
    let tables: Tables
    /// The run between `beginRun` and `finishRun`, whose events the operations record.
    let currentRun = Mutex<RunRecord?>(nil)

    private init(worker: PostgresWorker, server: String, tables: Tables, key: SnapshotKey) {
        self.worker = worker
        self.tables = tables
        self.key = key
        description = "\(server) \(tables.people)"
    }

    /// The names of one job's tables, quoted for SQL.
    struct Tables: Sendable {
        let schema: String
        let jobs: String
        let people: String
        let journal: String
        let runs: String
        let events: String
        let job: String

        init(schema: String, job: String) {
            self.schema = Self.quote(schema)
            self.job = job
            jobs = "\(self.schema).jobs"
            people = "\(self.schema).\(Self.quote("people_" + job))"
            journal = "\(self.schema).\(Self.quote("journal_" + job))"
            runs = "\(self.schema).\(Self.quote("runs_" + job))"
            events = "\(self.schema).\(Self.quote("events_" + job))"
        }

        static func quote(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
    }

    // MARK: - Opening

    /// Opens the job's snapshot to read only, for `plan`: creates nothing, takes no lock.
    /// - Returns: the store, or an ``EmptySnapshot`` when the job has no tables yet.
    public static func openForReading(_ settings: SnapshotSettings, logger: Logger) async throws
        -> any ReadableSnapshot
    {
        let (connection, tables) = try readSettings(settings, logger: logger)
        let worker = try await PostgresWorker.connect(connection, kind: .snapshot)
        let (server, key) = try await worker.run {
            ($0.server, try Self.loadJob(tables, settings: settings, logger: logger, on: $0))
        }
        guard let key else {
            return EmptySnapshot(description: "\(server) job \(settings.job) (not created yet: first run)")
        }
        return PostgresSnapshotStore(worker: worker, server: server, tables: tables, key: key)
    }

    /// Opens (or creates) the job's snapshot to write, for `sync`: takes the job's lock first,
    /// waiting for another run of the job up to `settings.lockWait`.
    /// - Throws: ``SyncError`` when another run holds the lock, or the tables are of a newer schema.
    public static func openForWriting(_ settings: SnapshotSettings, logger: Logger) async throws
        -> PostgresSnapshotStore
    {
        let (connection, tables) = try readSettings(settings, logger: logger)
        let worker = try await PostgresWorker.connect(connection, kind: .snapshot)
        let (server, key) = try await worker.run { connection in
            try Self.lock(tables, wait: settings.lockWait, on: connection)
            let key =
                try Self.loadJob(tables, settings: settings, logger: logger, on: connection)
                ?? Self.create(tables, keyFile: settings.keyPath, on: connection)
            try Self.addHistoryTables(tables, on: connection)
            return (connection.server, key)
        }
        logger.debug("holding the snapshot lock", metadata: ["snapshot": "\(server) job \(settings.job)"])
        return PostgresSnapshotStore(worker: worker, server: server, tables: tables, key: key)
    }

    static func readSettings(_ settings: SnapshotSettings, logger: Logger) throws -> (PostgresSettings, Tables) {
        guard let node = settings.options else {
            throw SyncError(.configuration, "`snapshot.type: postgres` needs `snapshot.conninfo`")
        }
        let section = try node.section()
        for used in ["type", "job", "key_file"] { _ = section.node(used) }
        guard section.has("conninfo") else {
            throw node.error(
                "needs `conninfo:` for the PostgreSQL snapshot store", hint: "such as host=db.example.com dbname=sync")
        }
        var connection = try PostgresSettings(section: section, folder: settings.folder, logger: logger)
        // Named so that a second run can say which host holds the job's lock.
        connection.applicationName = "compliance-sync \(ProcessInfo.processInfo.hostName) pid \(getpid())"
        let schema = try section.string("schema") ?? "compliance_sync"
        try section.finish()
        guard settings.job.utf8.count <= 48,
            settings.job.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") })
        else {
            throw node.error(
                "cannot name tables after the job \"\(settings.job)\"",
                hint: "set `snapshot.job` to at most 48 letters, digits, - or _")
        }
        return (connection, Tables(schema: schema, job: settings.job))
    }
}
