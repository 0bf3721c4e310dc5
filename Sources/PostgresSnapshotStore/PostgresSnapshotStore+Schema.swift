import ConnectorCore
import Foundation
import JobConfig
import Logging
import PostgresClient
import SyncCore

/// The job's lock, its tables and its key: opening a job's snapshot.
extension PostgresSnapshotStore {
    /// The advisory lock's key for a job: a 64-bit hash of its name, computed by the server.
    static let lockKey = "hashtextextended('compliance-sync:' || $1, 0)"

    /// Takes the job's session lock, trying again every quarter second until `wait` has passed,
    /// as the SQLite store's file lock does.
    static func lock(_ tables: Tables, wait: Duration, on connection: PostgresConnection) throws {
        let deadline = ContinuousClock.now + wait
        while true {
            var locked = false
            try connection.query(
                "SELECT pg_try_advisory_lock(\(lockKey))", [tables.job], doing: "taking the job's lock"
            ) {
                locked = $0.text(0) == "t"
            }
            if locked { return }
            guard ContinuousClock.now < deadline else {
                throw try lockHeld(tables, on: connection, waited: wait == .zero ? nil : wait)
            }
            Thread.sleep(forTimeInterval: 0.25)
        }
    }

    /// The error for a lock another run holds, naming that run's connection.
    static func lockHeld(_ tables: Tables, on connection: PostgresConnection, waited: Duration?) throws
        -> SyncError
    {
        var holder: String?
        try connection.query(
            """
            SELECT a.application_name, coalesce(host(a.client_addr), 'local'), a.pid, a.backend_start
            FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
              AND ((l.classid::bigint << 32) | l.objid::bigint) = \(lockKey)
            """, [tables.job], doing: "finding who holds the job's lock"
        ) { row in
            holder =
                "\(row.text(0) ?? "?") from \(row.text(1) ?? "?") (server pid \(row.text(2) ?? "?"), since \(row.text(3) ?? "?"))"
        }
        let waitedText = waited.map { " after waiting \($0)" } ?? ""
        return SyncError(
            .locked,
            "another run of job \(tables.job) holds its lock on \(connection.server)\(waitedText)"
                + (holder.map { ": \($0)" } ?? ""),
            hint: waited == nil
                ? "runs of one job never overlap; pass --wait-for-lock 15m to wait for the other run instead"
                : "the other run is still going; try again later or wait longer")
    }

