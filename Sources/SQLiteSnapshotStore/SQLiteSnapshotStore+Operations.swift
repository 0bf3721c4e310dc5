import ConnectorCore
import Foundation
import GRDB
import GRDBSQLite
import SyncCore

/// Reading and writing people and the journal, each call one transaction.
extension SQLiteSnapshotStore {
    /// Every person, in id order. Read through SQLite's C API: a million rows in
    /// a fraction of a second, where decoding GRDB rows took seconds.
    public func index() async throws -> SnapshotIndex {
        try await read { db in
            let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM people") ?? 0
            return try self.index(
                db, capacity: count,
                sql:
                    "SELECT source_id, fingerprint, terminated_at IS NOT NULL, missing_since FROM people ORDER BY source_id"
            )
        }
    }

    /// Selects the partial index in one query (the listed ids through `json_each`), rather than reading
    /// everyone's entry.
    public func changeReadIndex(for ids: Set<String>) async throws -> ChangeReadIndex {
        try await read { db in
            let active = try Int.fetchOne(db, sql: "SELECT count(*) FROM people WHERE terminated_at IS NULL") ?? 0
            let index = try self.index(
                db, capacity: ids.count,
                sql: """
                    SELECT source_id, fingerprint, terminated_at IS NOT NULL, missing_since FROM people
                    WHERE terminated_at IS NOT NULL OR missing_since IS NOT NULL OR fingerprint = ?
                        OR source_id IN (SELECT value FROM json_each(?))
                    """,
                arguments: [Data(Fingerprint.unconfirmed.bytes), JSONWriter.array(ids.sorted())])
            return ChangeReadIndex(index: index, active: active)
        }
    }

    /// Reads index entries (source id, fingerprint, terminated, missing since) from a query, through
    /// the C API: GRDB's rows cost more than the reading itself.
    private func index(
        _ db: Database, capacity: Int, sql: String, arguments: StatementArguments = []
    ) throws -> SnapshotIndex {
        var index = SnapshotIndex()
        index.reserveCapacity(capacity)
        let statement = try db.makeStatement(sql: sql)
        try statement.setArguments(arguments)
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
                throw SyncError.damagedSnapshot(self.description, "the fingerprint of \(id) is damaged")
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

    public func people(_ sourceIDs: [String]) async throws -> [String: StoredPerson] {
        guard !sourceIDs.isEmpty else { return [:] }
        return try await read { db in try self.people(sourceIDs, in: db) }
    }

    /// The stored state of the given people, read inside a transaction that is already open.
    func people(_ sourceIDs: some Sequence<String>, in db: Database) throws -> [String: StoredPerson] {
        var people: [String: StoredPerson] = [:]
        let statement = try db.makeStatement(
            sql: "SELECT fields, terminated_at, missing_since FROM people WHERE source_id = ?")
        // Through the C API, as `index()`: GRDB's rows cost more than the lookups themselves.
        let handle = statement.sqliteStatement
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        defer { sqlite3_reset(handle) }
        for var id in sourceIDs {
            sqlite3_reset(handle)
            _ = id.withUTF8 { sqlite3_bind_text(handle, 1, $0.baseAddress, Int32($0.count), transient) }
            let step = sqlite3_step(handle)
            if step == SQLITE_DONE { continue }
            guard step == SQLITE_ROW else {
                throw SyncError(
                    .snapshot,
                    "\(description): reading \(id) failed: "
                        + String(cString: sqlite3_errmsg(sqlite3_db_handle(handle))))
            }
            let count = Int(sqlite3_column_bytes(handle, 0))
            let json = sqlite3_column_blob(handle, 0).map { Data(bytes: $0, count: count) } ?? Data()
            guard let fields = StoredPerson.decodeFields(json) else {
                throw SyncError.damagedSnapshot(description, "the stored fields of \(id) are damaged")
            }
            let terminatedAt =
                sqlite3_column_type(handle, 1) == SQLITE_NULL
                ? nil : String(cString: sqlite3_column_text(handle, 1))
            let missing =
                sqlite3_column_type(handle, 2) == SQLITE_NULL
                ? nil : Date(timeIntervalSince1970: sqlite3_column_double(handle, 2))
            people[id] = StoredPerson(sourceID: id, fields: fields, terminatedAt: terminatedAt, missingSince: missing)
        }
        return people
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
            try self.recordAccepted(updates, resolving: journalKey, in: db)
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
            try self.record(updates.map(\.sourceID), .unconfirmed, resolving: journalKey, in: db)
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
            var changed: [String] = []
            for id in sourceIDs {
                try statement.execute(arguments: [since?.timeIntervalSince1970, id])
                if db.changesCount > 0 { changed.append(id) }
            }
            try self.record(changed, .missing(since: since), resolving: nil, in: db)
        }
    }

    /// How many people the snapshot holds, and how many of them are terminated.
    public func counts() async throws -> (people: Int, terminated: Int) {
        try await read { db in
            let row = try Row.fetchOne(db, sql: "SELECT count(*), count(terminated_at) FROM people")!
            return (row[0], row[1])
        }
    }

    // MARK: - Transactions

    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await queue.read(body)
        } catch let error as SyncError {
            throw error
        } catch {
            throw SyncError(
                .snapshot, "reading the snapshot \(description) failed: \(error)",
                hint: "if the file is damaged, restore it from backup or move it away and run `sync --full`",
                underlying: error)
        }
    }

    func write(_ body: @escaping @Sendable (Database) throws -> Void) async throws {
        do {
            try await queue.write(body)
        } catch let error as SyncError {
            throw error
        } catch {
            throw SyncError(
                .snapshot, "writing the snapshot \(description) failed: \(error)",
                hint: "check free disk space and the file's permissions; nothing of this batch was recorded",
                underlying: error)
        }
    }
}
