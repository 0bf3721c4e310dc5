import ConnectorCore
import Foundation
import JobConfig
import Logging
import SyncCore
import Testing

@testable import ComplianceSyncCLI

/// The declarative mapping (lookup, extract, if/then/else, coalesce) and a source's include/exclude,
/// from the job file to the values, as an administrator writes them.
@Suite struct MappingLanguageTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mapping-\(UUID())")

    func job(_ yaml: String) throws -> JobConfiguration {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("job.yml").path
        let root = try YAMLConfigLoader.parse(yaml, file: file, environment: [:])
        return try JobConfiguration(root: root, file: file)
    }

    func error(_ yaml: String) -> String {
        do {
            _ = try job(yaml)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    /// Each record's mapped field values, by field.
    func map(_ job: JobConfiguration, _ records: [[String: AttributeValue]]) -> [[String: String]] {
        var mapper = Mapper(job.mapping, catalog: job.api.fields)
        return records.enumerated().map { n, attributes in
            var problems: [RecordProblem] = []
            let row = mapper.map(SourceRecord(id: "E\(n)", attributes: attributes), problems: &problems)
            var values = Dictionary(
                uniqueKeysWithValues: zip(mapper.layout.fields, row).compactMap { f, v in v.map { (f, $0) } })
            for problem in problems { values["problem:\(problem.field ?? "")"] = problem.reason }
            return values
        }
    }

    static let head = """
        source: { type: csv, path: people.csv, id: id }
        mapping:
          first_name: given
          last_name: family
          email: mail

        """

    @Test func lookupExtractAndIf() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try "code,facility\nHQ,101\n\"North, Annex\",102\n".write(
            to: folder.appendingPathComponent("facilities.csv"), atomically: true, encoding: .utf8)
        let job = try job(
            Self.head + """
                  facility_id: { attribute: site, transform: [trim, { lookup: { table_file: facilities.csv } }] }
                  cage_code: { attribute: dept, transform: [{ lookup: { table: { "10": 1ABC2, "20": 3DEF4 }, default: 9ZZZ9 } }] }
                  employee_id: { attribute: badge, transform: [{ extract: "^B-0*([0-9]+)$" }] }
                  job_title:
                    if: { attribute: kind, in: [contractor, intern] }
                    then: { template: "{title} (contractor)" }
                    else: { attribute: title, transform: [trim] }
                  middle_name: { if: { attribute: middle, present: true }, then: middle, optional: true }
                """)
        let base: [String: AttributeValue] = [
            "given": "Ada", "family": "L", "mail": "a@example.com", "title": " Engineer ",
        ]
        let rows = map(
            job,
            [
                base.merging(["site": " HQ ", "dept": "10", "badge": "B-00042", "kind": "contractor"]) { $1 },
                base.merging(["site": "North, Annex", "dept": "77", "badge": "nope", "middle": "Augusta"]) { $1 },
                base.merging(["site": "Mars", "kind": .multiple(["staff", "intern"])]) { $1 },
            ])
        #expect(rows[0]["facility_id"] == "101" && rows[1]["facility_id"] == "102")
        #expect(rows[0]["cage_code"] == "1ABC2" && rows[1]["cage_code"] == "9ZZZ9", "the default")
        #expect(rows[0]["employee_id"] == "42" && rows[1]["employee_id"] == nil, "no match is no value")
        #expect(rows[0]["job_title"] == " Engineer  (contractor)" && rows[1]["job_title"] == "Engineer")
        #expect(rows[2]["job_title"] == " Engineer  (contractor)", "any value of a multi-valued attribute")
        #expect(rows[1]["middle_name"] == "Augusta" && rows[0]["middle_name"] == nil)
        #expect(
            rows[2]["problem:facility_id"]?.contains("not in its lookup table (facilities.csv)") == true, "\(rows[2])")
        #expect(rows[0]["problem:facility_id"] == nil)
    }

    @Test func misusesNameTheKeyAndLine() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let cases: [(String, String)] = [
            ("  job_title: { attribute: t, transform: [{ extract: \"^E[0-9]+$\" }] }", "has no capture group"),
            ("  job_title: { attribute: t, transform: [{ extract: \"([\" }] }", "is not a valid regular expression"),
            ("  job_title: { attribute: t, transform: [{ lookup: { default: x } }] }", "needs exactly one of `table:`"),
            ("  job_title: { attribute: t, transform: [{ lookup: { table_file: none.csv } }] }", "cannot read"),
            ("  job_title: { if: { attribute: k, equals: x } }", "has `if:` without `then:`"),
            (
                "  job_title: { if: { attribute: k, equal: x }, then: t }",
                "exactly one of equals, in, matches or present"
            ),
            ("  job_title: { attribute: t, then: x }", "needs an `if:` beside it"),
            ("  job_title: { coalesce: [] }", "must list the attributes to try"),
        ]
        for (line, expected) in cases {
            let message = error(Self.head + line + "\n")
            #expect(message.contains(expected), "\(line): \(message)")
            #expect(message.contains("job.yml:6:"), "names the line: \(message)")
        }
        #expect(
            error(Self.head.replacingOccurrences(of: "id: id }", with: "id: id, include: { attribute: s } }")).contains(
                "exactly one of equals, in, matches or present"))
    }

    struct Records: UserSource {
        var items: [SourceRecord]
        var description: String { "memory" }
        func records() -> AsyncThrowingStream<SourceRecord, any Error> {
            AsyncThrowingStream { continuation in
                for item in items { continuation.yield(item) }
                continuation.finish()
            }
        }
    }

    @Test func includeAndExcludeDecideWhichRecordsCount() async throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let job = try job(
            Self.head.replacingOccurrences(
                of: "source: { type: csv, path: people.csv, id: id }",
                with: """
                    source:
                      type: csv
                      path: people.csv
                      id: id
                      include: { attribute: status, in: [active, on_leave] }
                      exclude: [{ attribute: mail, matches: "@service\\\\.example\\\\.com$" }, { attribute: $id, equals: E9 }]
                    """))
        func person(_ id: String, _ status: String, mail: String? = nil) -> SourceRecord {
            SourceRecord(
                id: id,
                attributes: [
                    "given": "A", "family": "B", "mail": .text(mail ?? "\(id)@example.com"), "status": .text(status),
                ])
        }
        let source = Records(items: [
            person("E1", "active"), person("E2", "terminated"), person("E3", "on_leave"),
            person("E4", "active", mail: "bot@service.example.com"), person("E9", "active"),
        ])
        let changes = try await Planner(job: job, logger: Logger(label: "test")).plan(
            source: source, snapshot: EmptySnapshot())
        #expect(changes.creates.map(\.sourceID) == ["E1", "E3"])
        #expect(changes.recordsRead == 2 && changes.filtered == 3)
        #expect(changes.invalid.isEmpty)
    }
}
