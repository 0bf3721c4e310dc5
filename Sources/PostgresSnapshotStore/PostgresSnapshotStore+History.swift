import ConnectorCore
import Foundation
import PostgresClient
import SyncCore

/// The run history and the per-person audit trail: tables `"runs_JOB"` (one row a run) and
/// `"events_JOB"` (what each run did to each person: the kind of change and the names of
/// the fields it changed, never their values), as the SQLite store keeps them.
extension PostgresSnapshotStore {
    /// Creates the job's history tables if they are missing (a job made by an earlier release).
    static func addHistoryTables(_ tables: Tables, on connection: PostgresConnection) throws {
        try connection.execute(
            """
            CREATE TABLE IF NOT EXISTS \(tables.runs) (
                run_id text PRIMARY KEY,
                command text NOT NULL,
                host text NOT NULL,
                started_at double precision NOT NULL,
                finished_at double precision,
                status text NOT NULL,
                exit_status integer,
                records integer NOT NULL DEFAULT 0,
                created integer NOT NULL DEFAULT 0,
                updated integer NOT NULL DEFAULT 0,
                terminated integer NOT NULL DEFAULT 0,
                rekeyed integer NOT NULL DEFAULT 0,
                rejected integer NOT NULL DEFAULT 0,
                invalid integer NOT NULL DEFAULT 0,
                waiting integer NOT NULL DEFAULT 0,
                imports_sent integer NOT NULL DEFAULT 0,
                error text
            );
            CREATE TABLE IF NOT EXISTS \(tables.events) (
                seq bigserial PRIMARY KEY,
                run_id text NOT NULL,
                source_id text COLLATE "C" NOT NULL,
                at double precision NOT NULL,
                kind text NOT NULL,
                fields text NOT NULL DEFAULT '[]',
                other_id text,
                import_id text
            );
            CREATE INDEX IF NOT EXISTS \(Tables.quote("events_person_" + tables.job)) ON \(tables.events) (source_id);
            CREATE INDEX IF NOT EXISTS \(Tables.quote("events_run_" + tables.job)) ON \(tables.events) (run_id);
            ALTER TABLE \(tables.runs) ADD COLUMN IF NOT EXISTS joined text;
            ALTER TABLE \(tables.runs) ADD COLUMN IF NOT EXISTS source_read text;
            """, doing: "creating the history tables")
    }

    // MARK: - Writing

    public func beginRun(_ run: RunRecord) async throws {
        let tables = tables
        try await worker.run { connection in
            try connection.transaction(doing: "recording the run's start") {
                try connection.execute(
                    "UPDATE \(tables.runs) SET status = 'interrupted' WHERE status = 'running' AND run_id <> $1",
                    [run.id], doing: "closing runs that died")
                try Self.save(run, tables: tables, on: connection)
            }
        }
        currentRun.withLock { $0 = run }
    }

    public func finishRun(_ run: RunRecord, keep: Int, keepEvents: Int) async throws {
        let tables = tables
        try await worker.run { connection in
            try connection.transaction(doing: "recording the run's end") {
                try Self.save(run, tables: tables, on: connection)
                // The oldest runs beyond `keep`, and what they did to people.
                try connection.execute(
                    """
                    WITH old AS (SELECT run_id FROM \(tables.runs) ORDER BY started_at DESC OFFSET $1),
                    gone AS (DELETE FROM \(tables.events) WHERE run_id IN (SELECT run_id FROM old))
                    DELETE FROM \(tables.runs) WHERE run_id IN (SELECT run_id FROM old)
                    """, [String(max(keep, 1))], doing: "forgetting the oldest runs")
                // The oldest events beyond `keepEvents`, whatever runs they belong to (autovacuum reclaims them).
                try connection.execute(
                    """
                    DELETE FROM \(tables.events)
                    WHERE seq <= (SELECT seq FROM \(tables.events) ORDER BY seq DESC LIMIT 1 OFFSET $1)
                    """, [String(max(keepEvents, 1))], doing: "forgetting the oldest events")
            }
        }
        currentRun.withLock { $0 = nil }
    }

