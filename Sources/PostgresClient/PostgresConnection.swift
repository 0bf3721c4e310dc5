import CLibPQ
import ConnectorCore
import Foundation

/// One libpq connection, used by one thread at a time.
///
/// Not `Sendable`: the C handle never leaves the thread that owns it. Errors are
/// ``SyncError``s of the kind given at connect time, naming the server, the
/// operation, the SQLSTATE and libpq's message, and saying what to check.
public final class PostgresConnection {
    let handle: OpaquePointer
    /// Where the connection goes, for messages; never a password.
    public let server: String
    let kind: SyncError.Kind

    /// Connects, or throws naming the server and what to check.
    /// - Parameters:
    ///   - settings: where and how to connect.
    ///   - kind: the kind of error this connection reports (`.source`, `.snapshot`).
    public init(_ settings: PostgresSettings, kind: SyncError.Kind) throws {
        self.kind = kind
        let pairs = settings.keywords
        let connection = withCStrings(pairs.map(\.0)) { keywords in
            withCStrings(pairs.map(\.1)) { values in PQconnectdbParams(keywords, values, 1) }
        }
        guard let connection else {
            throw SyncError(kind, "\(settings): connecting failed: libpq is out of memory")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = Self.clean(PQerrorMessage(connection))
            PQfinish(connection)
            throw SyncError(kind, "\(settings): connecting failed: \(message)", hint: Self.connectHint(message))
        }
        handle = connection
        // The server's notices (`relation already exists, skipping`) are not for the operator's terminal.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        let host = String(cString: PQhost(connection))
        let where_ = host.hasPrefix("/") ? "socket \(host)" : host
        server = "postgres \(where_):\(String(cString: PQport(connection)))/\(String(cString: PQdb(connection)))"
    }

    deinit { PQfinish(handle) }

