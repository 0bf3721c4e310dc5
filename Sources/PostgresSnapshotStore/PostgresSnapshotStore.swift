import Foundation
import Logging
import PostgresClient
import SyncCore

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
/// job has its own tables `"people_JOB"` and `"journal_JOB"`, made on first use.
///
/// A writing run holds a session-level `pg_advisory_lock` on the job from open
/// to exit, so a second host's run of the same job waits or stops; a killed
/// run's lock goes with its connection. Every call is one transaction.
public final class PostgresSnapshotStore: SnapshotStore {
    /// The schema version this build reads and writes.
    public static let schemaVersion = 1

    public let description: String
    public let key: SnapshotKey
    private let worker: PostgresWorker
    private let tables: Tables

    private init(worker: PostgresWorker, tables: Tables, key: SnapshotKey) {
        self.worker = worker
        self.tables = tables
        self.key = key
        description = "\(worker.server) \(tables.people)"
    }

    /// The names of one job's tables, quoted for SQL.
    struct Tables: Sendable {
        let schema: String
        let jobs: String
        let people: String
        let journal: String
        let job: String

        init(schema: String, job: String) {
            self.schema = Self.quote(schema)
            self.job = job
            jobs = "\(self.schema).jobs"
            people = "\(self.schema).\(Self.quote("people_" + job))"
            journal = "\(self.schema).\(Self.quote("journal_" + job))"
        }

        static func quote(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
    }

    // MARK: - Opening

    /// Opens the job's snapshot to read only, for `plan`: creates nothing, takes no lock.
    /// - Returns: the store, or an ``EmptySnapshot`` when the job has no tables yet.
    public static func openForReading(_ settings: SnapshotSettings, logger: Logger) async throws -> any SnapshotReader {
        let (connection, tables) = try readSettings(settings, logger: logger)
        let worker = try await PostgresWorker.connect(connection, kind: .snapshot)
        let key = try await worker.run { try Self.loadJob(tables, settings: settings, logger: logger, on: $0) }
        guard let key else {
            return EmptySnapshot(description: "\(worker.server) job \(settings.job) (not created yet: first run)")
        }
        return PostgresSnapshotStore(worker: worker, tables: tables, key: key)
    }

    /// Opens (or creates) the job's snapshot to write, for `sync`: takes the job's lock first,
    /// waiting for another run of the job up to `settings.lockWait`.
    /// - Throws: ``SyncError`` when another run holds the lock, or the tables are of a newer schema.
    public static func openForWriting(_ settings: SnapshotSettings, logger: Logger) async throws
        -> PostgresSnapshotStore
    {
        let (connection, tables) = try readSettings(settings, logger: logger)
        let worker = try await PostgresWorker.connect(connection, kind: .snapshot)
        let key = try await worker.run { connection in
            try Self.lock(tables, wait: settings.lockWait, on: connection)
            if let key = try Self.loadJob(tables, settings: settings, logger: logger, on: connection) { return key }
            return try Self.create(tables, keyFile: settings.keyPath, on: connection)
        }
        logger.debug("holding the snapshot lock", metadata: ["snapshot": "\(worker.server) job \(settings.job)"])
        return PostgresSnapshotStore(worker: worker, tables: tables, key: key)
    }

