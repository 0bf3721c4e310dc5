import ConnectorCore
import Foundation
import GRDB
import GRDBSQLite
import SyncCore

/// The run history and the per-person audit trail: table `runs` (one row a run) and table
/// `events` (what each run did to each person: the kind of change and the names of the
/// fields it changed, never their values). Added beside `people` and `journal` without a
/// new schema version, so an earlier release still opens the file and simply ignores them.
extension SQLiteSnapshotStore {
    /// Creates the history tables if the file was made before they existed.
    static func addHistoryTables(_ queue: DatabaseQueue) throws {
        try queue.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE IF NOT EXISTS runs (
                        run_id TEXT PRIMARY KEY,
                        command TEXT NOT NULL,
                        host TEXT NOT NULL,
                        started_at REAL NOT NULL,
                        finished_at REAL,
                        status TEXT NOT NULL,
                        exit_status INTEGER,
                        records INTEGER NOT NULL DEFAULT 0,
                        created INTEGER NOT NULL DEFAULT 0,
                        updated INTEGER NOT NULL DEFAULT 0,
                        terminated INTEGER NOT NULL DEFAULT 0,
                        rekeyed INTEGER NOT NULL DEFAULT 0,
                        rejected INTEGER NOT NULL DEFAULT 0,
                        invalid INTEGER NOT NULL DEFAULT 0,
                        waiting INTEGER NOT NULL DEFAULT 0,
                        imports_sent INTEGER NOT NULL DEFAULT 0,
                        error TEXT
                    );
                    CREATE INDEX IF NOT EXISTS runs_started ON runs (started_at);
                    CREATE TABLE IF NOT EXISTS events (
                        seq INTEGER PRIMARY KEY,
                        run_id TEXT NOT NULL,
                        source_id TEXT NOT NULL,
                        at REAL NOT NULL,
                        kind TEXT NOT NULL,
                        fields TEXT NOT NULL DEFAULT '[]',
                        other_id TEXT,
                        import_id TEXT
                    );
                    CREATE INDEX IF NOT EXISTS events_person ON events (source_id);
                    CREATE INDEX IF NOT EXISTS events_run ON events (run_id);
                    """)
            // Added after the first release of the history: what each joined source matched.
            let columns = try Row.fetchAll(db, sql: "PRAGMA table_info(runs)").map { $0["name"] as String }
            if !columns.contains("joined") { try db.execute(sql: "ALTER TABLE runs ADD COLUMN joined TEXT") }
            // And how each run read its source, with its change feed's position (JSON).
            if !columns.contains("source_read") {
                try db.execute(sql: "ALTER TABLE runs ADD COLUMN source_read TEXT")
            }
        }
    }

    // MARK: - Writing, inside the transactions of the operations

    public func beginRun(_ run: RunRecord) async throws {
        try await write { db in
            try db.execute(
                sql: "UPDATE runs SET status = 'interrupted' WHERE status = 'running' AND run_id <> ?",
                arguments: [run.id])
            try Self.save(run, in: db)
        }
        currentRun.withLock { $0 = run }
    }

    public func finishRun(_ run: RunRecord, keep: Int, keepEvents: Int) async throws {
        try await write { db in
            try Self.save(run, in: db)
            // The oldest runs beyond `keep`, and what they did to people.
            let cutoff = try Double.fetchOne(
                db, sql: "SELECT started_at FROM runs ORDER BY started_at DESC LIMIT 1 OFFSET ?",
                arguments: [max(keep, 1) - 1])
            if let cutoff {
                try db.execute(
                    sql: "DELETE FROM events WHERE run_id IN (SELECT run_id FROM runs WHERE started_at < ?)",
                    arguments: [cutoff])
                try db.execute(sql: "DELETE FROM runs WHERE started_at < ?", arguments: [cutoff])
            }
            // The oldest events beyond `keepEvents`, whatever runs they belong to.
            try db.execute(
                sql: "DELETE FROM events WHERE seq <= (SELECT seq FROM events ORDER BY seq DESC LIMIT 1 OFFSET ?)",
                arguments: [max(keepEvents, 1)])
        }
        try await reclaimSpace()
        currentRun.withLock { $0 = nil }
    }

    /// Gives the pages freed by forgotten runs and events back to the file system: incrementally
    /// where the file allows it, else (a file made before it did) with one `VACUUM` once a quarter
    /// of the file is free, which also makes it incremental from then on.
    private func reclaimSpace() async throws {
        do {
            try await queue.writeWithoutTransaction { db in
                let mode = try Int.fetchOne(db, sql: "PRAGMA auto_vacuum") ?? 0
                if mode == 2 {
                    try db.execute(sql: "PRAGMA incremental_vacuum")
                    return
                }
                let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
                let free = try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
                guard free * 4 > pages, pages > 256 else { return }
                try db.execute(sql: "PRAGMA auto_vacuum = INCREMENTAL")
                try db.execute(sql: "VACUUM")
            }
        } catch {
            throw SyncError(
                .snapshot, "reclaiming the free space of \(description) failed: \(error)",
                hint: "check free disk space (VACUUM needs as much again as the file); the run itself is recorded",
                underlying: error)
        }
    }

    private static func save(_ run: RunRecord, in db: Database) throws {
        try db.execute(
            sql: """
                INSERT OR REPLACE INTO runs (run_id, command, host, started_at, finished_at, status, exit_status,
                    records, created, updated, terminated, rekeyed, rejected, invalid, waiting, imports_sent, error,
                    joined, source_read)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                run.id, run.command.rawValue, run.host, run.startedAt.timeIntervalSince1970,
                run.finishedAt?.timeIntervalSince1970, run.status, run.exitStatus, run.records, run.created,
                run.updated, run.terminated, run.rekeyed, run.rejected, run.invalid, run.waiting, run.importsSent,
                run.error, run.joinedJSON, run.readJSON,
            ])
    }

    /// Records what accepted rows do to people, before they are written over: called by `commit`.
    func recordAccepted(_ updates: [SnapshotUpdate], resolving journalKey: String?, in db: Database) throws {
        guard let run = currentRun.withLock({ $0 }), !updates.isEmpty else { return }
        let importID = try Self.importID(journalKey, in: db)
        let stored = try people(PersonEvent.idsToCompare(updates), in: db)
        try insert(PersonEvent.accepted(updates, stored: stored, run: run, importID: importID, at: Date()), in: db)
    }

    /// Records one kind of event for each of these people: called by `markUnconfirmed` and `setMissing`.
    func record(_ sourceIDs: [String], _ kind: PersonEvent.Kind, resolving journalKey: String?, in db: Database)
        throws
    {
        guard let run = currentRun.withLock({ $0 }), !sourceIDs.isEmpty else { return }
        let importID = try Self.importID(journalKey, in: db)
        let now = Date()
        try insert(
            sourceIDs.map { PersonEvent(sourceID: $0, kind: kind, runID: run.id, importID: importID, at: now) }, in: db)
    }

    private static func importID(_ journalKey: String?, in db: Database) throws -> String? {
        guard let journalKey else { return nil }
        return try String.fetchOne(
            db, sql: "SELECT import_id FROM journal WHERE idempotency_key = ?", arguments: [journalKey])
    }

    private func insert(_ events: [PersonEvent], in db: Database) throws {
        let statement = try db.makeStatement(
            sql:
                "INSERT INTO events (run_id, source_id, at, kind, fields, other_id, import_id) VALUES (?, ?, ?, ?, ?, ?, ?)"
        )
        for event in events {
            try statement.execute(arguments: [
                event.runID, event.sourceID, event.at.timeIntervalSince1970, event.kind.rawValue,
                JSONWriter.array(event.fields), event.otherID, event.importID,
            ])
        }
    }

    // MARK: - Reading, for `status` and `history`

    public func runs(limit: Int) async throws -> [RunRecord] {
        try await read { db in
            guard try db.tableExists("runs") else { return [] }
            return try Row.fetchAll(
                db, sql: "SELECT * FROM runs ORDER BY started_at DESC LIMIT ?", arguments: [limit]
            ).map(Self.run)
        }
    }

    public func lastSuccess() async throws -> RunRecord? {
        try await read { db in
            guard try db.tableExists("runs") else { return nil }
            return try Row.fetchOne(
                db,
                sql:
                    "SELECT * FROM runs WHERE status IN ('completed', 'rejected') AND command IN ('sync', 'full') ORDER BY started_at DESC LIMIT 1"
            ).map(Self.run)
        }
    }

    public func events(of sourceID: String) async throws -> [PersonEvent] {
        let description = description
        return try await read { db in
            guard try db.tableExists("events") else { return [] }
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT run_id, source_id, at, kind, fields, other_id, import_id FROM events
                    WHERE source_id = ? ORDER BY seq
                    """, arguments: [sourceID]
            ).map { row in
                guard let kind = PersonEvent.Kind(rawValue: row["kind"]),
                    let fields = (try? JSONSerialization.jsonObject(with: Data((row["fields"] as String).utf8)))
                        as? [String]
                else {
                    throw SyncError.damagedSnapshot(description, "an event of \(sourceID) is damaged")
                }
                return PersonEvent(
                    sourceID: row["source_id"], kind: kind, fields: fields, otherID: row["other_id"],
                    runID: row["run_id"], importID: row["import_id"], at: Date(timeIntervalSince1970: row["at"]))
            }
        }
    }

    public func writerRunning() async throws -> Bool? { SnapshotLock.isHeld(path: lockPath) }

    public func health() async throws -> StoreHealth {
        try await read { db in
            let people = try Row.fetchOne(
                db,
                sql: """
                    SELECT count(*), count(terminated_at),
                        count(CASE WHEN missing_since IS NOT NULL AND terminated_at IS NULL THEN 1 END) FROM people
                    """)!
            let journal = try Int.fetchOne(db, sql: "SELECT count(*) FROM journal") ?? 0
            return StoreHealth(people: people[0], terminated: people[1], missing: people[2], journalPending: journal)
        }
    }

    private static func run(_ row: Row) -> RunRecord {
        var run = RunRecord(
            id: row["run_id"], command: RunRecord.Command(rawValue: row["command"]) ?? .sync,
            startedAt: Date(timeIntervalSince1970: row["started_at"]), host: row["host"])
        run.finishedAt = (row["finished_at"] as Double?).map(Date.init(timeIntervalSince1970:))
        run.status = row["status"]
        run.exitStatus = row["exit_status"]
        run.records = row["records"]
        run.created = row["created"]
        run.updated = row["updated"]
        run.terminated = row["terminated"]
        run.rekeyed = row["rekeyed"]
        run.rejected = row["rejected"]
        run.invalid = row["invalid"]
        run.waiting = row["waiting"]
        run.importsSent = row["imports_sent"]
        run.error = row["error"]
        run.joined = RunRecord.joined(fromJSON: row["joined"])
        run.read = RunRecord.read(fromJSON: row["source_read"])
        return run
    }
}