    /// Runs a statement (or several, without parameters) and discards any rows.
    /// - Parameters:
    ///   - sql: the statement.
    ///   - parameters: `$1`, `$2`… as text; `nil` is NULL.
    ///   - doing: what this is, for messages ("starting the read-only transaction").
    public func execute(_ sql: String, _ parameters: [String?] = [], doing: String) throws {
        let result: OpaquePointer? =
            parameters.isEmpty
            ? PQexec(handle, sql)
            : withParameters(parameters) { PQexecParams(handle, sql, Int32(parameters.count), nil, $0, nil, nil, 0) }
        defer { PQclear(result) }
        try check(result, doing: doing)
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    public func transaction(doing: String, _ body: () throws -> Void) throws {
        try execute("BEGIN", doing: doing)
        do {
            try body()
            try execute("COMMIT", doing: doing)
        } catch {
            try? execute("ROLLBACK", doing: doing)
            throw error
        }
    }

    /// Runs a query and hands each row to `body` as it arrives (libpq's single-row
    /// mode), so memory does not grow with the result. An error part-way throws
    /// after the rows before it were handed over; the caller must then discard them.
    /// - Parameters:
    ///   - sql: one SELECT (or other statement returning rows).
    ///   - parameters: `$1`, `$2`… as text; `nil` is NULL. Never spliced into the SQL.
    ///   - binary: ask for values in binary form rather than text.
    ///   - doing: what this is, for messages.
    ///   - body: called once per row; the row is valid only during the call.
    public func query(
        _ sql: String, _ parameters: [String?] = [], binary: Bool = false, doing: String,
        _ body: (PostgresRow) throws -> Void
    ) throws {
        let sent = withParameters(parameters) {
            PQsendQueryParams(handle, sql, Int32(parameters.count), nil, $0, nil, nil, binary ? 1 : 0)
        }
        guard sent == 1 else { throw failure(doing: doing, message: Self.clean(PQerrorMessage(handle))) }
        PQsetSingleRowMode(handle)
        var thrown: (any Error)?
        var sawRows = false
        while let result = PQgetResult(handle) {
            defer { PQclear(result) }
            guard thrown == nil else { continue }
            switch PQresultStatus(result) {
            case PGRES_SINGLE_TUPLE:
                sawRows = true
                do { try body(PostgresRow(result: result, row: 0)) } catch {
                    thrown = error
                    cancelRunningStatement()
                }
            case PGRES_TUPLES_OK:
                sawRows = true
            case PGRES_COMMAND_OK where !sawRows:
                thrown = SyncError(
                    kind, "\(server): \(doing): the statement returned no rows",
                    hint: "the query must be a SELECT (or another statement that returns rows)")
            default:
                do { try check(result, doing: doing) } catch { thrown = error }
            }
        }
        if let thrown { throw thrown }
    }

    /// Asks the server to stop the statement running; what it already sent is still to be drained and freed.
    func cancelRunningStatement() {
        guard let cancel = PQgetCancel(handle) else { return }
        var buffer = [CChar](repeating: 0, count: 256)
        _ = PQcancel(cancel, &buffer, 256)
        PQfreeCancel(cancel)
    }

    /// Throws the error a result carries, if any.
    func check(_ result: OpaquePointer?, doing: String) throws {
        guard let result else { throw failure(doing: doing, message: Self.clean(PQerrorMessage(handle))) }
        let status = PQresultStatus(result)
        guard status == PGRES_FATAL_ERROR || status == PGRES_BAD_RESPONSE || status == PGRES_NONFATAL_ERROR else {
            return
        }
        func field(_ code: Int32) -> String? {
            PQresultErrorField(result, code).map { String(cString: $0) }
        }
        let state = field(clibpq_diag_sqlstate())
        let primary = field(clibpq_diag_message_primary()) ?? Self.clean(PQresultErrorMessage(result))
        var said = primary
        if let detail = field(clibpq_diag_message_detail()) { said += " (\(detail))" }
        if let position = field(clibpq_diag_statement_position()) { said += " at character \(position)" }
        // The server's words may quote a row's values (a bad date, a duplicate key's DETAIL): they
        // stay in serverText, unless the error's class never speaks of data.
        let safe = state.map(Self.speaksOnlyOfTheQuery) ?? false
        throw failure(
            doing: doing, message: safe ? said : "the server's words are shown with --log-level debug",
            sqlState: state, serverHint: field(clibpq_diag_message_hint()), serverText: safe ? nil : said)
    }

    /// Whether errors of a SQLSTATE speak only of the query, the schema or the connection, never of
    /// a row's values: syntax and undefined objects (42), privileges, connections (08), logins (28),
    /// a read-only transaction (25006), a cancelled or timed-out statement (57).
    static func speaksOnlyOfTheQuery(_ state: String) -> Bool {
        ["42", "08", "28", "57"].contains(String(state.prefix(2))) || state == "25006"
    }

    func failure(
        doing: String, message: String, sqlState: String? = nil, serverHint: String? = nil, serverText: String? = nil
    ) -> SyncError {
        let state = sqlState.map { " [SQLSTATE \($0)]" } ?? ""
        let hint = [
            serverHint, sqlState.flatMap(Self.stateHint) ?? (sqlState == nil ? Self.connectHint(message) : nil),
        ]
        .compactMap { $0 }.joined(separator: "; ")
        return SyncError(
            kind, "\(server): \(doing) failed\(state): \(message)", hint: hint.isEmpty ? nil : hint,
            serverText: serverText)
    }

    /// What to check for the SQLSTATEs an operator meets most.
    static func stateHint(_ state: String) -> String? {
        switch state {
        case "42P01": "a table or view in the query does not exist: check its name and schema (search_path)"
        case "42703": "a column in the query does not exist: check its spelling against the table"
        case "42601": "the query has a syntax error near the position shown"
        case "42501": "the user lacks a privilege: GRANT SELECT on the tables the query reads"
        case "57014": "the statement ran out of time: raise statement_timeout_seconds or make the query cheaper"
        case "25006": "the query tried to write; a source query must only read (SELECT)"
        case "08P01": "the query's parameters do not match its $n placeholders: check `params`"
        case "22P02", "22007", "22008": "a parameter or value has the wrong form for its type: check `params`"
        case "40001", "40P01": "the server aborted the transaction because of concurrent work: run again"
        case "53300": "the server has too many connections: try again later or raise max_connections"
        case "3D000": "the database does not exist: check dbname in conninfo"
        case "28P01", "28000": "check the user name and the password (password_env, password_file or ~/.pgpass)"
        default: state.hasPrefix("08") ? "the connection to the server was lost: check the server and the network" : nil
        }
    }

    /// What to check for a failure to connect, from libpq's message.
    static func connectHint(_ message: String) -> String? {
        let text = message.lowercased()
        if text.contains("password authentication failed") || text.contains("no password supplied") {
            return "check the user name and the password (password_env, password_file or ~/.pgpass)"
        }
        if text.contains("pg_hba.conf") { return "the server's pg_hba.conf does not admit this user from this host" }
        if text.contains("does not exist") { return "check dbname and user in conninfo" }
        if text.contains("certificate") || text.contains("ssl") {
            return "check sslmode and sslrootcert: the CA file must sign the server's certificate, "
                + "and the host name in conninfo must match it"
        }
        if text.contains("connection refused") || text.contains("could not connect") || text.contains("timeout")
            || text.contains("could not translate host name")
        {
            return "check host and port in conninfo, and that the server is running and reachable from here"
        }
        return nil
    }

    /// libpq's message on one line.
    static func clean(_ message: UnsafePointer<CChar>?) -> String {
        guard let message else { return "unknown error" }
        return String(cString: message).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
    }
}

/// A row's values as text (or binary, when asked for), however they came.
public protocol PostgresRowValues {
    /// Whether a value is NULL.
    func isNull(_ column: Int) -> Bool
    /// A value's bytes; empty for NULL.
    func bytes(_ column: Int) -> UnsafeRawBufferPointer
}

extension PostgresRowValues {
    /// A text value, or `nil` for NULL.
    public func text(_ column: Int) -> String? {
        isNull(column) ? nil : String(decoding: bytes(column), as: UTF8.self)
    }
}

/// One row of a result, valid only inside the call that hands it over.
public struct PostgresRow: PostgresRowValues {
    fileprivate let result: OpaquePointer
    fileprivate let row: Int32

