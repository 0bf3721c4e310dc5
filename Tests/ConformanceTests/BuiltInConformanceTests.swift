import ConnectorCore
import ConnectorTestKit
import ExecConnector
import FileConnector
import Foundation
import LDAPConnector
import Logging
import PostgresClient
import PostgresConnector
import SyncCore
import TestSupport
import Testing

/// Every built-in connector passes the conformance kit, against real files,
/// programs and servers (scripts/test starts slapd and PostgreSQL).
@Suite struct BuiltInConformanceTests {
    let folder: URL
    let environment = ProcessInfo.processInfo.environment

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("conformance-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    func file(_ name: String, _ text: String) throws -> String {
        let path = folder.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func setting(_ name: String) throws -> String { try TestServers.setting(name) }

    /// 3,000 people as CSV lines, enough for several chunks.
    var people: [String] { (1...3000).map { "E\($0),Zoë \($0),O'Neil,z\($0)@example.com" } }

    @Test func csv() async throws {
        let good = try file("good.csv", (["id,first,last,mail"] + people).joined(separator: "\n") + "\n")
        var broken = ["id,first,last,mail"] + people
        broken[2000] = "E2000,\"unclosed,x,y"
        let bad = try file("bad.csv", broken.joined(separator: "\n") + "\n")
        try await ConnectorConformance(
            source: { CSVSource(path: good, idColumn: "id") }, failing: { CSVSource(path: bad, idColumn: "id") }
        ).verify()
    }

    @Test func jsonLinesAndArrays() async throws {
        let objects = (1...3000).map {
            #"{"id": "E\#($0)", "name": "Zoë", "mail": ["a\#($0)@x.com", "b@x.com"], "n": \#($0)}"#
        }
        let lines = try file("good.jsonl", objects.joined(separator: "\n"))
        let badLines = try file(
            "bad.jsonl", (objects[..<1500] + ["{\"id\": "] + objects[1500...]).joined(separator: "\n"))
        try await ConnectorConformance(
            source: { JSONFileSource(path: lines, idKey: "id", layout: .lines) },
            failing: { JSONFileSource(path: badLines, idKey: "id", layout: .lines) }
        ).verify()
        let array = try file("good.json", "[" + objects.joined(separator: ",\n") + "]")
        let truncated = try file("bad.json", "[" + objects[..<2000].joined(separator: ",\n") + ",\n{\"id\": \"E")
        try await ConnectorConformance(
            source: { JSONFileSource(path: array, idKey: "id", layout: .array) },
            failing: { JSONFileSource(path: truncated, idKey: "id", layout: .array) }
        ).verify()
    }

    @Test func exec() async throws {
        let script = try file(
            "people.py",
            """
            import json, sys
            print(json.dumps({"protocol": "compliance-sync.records", "version": 1}))
            for i in range(1, 3001):
                print(json.dumps({"id": f"E{i}", "attributes": {"name": "Zoë", "mail": [f"a{i}@x.com"], "manager": None}}))
                if i == 2000 and sys.argv[1:] == ["--fail"]:
                    sys.exit("the HR system went away")
            """)
        let folder = folder.path
        @Sendable func source(_ arguments: [String]) -> ExecSource {
            ExecSource(
                command: ["python3", script] + arguments, environment: ["PATH": "/usr/bin:/bin"], directory: folder,
                logger: Logger(label: "test"))
        }
        try await ConnectorConformance(source: { source([]) }, failing: { source(["--fail"]) }).verify()
    }

    @Test(.enabled(if: TestServers.ldap, Comment(rawValue: TestServers.why))) func ldap() async throws {
        let url = try setting("LDAP_TEST_URL"), base = try setting("LDAP_TEST_BASE")
        @Sendable func source(base: String) -> LDAPSource {
            var source = LDAPSource(urls: [url], baseDN: base, attributes: ["givenName", "sn", "mail", "objectClass"])
            source.filter = "(objectClass=inetOrgPerson)"
            source.pageSize = 300
            return source
        }
        try await ConnectorConformance(
            source: { source(base: base) }, failing: { source(base: "ou=nobody,dc=example,dc=com") }
        ).verify()
    }

    @Test(.enabled(if: TestServers.postgres, Comment(rawValue: TestServers.why))) func postgres() async throws {
        let settings = try PostgresSettings(
            conninfo: try setting("PG_TEST_READER"), password: Secret(try setting("PG_TEST_READER_PASSWORD")))
        try await ConnectorConformance(
            source: {
                PostgresSource(settings: settings, query: "SELECT * FROM hr.employees", idColumn: "employee_id")
            },
            failing: {
                PostgresSource(
                    settings: settings,
                    query:
                        "SELECT employee_id, 1 / (3000 - row_number() OVER (ORDER BY employee_id)) AS x FROM hr.employees",
                    idColumn: "employee_id")
            }
        ).verify()
    }
}

/// The kit finds sources that break the rules.
@Suite struct ConformanceKitTests {
    /// A source over fixed records that may end early instead of throwing.
    struct FakeSource: UserSource {
        var fixed: [SourceRecord]
        var failure: (any Error & Sendable)?
        var swallowFailure = false
        var description: String { "fake" }

        func records() -> AsyncThrowingStream<SourceRecord, any Error> {
            let (stream, continuation) = AsyncThrowingStream<SourceRecord, any Error>.makeStream()
            for record in fixed { continuation.yield(record) }
            continuation.finish(throwing: swallowFailure ? nil : failure)
            return stream
        }
    }