    private static func save(_ run: RunRecord, tables: Tables, on connection: PostgresConnection) throws {
        let numbers = [
            run.exitStatus, run.records, run.created, run.updated, run.terminated, run.rekeyed, run.rejected,
            run.invalid, run.waiting, run.importsSent,
        ].map { $0.map(String.init) }
        try connection.execute(
            """
            INSERT INTO \(tables.runs) (run_id, command, host, started_at, finished_at, status, error, exit_status,
                records, created, updated, terminated, rekeyed, rejected, invalid, waiting, imports_sent, joined,
                source_read)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
            ON CONFLICT (run_id) DO UPDATE SET finished_at = excluded.finished_at, status = excluded.status,
                error = excluded.error, exit_status = excluded.exit_status, records = excluded.records,
                created = excluded.created, updated = excluded.updated, terminated = excluded.terminated,
                rekeyed = excluded.rekeyed, rejected = excluded.rejected, invalid = excluded.invalid,
                waiting = excluded.waiting, imports_sent = excluded.imports_sent, joined = excluded.joined,
                source_read = excluded.source_read
            """,
            [
                run.id, run.command.rawValue, run.host, String(run.startedAt.timeIntervalSince1970),
                run.finishedAt.map { String($0.timeIntervalSince1970) }, run.status, run.error,
            ] + numbers + [run.joinedJSON, run.readJSON], doing: "recording the run")
    }

    /// Records what accepted rows do to people, before they are written over: called in `commit`'s transaction.
    static func recordAccepted(
        _ updates: [SnapshotUpdate], run: RunRecord, resolving journalKey: String?, tables: Tables,
        description: String, on connection: PostgresConnection
    ) throws {
        guard !updates.isEmpty else { return }
        let importID = try Self.importID(journalKey, tables: tables, on: connection)
        let stored = try people(
            PersonEvent.idsToCompare(updates), tables: tables, description: description, on: connection)
        try insert(
            PersonEvent.accepted(updates, stored: stored, run: run, importID: importID, at: Date()), tables: tables,
            on: connection)
    }

    /// Records one kind of event for each of these people: called in `markUnconfirmed`'s and `setMissing`'s.
    static func record(
        _ sourceIDs: [String], _ kind: PersonEvent.Kind, run: RunRecord, resolving journalKey: String?,
        tables: Tables, on connection: PostgresConnection
    ) throws {
        guard !sourceIDs.isEmpty else { return }
        let importID = try Self.importID(journalKey, tables: tables, on: connection)
        let now = Date()
        try insert(
            sourceIDs.map { PersonEvent(sourceID: $0, kind: kind, runID: run.id, importID: importID, at: now) },
            tables: tables, on: connection)
    }

    private static func importID(_ journalKey: String?, tables: Tables, on connection: PostgresConnection) throws
        -> String?
    {
        guard let journalKey else { return nil }
        var importID: String?
        try connection.query(
            "SELECT import_id FROM \(tables.journal) WHERE idempotency_key = $1", [journalKey],
            doing: "reading the import's id"
        ) { importID = $0.text(0) }
        return importID
    }

    private static func insert(_ events: [PersonEvent], tables: Tables, on connection: PostgresConnection) throws {
        guard let first = events.first else { return }
        try connection.execute(
            """
            INSERT INTO \(tables.events) (run_id, source_id, at, kind, fields, other_id, import_id)
            SELECT $1, id, $2, k, f, o, $3
            FROM unnest($4::text[], $5::text[], $6::text[], $7::text[]) WITH ORDINALITY AS u(id, k, f, o, n) ORDER BY n
            """,
            [
                first.runID, String(first.at.timeIntervalSince1970), first.importID,
                arrayLiteral(events.map(\.sourceID)), arrayLiteral(events.map(\.kind.rawValue)),
                arrayLiteral(events.map { JSONWriter.array($0.fields) }), arrayLiteral(events.map(\.otherID)),
            ], doing: "recording what happened to people")
    }

    // MARK: - Reading

    private static let runColumns = """
        run_id, command, host, started_at, finished_at, status, error, exit_status, records, created, updated,
        terminated, rekeyed, rejected, invalid, waiting, imports_sent, to_jsonb(r) ->> 'joined',
        to_jsonb(r) ->> 'source_read'
        """

    public func runs(limit: Int) async throws -> [RunRecord] {
        try await runs(where: "true", limit: limit)
    }

    public func lastSuccess() async throws -> RunRecord? {
        try await runs(where: "status IN ('completed', 'rejected') AND command IN ('sync', 'full')", limit: 1).first
    }