    fileprivate init(result: OpaquePointer, row: Int32) {
        self.result = result
        self.row = row
    }

    /// How many columns.
    public var count: Int { Int(PQnfields(result)) }
    /// A column's name.
    public func name(_ column: Int) -> String { String(cString: PQfname(result, Int32(column))) }
    /// A column's type OID.
    public func type(_ column: Int) -> UInt32 { PQftype(result, Int32(column)) }
    /// Whether a value is NULL.
    public func isNull(_ column: Int) -> Bool { PQgetisnull(result, row, Int32(column)) == 1 }
    /// A value's bytes (text form, or binary when asked for); empty for NULL.
    public func bytes(_ column: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(
            start: PQgetvalue(result, row, Int32(column)), count: Int(PQgetlength(result, row, Int32(column))))
    }
}

/// Runs `body` with C strings for `strings`, NULL-terminated array.
private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    var pointers = copies.map { UnsafePointer<CChar>($0) } + [nil]
    return pointers.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
}

/// Runs `body` with C strings for parameters; `nil` becomes a NULL pointer (SQL NULL).
private func withParameters<R>(_ parameters: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
    guard !parameters.isEmpty else { return body(nil) }
    let copies = parameters.map { $0.map { strdup($0) } ?? nil }
    defer { copies.forEach { free($0) } }
    var pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
    return pointers.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
}
