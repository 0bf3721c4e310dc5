import ConnectorCore
import ConnectorTestKit
import Foundation
import Logging
import PostgresClient
import SyncCore
import TestSupport
import Testing

@testable import PostgresClient
@testable import PostgresConnector

/// The PostgreSQL source against a real server (scripts/pg-test-server).
@Suite(.enabled(if: TestServers.postgres, Comment(rawValue: TestServers.why))) struct PostgresSourceTests {
    func source(_ query: String, _ parameters: [String?] = [], id: String = "employee_id", inline: Bool = false)
        throws -> PostgresSource
    {
        var source = PostgresSource(
            settings: try PostgresTestServer.reader(), query: query, parameters: parameters, idColumn: id)
        source.inlineParameters = inline
        return source
    }

    func failure(_ source: PostgresSource) async -> SyncError? {
        await readFailure(source) as? SyncError
    }

    @Test func readsEveryRowWithItsLocation() async throws {
        let records = try await readAll(try source("SELECT * FROM hr.employees ORDER BY employee_id"))
        let total = Int(try await PostgresTestServer.admin("SELECT count(*) FROM hr.employees"))!
        #expect(records.count == total)
        #expect(total >= 5000)
        #expect(Set(records.map(\.id)).count == total)
        #expect(records[0].id == "E000101")
        #expect(records[2].location?.description.hasSuffix("/hr, row 3") == true)
    }

    @Test func typesReadAsDocumented() async throws {
        let records = try await readAll(
            try source(
                """
                SELECT e.*, d.cost_center, f.compliance_facility_id, '\\x00ff10'::bytea AS blob,
                       ARRAY[true, NULL, false] AS flags, ARRAY[[1, 2], [3, 4]] AS grid, '{}'::text[] AS nothing,
                       '2026-03-04 05:06:07.891'::timestamp AS seen_at
                FROM hr.employees e JOIN hr.departments d USING (department_id) JOIN hr.facilities f USING (facility_id)
                WHERE employee_id IN ('E000101', 'E000102', 'E000106', 'E000125')
                ORDER BY employee_id
                """))
        let byID = Dictionary(uniqueKeysWithValues: records.map { ($0.id, $0) })
        let margaret = try #require(byID["E000101"])
        #expect(margaret["given_name"] == .text("Margaret"))
        #expect(margaret["person_uuid"] == .text("a3f1c2d4-0001-4000-8000-000000000101"))
        #expect(margaret["email_aliases"] == .multiple(["mhamilton@example.com"]))
        #expect(margaret["date_of_birth"] == .text("1966-08-17"))
        #expect(margaret["is_contractor"] == .text("false"))
        #expect(margaret["clearance_level"] == .text("3"))
        #expect(margaret["salary"] == .text("185000.00"))
        #expect(margaret["compliance_facility_id"] == .text("101"))
        #expect(margaret["ssn"] == .text("123-45-6701"))
        #expect(margaret["blob"] == .binary(Data([0, 255, 16])))
        #expect(margaret["flags"] == .multiple(["true", "false"]))
        #expect(margaret["grid"] == .multiple(["1", "2", "3", "4"]))
        #expect(margaret["nothing"] == nil)
        #expect(margaret["seen_at"] == .text("2026-03-04 05:06:07"))
        #expect(margaret["terminated_at"] == nil)
        #expect(margaret["status"] == .text("active"))
        #expect(byID["E000102"]?["cost_center"] == .text("ENG001"))
        #expect(byID["E000102"]?["family_name"] == .text("Núñez"))
        #expect(byID["E000102"]?["ssn"] == .text("123456702"))
        #expect(byID["E000106"]?["ssn"] == nil)
        #expect(byID["E000106"]?["is_contractor"] == .text("true"))
        // 17:00 at UTC-4 is 21:00 UTC, whatever the server's own time zone.
        #expect(byID["E000125"]?["terminated_at"] == .text("2026-06-30 21:00:00 UTC"))
        // char(6) holding five characters comes back without its padding.
        #expect(records.first { $0["cost_center"] != nil && $0["department_id"] == .text("20") }?["cost_center"] == nil)
    }

    @Test func paddedCharactersLoseTheirPadding() async throws {
        let records = try await readAll(
            try source("SELECT department_id AS id, cost_center FROM hr.departments ORDER BY 1", id: "id"))
        #expect(records.map { $0["cost_center"] } == [.text("ENG001"), .text("SEC01"), nil])
    }

    @Test func parametersAreBoundNotSpliced() async throws {
        let hostile = "active' OR '1'='1"
        let none = try await readAll(
            try source("SELECT employee_id FROM hr.employees WHERE status::text = $1", [hostile]))
        #expect(none.isEmpty)
        let leave = try await readAll(
            try source(
                "SELECT employee_id FROM hr.employees WHERE status::text = $1 AND employee_id > $2",
                ["on_leave", "E000000"]))
        #expect(
            leave.count
                == Int(
                    try await PostgresTestServer.admin("SELECT count(*) FROM hr.employees WHERE status = 'on_leave'")))
    }

    @Test func theQueryCannotWrite() async throws {
        let error = await failure(try source("UPDATE hr.employees SET title = 'x' RETURNING employee_id"))
        #expect(error?.message.contains("SQLSTATE 25006") == true, "\(String(describing: error))")
        #expect(try await PostgresTestServer.admin("SELECT count(*) FROM hr.employees WHERE title = 'x'") == "0")
    }

    @Test func anErrorPartWayFailsTheRead() async throws {
        // Row 3000 divides by zero after 2,999 rows have been streamed.
        let error = await failure(
            try source(
                "SELECT employee_id, 1 / (3000 - row_number() OVER (ORDER BY employee_id)) AS x FROM hr.employees"))
        #expect(error?.kind == .source)
        #expect(error?.message.contains("SQLSTATE 22012") == true, "\(String(describing: error))")
        #expect(error?.message.contains("running source.query") == true)
    }

    @Test func errorsNameTheProblemAndWhatToCheck() async throws {
        let table = await failure(try source("SELECT * FROM hr.staff"))
        #expect(table?.message.contains("SQLSTATE 42P01") == true)
        #expect(table?.message.contains("127.0.0.1") == true)
        #expect(table?.hint?.contains("does not exist") == true)

        let column = await failure(try source("SELECT employee_id, given_name FROM hr.employees", id: "person_id"))
        #expect(column?.kind == .configuration)
        #expect(column?.message.contains("no column `person_id`") == true)
        #expect(column?.message.contains("employee_id, given_name") == true)

        var twice = try source(
            "SELECT e.employee_id, e.department_id, d.* FROM hr.employees e JOIN hr.departments d ON d.department_id = e.department_id"
        )
        twice.mappedColumns = ["department_id"]
        let ambiguous = await failure(twice)
        #expect(
            ambiguous?.message.contains("returns the column `department_id` 2 times (columns 2, 3)") == true,
            "\(String(describing: ambiguous))")
        twice.mappedColumns = ["name"]
        #expect(try await readAll(twice).count >= 5000, "a repeated column nobody maps is fine")

        var timeout = try source("SELECT employee_id, pg_sleep(3) FROM hr.employees LIMIT 1")
        timeout.statementTimeoutSeconds = 1
        let slow = await failure(timeout)
        #expect(slow?.message.contains("SQLSTATE 57014") == true)
        #expect(slow?.hint?.contains("statement_timeout_seconds") == true)
    }

    @Test func aWrongPasswordIsNamedButNeverShown() async throws {
        var settings = try PostgresTestServer.reader()
        settings.password = Secret("Wrong-Password-7731")
        let error = await failure(PostgresSource(settings: settings, query: "SELECT 1 AS id", idColumn: "id"))
        let text = String(describing: error)
        #expect(text.contains("password authentication failed"))
        #expect(text.contains("127.0.0.1"))
        #expect(!text.contains("Wrong-Password-7731"))
        #expect(error?.hint?.contains("password_env") == true)
    }

    @Test func tlsVerifiesTheServerAgainstTheCA() async throws {
        var settings = try PostgresTestServer.reader()
        settings.sslMode = "verify-full"
        settings.sslRootCert = try PostgresTestServer.setting("PG_TEST_CA")
        let records = try await readAll(PostgresSource(settings: settings, query: "SELECT 'x' AS id", idColumn: "id"))
        #expect(records.map(\.id) == ["x"])

        settings.sslRootCert = try PostgresTestServer.setting("PG_TEST_OTHER_CA")
        let error = await failure(PostgresSource(settings: settings, query: "SELECT 'x' AS id", idColumn: "id"))
        #expect(error?.message.contains("certificate") == true, "\(String(describing: error))")
        #expect(error?.hint?.contains("sslrootcert") == true)
    }

    @Test func stoppingEarlyEndsTheQuery() async throws {
        var seen = 0
        for try await _ in try source("SELECT * FROM hr.employees CROSS JOIN generate_series(1, 50)").records() {
            seen += 1
            if seen == 10 { break }
        }
        #expect(seen == 10)
    }

    /// What the server shows of the source's query while it runs (`pg_stat_activity`), once ten rows are in.
    func runningQuery(_ query: String, _ parameters: [String?], inline: Bool, probe: String) async throws -> String {
        var seen = 0
        for try await _ in try source(query, parameters, inline: inline).records() {
            seen += 1
            guard seen == 10 else { continue }
            return try await PostgresTestServer.admin(
                """
                SELECT query FROM pg_stat_activity
                WHERE usename = 'compliance_reader' AND state = 'active' AND query LIKE '%\(probe)%'
                """)
        }
        return ""
    }

    @Test func aQueryWithoutParametersStreamsThroughCopy() async throws {
        let running = try await runningQuery(
            "SELECT e.employee_id, 'copy-probe' AS probe FROM hr.employees e CROSS JOIN generate_series(1, 50)", [],
            inline: false, probe: "copy-probe")
        #expect(running.hasPrefix("COPY ("), "\(running)")
    }

    /// A parameter (a pgcrypto key, say) is bound: its value is never in the SQL the server shows.
    @Test func boundParametersNeverReachTheSQLText() async throws {
        let query = """
            SELECT e.employee_id, 'bound-probe' AS probe FROM hr.employees e CROSS JOIN generate_series(1, 50)
            WHERE status::text = $1 OR $2 = 'never'
            """
        let running = try await runningQuery(
            query, ["active", "s3cret-Key-Value"], inline: false, probe: "bound-probe")
        #expect(running.contains("status::text = $1"), "\(running)")
        #expect(!running.contains("s3cret-Key-Value") && !running.hasPrefix("COPY"), "\(running)")
    }

    /// Asked for (`inline_params: true`), parameters are written in as literals and the query streams through COPY.
    @Test func inlinedParametersStreamThroughCopy() async throws {
        let query = """
            SELECT e.employee_id, 'inline-probe' AS probe FROM hr.employees e CROSS JOIN generate_series(1, 50)
            WHERE status::text = $1
            """
        let running = try await runningQuery(query, ["active"], inline: true, probe: "inline-probe")
        #expect(running.hasPrefix("COPY ("), "\(running)")
        #expect(running.contains("status::text = 'active'"), "the parameter is written in as a literal: \(running)")
    }

    @Test func aConnectionLostMidCopyFailsTheRead() async throws {
        var seen = 0
        let query = "SELECT e.employee_id, 'copy-lost' AS probe FROM hr.employees e CROSS JOIN generate_series(1, 200)"
        let error = await #expect(throws: SyncError.self) {
            for try await _ in try source(query).records() {
                seen += 1
                guard seen == 10 else { continue }
                _ = try await PostgresTestServer.admin(
                    """
                    SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                    WHERE usename = 'compliance_reader' AND query LIKE '%copy-lost%' AND pid <> pg_backend_pid()
                    """)
            }
        }
        #expect(error?.kind == .source, "\(String(describing: error))")
        #expect(error?.message.contains("running source.query") == true, "\(String(describing: error))")
    }

    @Test func copyReadsEveryValueAsItIs() async throws {
        let records = try await readAll(
            try source(
                #"""
                SELECT 'x' AS id, E'tab\there' AS tab, E'two\nlines\r' AS lines, E'back\\slash' AS back,
                       '\N' AS not_null, '' AS empty, NULL::text AS nothing, 'Núñez 😀' AS unicode,
                       ARRAY[E'a\tb', 'c"d', E'e\\f', NULL] AS list, E'\\x00ff5c09'::bytea AS blob,
                       true AS yes, '2026-01-02 03:04:05.5+00'::timestamptz AS at, 'ab'::char(4) AS padded;
                -- a comment after the query
                """#, id: "id"))
        let x = try #require(records.first)
        #expect(records.count == 1)
        #expect(x["tab"] == .text("tab\there"))
        #expect(x["lines"] == .text("two\nlines\r"))
        #expect(x["back"] == .text("back\\slash"))
        #expect(x["not_null"] == .text("\\N"))
        #expect(x["empty"] == .text(""))
        #expect(x["nothing"] == nil)
        #expect(x["unicode"] == .text("Núñez 😀"))
        #expect(x["list"] == .multiple(["a\tb", "c\"d", "e\\f"]))
        #expect(x["blob"] == .binary(Data([0, 255, 0x5c, 9])))
        #expect(x["yes"] == .text("true"))
        #expect(x["at"] == .text("2026-01-02 03:04:05 UTC"))
        #expect(x["padded"] == .text("ab"))
    }

    @Test(arguments: [false, true])
    func parametersWrittenInReadAsBound(_ inline: Bool) async throws {
        let values = ["O'Brien \\ \"quoted\" $1 ü\t", "E'x'", "$$", "--"]
        let records = try await readAll(
            try source(
                """
                SELECT $1::text AS id, $2 AS two, '$1' AS in_string, $$ $1 $$ AS in_dollars, "$1" AS in_name,
                       /* $1 /* nested */ */ $3::text AS three, $tag$ $2 $tag$ AS tagged, $4 AS four -- $1
                FROM (SELECT 'n' AS "$1") AS t
                """, values, id: "id", inline: inline))
        let x = try #require(records.first)
        #expect(x.id == values[0])
        #expect(x["two"] == .text(values[1]))
        #expect(x["in_string"] == .text("$1"))
        #expect(x["in_dollars"] == .text(" $1 "))
        #expect(x["in_name"] == .text("n"))
        #expect(x["three"] == .text("$$"))
        #expect(x["tagged"] == .text(" $2 "))
        #expect(x["four"] == .text("--"))
        let null = try await readAll(try source("SELECT 'x' AS id, $1::int AS n", [nil], id: "id", inline: inline))
        #expect(null.first?["n"] == nil && null.count == 1)
    }

    @Test func queriesCopyCannotTakeRunAsTheyAre() async throws {
        // Too few values for the placeholders: the server's own message, as before.
        let missing = await failure(try source("SELECT $1::text AS id, $2::text AS x", ["a"]))
        #expect(missing?.message.contains("SQLSTATE 08P01") == true, "\(String(describing: missing))")
        #expect(missing?.hint?.contains("params") == true)
        let noRows = await failure(try source("SET LOCAL work_mem = '8MB'"))
        #expect(noRows?.message.contains("returned no rows") == true, "\(String(describing: noRows))")
    }

    @Test func copyQueryReadsTheTextLikeTheServer() {
        func inline(_ sql: String, _ literals: [String] = ["'v'"]) -> String? {
            CopyQuery.inlining(sql, literals: literals)
        }
        #expect(inline("SELECT $1") == "SELECT 'v'")
        #expect(inline("select a$1, $1 from t;") == "select a$1, 'v' from t")
        #expect(inline("SELECT E'\\' $1 ' AS x, $1") == "SELECT E'\\' $1 ' AS x, 'v'")
        #expect(inline("SELECT 'it''s $1', \"a\"\"$1\", $1") == "SELECT 'it''s $1', \"a\"\"$1\", 'v'")
        #expect(inline("WITH x AS (SELECT 1) SELECT * FROM x -- end;") != nil)
        #expect(inline("(VALUES ($1))") == "(VALUES ('v'))")
        #expect(inline("TABLE hr.employees") == "TABLE hr.employees")
        #expect(inline("SELECT 1; SELECT 2") == nil, "two statements")
        #expect(inline("UPDATE t SET a = $1 RETURNING a") == nil, "not a query")
        #expect(inline("SELECT $2") == nil, "no value for $2")
        #expect(inline("SELECT $0") == nil)
        #expect(inline("SELECT 'open") == nil)
        #expect(inline("SELECT /* open") == nil)
        #expect(inline("SELECT $q$ open") == nil)
        #expect(inline("SELECT 1; -- fine\n/* fine */") == "SELECT 1 -- fine\n/* fine */")
    }

    @Test func arrayLiteralsReadLikePostgreSQLWritesThem() {
        func elements(_ text: String) -> [String?] {
            Array(text.utf8).withUnsafeBytes { ArrayLiteral.elements($0) }
        }
        #expect(
            elements("{a,\"b c\",NULL,\"NULL\",\"q\\\"uote\",\"back\\\\slash\"}")
                == ["a", "b c", nil, "NULL", "q\"uote", "back\\slash"])
        #expect(elements("{{1,2},{3,4}}") == ["1", "2", "3", "4"])
        #expect(elements("[0:1]={x,y}") == ["x", "y"])
        #expect(elements("{}") == [])
        #expect(elements("{\"\"}") == [""])
    }
}