    private static func readSettings(_ settings: SnapshotSettings, logger: Logger) throws -> (PostgresSettings, Tables)
    {
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

    /// The advisory lock's key for a job: a 64-bit hash of its name, computed by the server.
    private static let lockKey = "hashtextextended('compliance-sync:' || $1, 0)"

    /// Takes the job's session lock, trying again every quarter second until `wait` has passed,
    /// as the SQLite store's file lock does.
    private static func lock(_ tables: Tables, wait: Duration, on connection: PostgresConnection) throws {
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
    private static func lockHeld(_ tables: Tables, on connection: PostgresConnection, waited: Duration?) throws
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
    private static func loadJob(
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
    private static func keyCheck(_ key: SnapshotKey) -> String {
        key.digest(field: "key-check", value: "compliance-sync snapshot")
    }

    /// Creates the job's tables, its key kept in `keyFile` (made, mode 0600, in a folder of mode 0700, if missing).
    private static func create(_ tables: Tables, keyFile: String, on connection: PostgresConnection) throws
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

    // MARK: - Reading

    /// Every person, in the byte order of their ids, read in binary form.
    public func index() async throws -> SnapshotIndex {
        let tables = tables
        let description = description
        return try await worker.run { connection in
            var index = SnapshotIndex()
            var damaged: String?
            try connection.query(
                "SELECT source_id, fingerprint, terminated_at IS NOT NULL, missing_since FROM \(tables.people) ORDER BY source_id",
                binary: true, doing: "reading the snapshot"
            ) { row in
                let id = String(decoding: row.bytes(0), as: UTF8.self)
                guard let fingerprint = Fingerprint(bytes: row.bytes(1)) else {
                    damaged = damaged ?? id
                    return
                }
                let missing =
                    row.isNull(3)
                    ? nil
                    : Date(timeIntervalSince1970: Double(bitPattern: row.bytes(3).reduce(0) { $0 << 8 | UInt64($1) }))
                index.append(
                    id,
                    SnapshotEntry(fingerprint: fingerprint, terminated: row.bytes(2).first == 1, missingSince: missing))
            }
            if let damaged {
                throw SyncError(
                    .snapshot, "\(description): the fingerprint of \(damaged) is damaged",
                    hint: "restore the snapshot from backup, or run `sync --full`")
            }
            return index
        }
    }

    public func people(_ sourceIDs: [String]) async throws -> [String: StoredPerson] {
        guard !sourceIDs.isEmpty else { return [:] }
        let tables = tables
        let description = description
        return try await worker.run { connection in
            var people: [String: StoredPerson] = [:]
            var damaged: String?
            try connection.query(
                "SELECT source_id, fields, terminated_at, missing_since FROM \(tables.people) WHERE source_id = ANY($1::text[])",
                [Self.arrayLiteral(sourceIDs)], doing: "reading people from the snapshot"
            ) { row in
                let id = row.text(0) ?? ""
                guard let json = row.text(1), let fields = StoredPerson.decodeFields(Data(json.utf8)) else {
                    damaged = damaged ?? id
                    return
                }
                people[id] = StoredPerson(
                    sourceID: id, fields: fields, terminatedAt: row.text(2),
                    missingSince: row.text(3).flatMap(Double.init).map(Date.init(timeIntervalSince1970:)))
            }
            if let damaged {
                throw SyncError(
                    .snapshot, "\(description): the stored fields of \(damaged) are damaged",
                    hint: "restore the snapshot from backup, or run `sync --full`")
            }
            return people
        }
    }

    public func journalEntries() async throws -> [JournalEntry] {
        let tables = tables
        let description = description
        let rows = try await worker.run { connection in
            var rows: [(String, String?, Double, String)] = []
            try connection.query(
                "SELECT idempotency_key, import_id, created_at, entries FROM \(tables.journal) ORDER BY created_at",
                doing: "reading the journal"
            ) { row in
                rows.append((row.text(0) ?? "", row.text(1), row.text(2).flatMap(Double.init) ?? 0, row.text(3) ?? ""))
            }
            return rows
        }
        return try rows.map { key, importID, created, entries in
            JournalEntry(
                key: key, importID: importID, createdAt: Date(timeIntervalSince1970: created),
                updates: try JournalCoding.decode(entries, description: description))
        }
    }

    // MARK: - Writing

    /// Upserts every accepted row with one statement, and forgets the journal entry, in one transaction.
    public func commit(_ updates: [SnapshotUpdate], resolving journalKey: String?) async throws {
        guard !updates.isEmpty || journalKey != nil else { return }
        let tables = tables
        let columns = [
            Self.arrayLiteral(updates.map(\.sourceID)),
            Self.arrayLiteral(updates.map { Self.byteaText(Data($0.fingerprint.bytes)) }),
            Self.arrayLiteral(updates.map { JSONWriter.object($0.fields) }),
            Self.arrayLiteral(updates.map(\.terminatedAt)),
        ]
        let replaced = updates.flatMap(\.replacing)
        try await worker.run { connection in
            try connection.transaction(doing: "recording accepted rows") {
                if !replaced.isEmpty {
                    try connection.execute(
                        "DELETE FROM \(tables.people) WHERE source_id = ANY($1::text[])", [Self.arrayLiteral(replaced)],
                        doing: "moving re-keyed people")
                }
                if !updates.isEmpty {
                    try connection.execute(
                        """
                        INSERT INTO \(tables.people) (source_id, fingerprint, fields, terminated_at, missing_since, updated_at)
                        SELECT id, fp, f, t, NULL, now() FROM unnest($1::text[], $2::bytea[], $3::text[], $4::text[]) AS u(id, fp, f, t)
                        ON CONFLICT (source_id) DO UPDATE SET fingerprint = excluded.fingerprint, fields = excluded.fields,
                            terminated_at = excluded.terminated_at, missing_since = NULL, updated_at = excluded.updated_at
                        """, columns, doing: "recording accepted rows")
                }
                if let journalKey {
                    try connection.execute(
                        "DELETE FROM \(tables.journal) WHERE idempotency_key = $1", [journalKey],
                        doing: "closing the journal entry")
                }
            }
        }
    }

    public func markUnconfirmed(_ updates: [SnapshotUpdate], resolving journalKey: String?) async throws {
        let tables = tables
        let columns = [
            Self.arrayLiteral(updates.map(\.sourceID)),
            Self.byteaText(Data(Fingerprint.unconfirmed.bytes)),
            Self.arrayLiteral(updates.map { JSONWriter.object($0.fields) }),
        ]
        try await worker.run { connection in
            try connection.transaction(doing: "marking rows unconfirmed") {
                if !updates.isEmpty {
                    try connection.execute(
                        """
                        INSERT INTO \(tables.people) (source_id, fingerprint, fields, terminated_at, missing_since, updated_at)
                        SELECT DISTINCT ON (id) id, $2::bytea, f, NULL, NULL, now()
                        FROM unnest($1::text[], $3::text[]) WITH ORDINALITY AS u(id, f, n) ORDER BY id, n DESC
                        ON CONFLICT (source_id) DO UPDATE SET fingerprint = excluded.fingerprint, fields = excluded.fields,
                            terminated_at = NULL, updated_at = excluded.updated_at
                        """, columns, doing: "marking rows unconfirmed")
                }
                if let journalKey {
                    try connection.execute(
                        "DELETE FROM \(tables.journal) WHERE idempotency_key = $1", [journalKey],
                        doing: "closing the journal entry")
                }
            }
        }
    }

    public func setMissing(_ sourceIDs: [String], since: Date?) async throws {
        guard !sourceIDs.isEmpty else { return }
        let tables = tables
        let parameters = [since.map { String($0.timeIntervalSince1970) }, Self.arrayLiteral(sourceIDs)]
        try await worker.run { connection in
            try connection.execute(
                "UPDATE \(tables.people) SET missing_since = $1 WHERE source_id = ANY($2::text[])", parameters,
                doing: "noting who is missing")
        }
    }

    public func addJournalEntry(_ entry: JournalEntry) async throws {
        let tables = tables
        let parameters = [
            entry.key, entry.importID, String(entry.createdAt.timeIntervalSince1970),
            try JournalCoding.encode(entry.updates),
        ]
        try await worker.run { connection in
            try connection.execute(
                "INSERT INTO \(tables.journal) (idempotency_key, import_id, created_at, entries) VALUES ($1, $2, $3, $4)",
                parameters, doing: "journaling an import")
        }
    }

    public func setImportID(_ importID: String, forJournalKey key: String) async throws {
        let tables = tables
        try await worker.run { connection in
            try connection.execute(
                "UPDATE \(tables.journal) SET import_id = $1 WHERE idempotency_key = $2", [importID, key],
                doing: "recording an import id")
        }
    }

    public func removeJournalEntry(_ key: String) async throws {
        let tables = tables
        try await worker.run { connection in
            try connection.execute(
                "DELETE FROM \(tables.journal) WHERE idempotency_key = $1", [key], doing: "closing a journal entry")
        }
    }

    // MARK: - Values

    /// An array literal of text values for a `$n::text[]` parameter; `nil` is NULL.
    static func arrayLiteral(_ values: [String?]) -> String {
        var literal = "{"
        for (i, value) in values.enumerated() {
            if i > 0 { literal += "," }
            guard let value else {
                literal += "NULL"
                continue
            }
            literal += "\""
            for character in value.unicodeScalars {
                if character == "\"" || character == "\\" { literal += "\\" }
                literal.unicodeScalars.append(character)
            }
            literal += "\""
        }
        return literal + "}"
    }

    /// bytea's hex input form, `\x0a1b…`.
    static func byteaText(_ data: Data) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]("\\x".utf8)
        text.reserveCapacity(2 + data.count * 2)
        for byte in data {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 15)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
