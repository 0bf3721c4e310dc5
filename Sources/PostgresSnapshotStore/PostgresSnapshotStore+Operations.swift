import ConnectorCore
import Foundation
import Logging
import PostgresClient
import SyncCore

/// Reading and writing people and the journal, each call one transaction.
extension PostgresSnapshotStore {
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
                throw SyncError.damagedSnapshot(description, "the fingerprint of \(damaged) is damaged")
            }
            return index
        }
    }

    public func people(_ sourceIDs: [String]) async throws -> [String: StoredPerson] {
        guard !sourceIDs.isEmpty else { return [:] }
        let tables = tables
        let description = description
        return try await worker.run { connection in
            try Self.people(sourceIDs, tables: tables, description: description, on: connection)
        }
    }

    /// The stored state of the given people, read on the worker's connection (inside a transaction, or not).
    static func people(
        _ sourceIDs: [String], tables: Tables, description: String, on connection: PostgresConnection
    ) throws -> [String: StoredPerson] {
        var people: [String: StoredPerson] = [:]
        guard !sourceIDs.isEmpty else { return people }
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
            throw SyncError.damagedSnapshot(description, "the stored fields of \(damaged) are damaged")
        }
        return people
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
        let run = currentRun.withLock { $0 }
        let description = description
        try await worker.run { connection in
            try connection.transaction(doing: "recording accepted rows") {
                if let run {
                    try Self.recordAccepted(
                        updates, run: run, resolving: journalKey, tables: tables, description: description,
                        on: connection)
                }
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
        let run = currentRun.withLock { $0 }
        try await worker.run { connection in
            try connection.transaction(doing: "marking rows unconfirmed") {
                if let run {
                    try Self.record(
                        updates.map(\.sourceID), .unconfirmed, run: run, resolving: journalKey, tables: tables,
                        on: connection)
                }
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
        let run = currentRun.withLock { $0 }
        try await worker.run { connection in
            try connection.transaction(doing: "noting who is missing") {
                var changed: [String] = []
                try connection.query(
                    "UPDATE \(tables.people) SET missing_since = $1 WHERE source_id = ANY($2::text[]) RETURNING source_id",
                    parameters, doing: "noting who is missing"
                ) { changed.append($0.text(0) ?? "") }
                if let run {
                    try Self.record(
                        changed, .missing(since: since), run: run, resolving: nil, tables: tables, on: connection)
                }
            }
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