    /// The job's key, or `nil` when the job has no row (or the schema does not exist) yet.
    /// - Parameter settings: where the key file is (`snapshot.key_file`, or beside the job's state by default).
    static func loadJob(
        _ tables: Tables, settings: SnapshotSettings, logger: Logger, on connection: PostgresConnection
    ) throws -> SnapshotKey? {
        let keyFile = settings.keyPath
        var exists = false
        try connection.query(
            "SELECT to_regclass($1) IS NOT NULL", [tables.jobs], doing: "looking for the snapshot tables"
        ) {
            exists = $0.text(0) == "t"
        }
        guard exists else { return nil }
        var found: (version: Int, key: Data?, check: String)?
        try connection.query(
            "SELECT schema_version, hmac_key, key_check FROM \(tables.jobs) WHERE job = $1", [tables.job], binary: true,
            doing: "reading the job's schema version"
        ) { row in
            let version = row.bytes(0).reduce(0) { $0 << 8 | Int($1) }
            found = (version, row.isNull(1) ? nil : Data(row.bytes(1)), String(decoding: row.bytes(2), as: UTF8.self))
        }
        guard let found else { return nil }
        if found.version > schemaVersion {
            throw SyncError(
                .snapshot,
                "the snapshot of job \(tables.job) on \(connection.server) has schema version \(found.version), "
                    + "newer than this build's \(schemaVersion)",
                hint: "run the compliance-sync release that wrote it, or a newer one")
        }
        let key: SnapshotKey
        switch found.key {
        case let stored? where !settings.keyFileGiven:
            // A snapshot made before key files were the default: a dump of the database alone
            // would let anyone recover SSNs by trying all 10^9 of them against the digests.
            guard let decoded = try? SnapshotKey(bytes: stored) else {
                throw SyncError(
                    .snapshot, "the key of job \(tables.job) in \(tables.jobs) is damaged",
                    hint: "restore the table from backup; without it the snapshot cannot be compared")
            }
            let advice =
                "the key that hashes SSNs for job \(tables.job) is kept in the database \(connection.server): "
                + "a dump of it alone lets anyone recover SSNs; start the job afresh (a new job name or schema, then "
                + "`baseline` or `sync --full`) so that its key is kept in a key file"
            logger.warning("\(advice)")
            key = decoded
        case _?:
            throw SyncError(
                .snapshot,
                "the key of job \(tables.job) is kept in the database, but snapshot.key_file names \(keyFile)",
                hint: "remove key_file from the job, or start the job afresh with it")
        case nil:
            guard let loaded = try SnapshotKey.load(fromFile: keyFile, create: false) else {
                throw SyncError(
                    .snapshot,
                    "the snapshot of job \(tables.job) was written with the key \(keyFile), which is missing",
                    hint: "copy the key file from the host that made it (mode 0600), or point snapshot.key_file at it")
            }
            key = loaded
        }
        guard Self.keyCheck(key) == found.check else {
            throw SyncError(
                .snapshot,
                "the key \(found.key == nil ? keyFile : "in the database") is not the one job \(tables.job)'s snapshot was written with",
                hint: "use the key file of the host that made the snapshot; every host of a job shares one key")
        }
        return key
    }

    /// A digest that tells whether a key is the job's, without revealing the key.
    static func keyCheck(_ key: SnapshotKey) -> String {
        key.digest(field: "key-check", value: "compliance-sync snapshot")
    }

    /// Creates the job's tables, its key kept in `keyFile` (made, mode 0600, in a folder of mode 0700, if missing).
    static func create(_ tables: Tables, keyFile: String, on connection: PostgresConnection) throws
        -> SnapshotKey
    {
        let folder = (keyFile as NSString).deletingLastPathComponent
        if !folder.isEmpty && !FileManager.default.fileExists(atPath: folder) {
            try? FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        let key = try SnapshotKey.load(fromFile: keyFile, create: true)!
        try connection.transaction(doing: "creating the snapshot tables") {
            // Two jobs' first runs may create the schema at once; IF NOT EXISTS alone does not keep them apart.
            try connection.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended('compliance-sync:schema', 0))",
                doing: "waiting to create the snapshot tables")
            try connection.execute(
                """
                CREATE SCHEMA IF NOT EXISTS \(tables.schema);
                CREATE TABLE IF NOT EXISTS \(tables.jobs) (
                    job text PRIMARY KEY,
                    schema_version integer NOT NULL,
                    hmac_key bytea,
                    key_check text NOT NULL,
                    created_at timestamptz NOT NULL DEFAULT now()
                );
                CREATE TABLE IF NOT EXISTS \(tables.people) (
                    source_id text COLLATE "C" PRIMARY KEY,
                    fingerprint bytea NOT NULL,
                    fields text NOT NULL,
                    terminated_at text,
                    missing_since double precision,
                    updated_at timestamptz NOT NULL DEFAULT now()
                );
                CREATE TABLE IF NOT EXISTS \(tables.journal) (
                    idempotency_key text PRIMARY KEY,
                    import_id text,
                    created_at double precision NOT NULL,
                    entries text NOT NULL
                );
                """, doing: "creating the snapshot tables")
            try connection.execute(
                "INSERT INTO \(tables.jobs) (job, schema_version, hmac_key, key_check) VALUES ($1, $2, $3, $4)",
                [tables.job, String(schemaVersion), nil, Self.keyCheck(key)],
                doing: "registering the job")
        }
        return key
    }
}