    struct Broken: Error, CustomStringConvertible {
        var description: String { "line 2: the record is cut short" }
    }

    static func record(_ id: String, _ attributes: [String: AttributeValue] = ["a": .text("x")], located: Bool = true)
        -> SourceRecord
    {
        SourceRecord(id: id, attributes: attributes, location: located ? SourceLocation("fake \(id)") : nil)
    }

    @Test func aConformingSourcePasses() async {
        let good = FakeSource(fixed: [Self.record("1"), Self.record("2")])
        let report = await ConnectorConformance(
            source: { good }, failing: { FakeSource(fixed: [Self.record("1")], failure: Broken()) }
        ).run()
        #expect(report.problems.isEmpty, "\(report.problems)")
        #expect(report.recordsRead == 2)
    }

    @Test func brokenRulesAreEachNamed() async {
        let bad = FakeSource(fixed: [
            Self.record("1"), Self.record("1"), Self.record(""), Self.record("3", ["m": .multiple([])]),
            Self.record("4", located: false),
        ])
        let report = await ConnectorConformance(
            source: { bad },
            failing: { FakeSource(fixed: [Self.record("1")], failure: Broken(), swallowFailure: true) }
        ).run()
        let text = report.problems.joined(separator: "\n")
        #expect(text.contains("the id 1 is given twice"))
        #expect(text.contains("has an empty id"))
        #expect(text.contains("`m` as an empty list"))
        #expect(text.contains("record 4 has no location"))
        #expect(text.contains("the failing source ended normally after 1 records"))
    }

    @Test func unstableIDsAreFound() async {
        let counter = Counter()
        let report = await ConnectorConformance(
            source: { FakeSource(fixed: [Self.record("run-\(counter.next())")]) },
            failing: { FakeSource(fixed: [], failure: Broken()) }
        ).run()
        #expect(report.problems.contains { $0.contains("two reads gave different ids") }, "\(report.problems)")
    }

    /// A source that ignores cancellation: a record every 50 ms, 60 of them (waiting on a timer
    /// that cancellation does not stop, and that blocks no thread).
    struct StubbornSource: UserSource {
        var description: String { "stubborn" }

        struct Records: AsyncSequence, AsyncIteratorProtocol {
            var count = 0
            func makeAsyncIterator() -> Records { self }
            mutating func next() async throws -> SourceRecord? {
                guard count < 60 else { return nil }
                count += 1
                await withCheckedContinuation { done in
                    DispatchQueue.global().asyncAfter(deadline: .now() + 0.05) { done.resume() }
                }
                return ConformanceKitTests.record("\(count)")
            }
        }

        func records() -> Records { Records() }
    }

    @Test func badIDsLocationsAndValuesAreFound() async {
        let bad = FakeSource(fixed: [
            Self.record("a\u{1B}b"),
            SourceRecord(id: "5", attributes: ["a": .text("x")], location: SourceLocation(" ")),
            Self.record("6", ["name": .text("Ada\u{0}Lovelace")]),
            Self.record("7", ["aliases": .multiple(["ok", "b\u{0}d"])]),
        ])
        let report = await ConnectorConformance(
            source: { bad }, failing: { FakeSource(fixed: [], failure: Broken()) }
        ).run()
        let text = report.problems.joined(separator: "\n")
        #expect(text.contains("record 1's id has a control character (at character 2)"), "\(text)")
        #expect(text.contains("record 5 has an empty location"), "\(text)")
        #expect(text.contains("record 6 has a NUL character in `name`"), "\(text)")
        #expect(text.contains("record 7 has a NUL character in `aliases`"), "\(text)")
    }

    @Test func anIDThatFollowsTheRowNotThePersonIsFound() async {
        // Ids by position, over data whose order changes between reads.
        let reads = Counter()
        let report = await ConnectorConformance(
            source: {
                let people = ["Ada", "Grace", "Edsger"]
                let order = reads.next() % 2 == 1 ? people : people.reversed()
                return FakeSource(
                    fixed: order.enumerated().map { Self.record("\($0.offset + 1)", ["name": .text($0.element)]) })
            },
            failing: { FakeSource(fixed: [], failure: Broken()) }
        ).run()
        #expect(
            report.problems.contains { $0.contains("the id 1 names a different record in the second read") },
            "\(report.problems)")
        #expect(!report.problems.contains { $0.contains("two reads gave different ids") })
    }

    @Test func aFailureThatLooksLikeCancellationOrSaysNothingIsFound() async {
        struct Silent: Error, CustomStringConvertible { var description: String { "" } }
        let good = FakeSource(fixed: [Self.record("1")])
        let cancelled = await ConnectorConformance(
            source: { good }, failing: { FakeSource(fixed: [Self.record("1")], failure: CancellationError()) }
        ).run()
        #expect(cancelled.problems.contains { $0.contains("threw CancellationError after 1 records") })
        let silent = await ConnectorConformance(
            source: { good }, failing: { FakeSource(fixed: [], failure: Silent()) }
        ).run()
        #expect(silent.problems.contains { $0.contains("the failing source's error says nothing") })
    }

    @Test func aReadThatIgnoresCancellationIsFound() async {
        var kit = ConnectorConformance(
            source: { StubbornSource() }, failing: { FakeSource(fixed: [], failure: Broken()) })
        kit.cancellationTimeout = .milliseconds(500)
        let report = await kit.run()
        #expect(report.problems.contains { $0.contains("a cancelled read was still going") }, "\(report.problems)")
    }

}