    private func runs(where condition: String, limit: Int) async throws -> [RunRecord] {
        let tables = tables
        return try await worker.run { connection in
            guard try Self.exists(tables.runs, on: connection) else { return [] }
            var runs: [RunRecord] = []
            try connection.query(
                // `joined` through to_jsonb: a job's tables from before it was added read too, until a run adds it.
                "SELECT \(Self.runColumns) FROM \(tables.runs) r WHERE \(condition) ORDER BY started_at DESC LIMIT $1",
                [String(limit)], doing: "reading the run history"
            ) { row in
                let number = { (i: Int) in row.text(i).flatMap { Int($0) } ?? 0 }
                var run = RunRecord(
                    id: row.text(0) ?? "", command: RunRecord.Command(rawValue: row.text(1) ?? "") ?? .sync,
                    startedAt: Date(timeIntervalSince1970: row.text(3).flatMap(Double.init) ?? 0),
                    host: row.text(2) ?? "")
                run.finishedAt = row.text(4).flatMap(Double.init).map(Date.init(timeIntervalSince1970:))
                run.status = row.text(5) ?? ""
                run.error = row.text(6)
                run.exitStatus = row.text(7).flatMap { Int($0) }
                (run.records, run.created, run.updated, run.terminated) = (number(8), number(9), number(10), number(11))
                (run.rekeyed, run.rejected, run.invalid, run.waiting) = (number(12), number(13), number(14), number(15))
                run.importsSent = number(16)
                run.joined = RunRecord.joined(fromJSON: row.text(17))
                run.read = RunRecord.read(fromJSON: row.text(18))
                runs.append(run)
            }
            return runs
        }
    }

    public func events(of sourceID: String) async throws -> [PersonEvent] {
        let tables = tables
        let description = description
        return try await worker.run { connection in
            guard try Self.exists(tables.events, on: connection) else { return [] }
            var events: [PersonEvent] = []
            var damaged = false
            try connection.query(
                """
                SELECT run_id, source_id, at, kind, fields, other_id, import_id FROM \(tables.events)
                WHERE source_id = $1 ORDER BY seq
                """, [sourceID], doing: "reading a person's history"
            ) { row in
                guard let kind = row.text(3).flatMap(PersonEvent.Kind.init(rawValue:)),
                    let fields = (try? JSONSerialization.jsonObject(with: Data((row.text(4) ?? "").utf8))) as? [String]
                else {
                    damaged = true
                    return
                }
                events.append(
                    PersonEvent(
                        sourceID: row.text(1) ?? "", kind: kind, fields: fields, otherID: row.text(5),
                        runID: row.text(0) ?? "", importID: row.text(6),
                        at: Date(timeIntervalSince1970: row.text(2).flatMap(Double.init) ?? 0)))
            }
            if damaged { throw SyncError.damagedSnapshot(description, "an event of \(sourceID) is damaged") }
            return events
        }
    }

    public func writerRunning() async throws -> Bool? {
        let tables = tables
        return try await worker.run { connection in
            var held = false
            try connection.query(
                """
                SELECT EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
                  AND ((l.classid::bigint << 32) | l.objid::bigint) = \(Self.lockKey))
                """, [tables.job], doing: "looking for a run holding the job's lock"
            ) { held = $0.text(0) == "t" }
            return held
        }
    }

    public func health() async throws -> StoreHealth {
        let tables = tables
        return try await worker.run { connection in
            var health = StoreHealth()
            try connection.query(
                """
                SELECT count(*), count(terminated_at), count(*) FILTER (WHERE missing_since IS NOT NULL AND terminated_at IS NULL),
                    (SELECT count(*) FROM \(tables.journal)) FROM \(tables.people)
                """, doing: "counting the snapshot's people"
            ) { row in
                let number = { (i: Int) in row.text(i).flatMap { Int($0) } ?? 0 }
                health = StoreHealth(
                    people: number(0), terminated: number(1), missing: number(2), journalPending: number(3))
            }
            return health
        }
    }

    private static func exists(_ table: String, on connection: PostgresConnection) throws -> Bool {
        var exists = false
        try connection.query("SELECT to_regclass($1) IS NOT NULL", [table], doing: "looking for the history tables") {
            exists = $0.text(0) == "t"
        }
        return exists
    }
}
