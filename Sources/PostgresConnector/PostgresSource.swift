import ConnectorCore
import Foundation
import Logging
import PostgresClient

/// People from a PostgreSQL query (`source.type: postgres`), through libpq.
///
/// Settings: `conninfo`, `password_env` / `password_file`, `sslmode`,
/// `sslrootcert` (see ``PostgresSettings``), `query` (a SELECT), `params`
/// (values for `$1`, `$2`…, bound as parameters), `inline_params` (write them
/// into the SQL instead, for speed: an opt-in), `id` (the column that identifies
/// a person), `statement_timeout_seconds` (default 300).
///
/// The query runs in a read-only, repeatable-read transaction, so it sees one
/// consistent state and cannot change anything; rows are streamed as they come,
/// so memory does not grow with the table. A query (`SELECT`, `WITH`, `VALUES`,
/// `TABLE`) without parameters streams through `COPY (query) TO STDOUT`; one with
/// parameters runs in libpq's single-row mode with them bound, so their values
/// never reach the SQL text (`pg_stat_activity`, the server's statement log).
/// With `inline_params: true` they are written in as literals the server quoted,
/// once the server has said the query returns the same columns either way, and
/// it streams through `COPY` too. Anything else runs as it is, in single-row mode.
/// Column names are the attribute names; ``PostgresValues`` documents how each type reads.
public struct PostgresSource: UserSource, SourceConnector {
    public static let type = "postgres"
    public static let summary = "a PostgreSQL query, streamed in a read-only transaction: conninfo, query, params, id"

    /// Where the database is.
    public var settings: PostgresSettings
    /// The SELECT that returns one row per person.
    public var query: String
    /// Values for the query's `$1`, `$2`…; `nil` is NULL.
    public var parameters: [String?]
    /// The column that identifies a person.
    public var idColumn: String
    /// How long the query may run, in seconds.
    public var statementTimeoutSeconds = 300
    /// Write the parameters into the SQL as quoted literals, so that the query streams through
    /// `COPY` (`inline_params: true`): faster, but their values then show in `pg_stat_activity`
    /// and in any statement the server logs. Off by default.
    public var inlineParameters = false
    /// The columns the mapping reads: one the query returns twice is an error, as it is ambiguous.
    public var mappedColumns: [String] = []

    /// Creates a source.
    public init(settings: PostgresSettings, query: String, parameters: [String?] = [], idColumn: String) {
        self.settings = settings
        self.query = query
        self.parameters = parameters
        self.idColumn = idColumn
    }

    public static func makeSource(section: ConfigSection, context: SourceContext) throws -> any UserSource {
        let settings = try PostgresSettings(section: section, folder: context.folder, logger: context.logger)
        let query = try section.requiredString(
            "query", hint: "a SELECT returning one row per person, such as SELECT id, first_name, … FROM employees")
        var parameters: [String?] = []
        if let node = section.node("params") {
            guard case .sequence(let items) = node.value else {
                throw node.error("must be a list of values for $1, $2, …")
            }
            parameters = try items.map { item in
                if case .null = item.value { return nil }
                return try item.text()
            }
        }
        var source = PostgresSource(
            settings: settings, query: query, parameters: parameters,
            idColumn: try section.requiredString("id", hint: "the column that identifies a person, such as employee_id")
        )
        source.statementTimeoutSeconds =
            try section.int("statement_timeout_seconds", in: 1...86_400) ?? source.statementTimeoutSeconds
        source.inlineParameters = try section.bool("inline_params") ?? false
        source.mappedColumns = context.mappedAttributes
        return source
    }

    public var description: String { settings.description }

    /// The query as `COPY` can run it, parameters written in (only with ``inlineParameters``); `nil`
    /// when it cannot be made so for certain: the same query, bound or written in, must return the
    /// same columns.
    private func copyQuery(_ columns: StatementDescription, connection: PostgresConnection, doing: String) throws
        -> String?
    {
        guard parameters.isEmpty || inlineParameters else { return nil }
        let literals = try parameters.map(connection.literal)
        guard let inlined = CopyQuery.inlining(query, literals: literals) else { return nil }
        guard !parameters.isEmpty else { return inlined }
        try connection.execute("SAVEPOINT inlining", doing: doing)
        let same = (try? connection.describe(inlined, parameterCount: 0, doing: doing)) == columns.withoutParameters
        try connection.execute(
            same ? "RELEASE SAVEPOINT inlining" : "ROLLBACK TO SAVEPOINT inlining", doing: doing)
        return same ? inlined : nil
    }

    public func records() -> ThreadedRecordStream {
        ThreadedRecordStream(name: "postgres-reader") { [self] emitter in
            let connection = try PostgresConnection(settings, kind: .source)
            try connection.execute(
                "SET DateStyle = ISO, YMD; SET TimeZone = 'UTC'; SET IntervalStyle = iso_8601; "
                    + "SET standard_conforming_strings = on; "
                    + "START TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY; "
                    + "SET LOCAL statement_timeout = \(statementTimeoutSeconds * 1000)",
                doing: "starting the read-only transaction")
            let doing = "running source.query"
            let columns = try connection.describe(query, parameterCount: parameters.count, doing: doing)
            var row = 0
            guard !columns.names.isEmpty, columns.parameterCount == parameters.count,
                let copy = try copyQuery(columns, connection: connection, doing: doing)
            else {
                // Not a plain query, or its parameters do not match: run it as it is (single-row
                // mode), so every error reads as the server gives it.
                var layout: PostgresValues?
                try connection.query(query, parameters, doing: doing) { result in
                    if layout == nil {
                        layout = try PostgresValues(columns: columns, idColumn: idColumn, mappedColumns: mappedColumns)
                    }
                    row += 1
                    try emitter.emit(layout!.record(result, location: .row(row, of: connection.server)))
                }
                try connection.execute("COMMIT", doing: "ending the read-only transaction")
                return
            }
            let layout = try PostgresValues(columns: columns, idColumn: idColumn, mappedColumns: mappedColumns)
            try connection.copy(copy, columns: columns.names.count, doing: doing) { result in
                row += 1
                try emitter.emit(layout.record(result, location: .row(row, of: connection.server)))
            }
            try connection.execute("COMMIT", doing: "ending the read-only transaction")
        }
    }
}
