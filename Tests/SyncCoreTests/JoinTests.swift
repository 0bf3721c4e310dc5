import ConnectorCore
import Foundation
import Testing

@testable import SyncCore

/// Joined sources: the primary decides who exists; a joined source adds attributes, prefixed.
@Suite struct JoinTests {
    static let node = ConfigNode(.null, location: ConfigLocation(file: "job.yml", line: 1, column: 1), path: "sources")

    func member(_ name: String, attribute: String, to: String, first: Bool = false, caseSensitive: Bool = false)
        throws -> JoinSettings.Member
    {
        var member = JoinSettings.Member(name: name, node: Self.node, type: "test")
        member.attribute = attribute
        member.to = to
        member.firstOfDuplicates = first
        member.caseSensitive = caseSensitive
        return member
    }

    func hr(_ id: String, mail: String? = nil) -> SourceRecord {
        var attributes: [String: AttributeValue] = [
            "employee_number": .text(id), "first_name": "Ada", "last_name": "Lovelace",
        ]
        if let mail { attributes["work_email"] = .text(mail) }
        return SourceRecord(id: id, attributes: attributes, location: .line(2, of: "hr.csv"))
    }

    func ad(_ guid: String, number: String, mail: String, title: String = "Engineer") -> SourceRecord {
        SourceRecord(
            id: guid, attributes: ["employeeNumber": .text(number), "mail": .text(mail), "title": .text(title)],
            location: SourceLocation("CN=\(guid),OU=staff"))
    }

    let mapping = [
        FieldMapping(field: "first_name", input: .attribute("hr.first_name")),
        FieldMapping(field: "last_name", input: .attribute("last_name")),
        FieldMapping(
            field: "email", input: .coalesce(["ad.mail", "hr.work_email"]), transforms: [.first, .trim, .lowercase]),
        FieldMapping(field: "job_title", input: .attribute("ad.title"), optional: true),
        FieldMapping(field: "employee_id", input: .attribute("$id")),
    ]

    func joined(_ people: [SourceRecord], _ directory: [SourceRecord], first: Bool = false, failAfter: Int? = nil)
        throws -> JoinedSource
    {
        JoinedSource(
            primaryName: "hr", primary: ArraySource(items: people),
            joined: [
                .init(
                    member: try member("ad", attribute: "employeeNumber", to: "employee_number", first: first),
                    source: ArraySource(items: directory, failAfter: failAfter))
            ])
    }

    @Test func matchesAddAttributesAndUnmatchedRecordsNeverMakeAPerson() async throws {
        let source = try joined(
            [hr("E1"), hr("E2", mail: "e2@hr.example.com"), hr("E3"), hr("E4")],
            [
                ad("g1", number: " e1 ", mail: "Ada@Example.com", title: "Chief"),  // trimmed, case-folded
                ad("g3", number: "E3", mail: "three@example.com"), ad("g3b", number: "E3", mail: "other@example.com"),
                ad("g9", number: "E9", mail: "nobody@example.com"),
            ])
        let planner = planner(mapping)
        let changes = try await planner.plan(source: source, snapshot: MemorySnapshot())
        let e1 = try #require(changes.creates.first { $0.sourceID == "E1" })
        #expect(changes.value("email", of: e1) == "ada@example.com")
        #expect(changes.value("job_title", of: e1) == "Chief")
        #expect(changes.value("employee_id", of: e1) == "E1")
        let e2 = try #require(changes.creates.first { $0.sourceID == "E2" })
        #expect(changes.value("email", of: e2) == "e2@hr.example.com", "no match: the coalesce falls back")
        #expect(changes.invalid.map(\.sourceID) == ["E3", "E4"])
        #expect(
            changes.invalid[0].reason.contains("matches 2 records of ad (g3 and g3b)"), "\(changes.invalid[0].reason)")
        #expect(changes.invalid[1].problems.first?.field == "email", "no match and no HR email: required")
        #expect(changes.unmatched == [JoinedSource.Unmatched(source: "ad", ids: ["g9"])])
        #expect(changes.creates.count == 2, "g9 never makes a person")
        #expect(changes.fieldSources["email"] == ["ad", "hr"] && changes.fieldSources["last_name"] == ["hr"])

        let first = try await planner.plan(
            source: try joined(
                [hr("E3")],
                [ad("g3", number: "E3", mail: "3@example.com"), ad("g3b", number: "E3", mail: "b@example.com")],
                first: true),
            snapshot: MemorySnapshot())
        #expect(first.invalid.isEmpty)
        #expect(first.creates.first.map { first.value("email", of: $0) } == "3@example.com")
    }

    @Test func aJoinedSourcesExcludedRecordsMatchNoOneAndAreNotUnmatched() async throws {
        var directory = try member("ad", attribute: "employeeNumber", to: "employee_number")
        directory.filter.exclude = [
            try Condition(
                node: ConfigNode(
                    .mapping([
                        (key: "attribute", node: ConfigNode(.scalar("title"), location: Self.node.location, path: "a")),
                        (key: "equals", node: ConfigNode(.scalar("Service"), location: Self.node.location, path: "e")),
                    ]), location: Self.node.location, path: "exclude"))
        ]
        let source = JoinedSource(
            primaryName: "hr", primary: ArraySource(items: [hr("E1", mail: "e1@hr.example.com"), hr("E2")]),
            joined: [
                .init(
                    member: directory,
                    source: ArraySource(items: [
                        ad("g1", number: "E1", mail: "svc@example.com", title: "Service"),
                        ad("g2", number: "E2", mail: "e2@example.com"),
                        ad("g3", number: "E3", mail: "x@example.com", title: "Service"),
                    ]))
            ])
        let changes = try await planner(mapping).plan(source: source, snapshot: MemorySnapshot())
        let e1 = try #require(changes.creates.first { $0.sourceID == "E1" })
        #expect(changes.value("email", of: e1) == "e1@hr.example.com", "the excluded entry matched no one")
        #expect(changes.unmatched.isEmpty, "excluded records are not in the source at all")
    }

    /// A join that cannot be what was meant fails closed, before anything is compared: a joined
    /// source none of whose records carries its join attribute (a misspelling), a primary none of
    /// whose records carries `join.to`, or two sources whose keys never meet (E1001 against 1001).
    /// Read as "nobody matched", each would send the fallback of every coalesce for everyone.
    @Test func aJoinThatMatchesNothingStopsThePlan() async throws {
        let directory = [ad("g1", number: "E1", mail: "1@example.com"), ad("g2", number: "E2", mail: "2@example.com")]
        func failure(_ member: JoinSettings.Member, people: [SourceRecord] = [], directory: [SourceRecord]) async
            -> String
        {
            let source = JoinedSource(
                primaryName: "hr",
                primary: ArraySource(
                    items: people.isEmpty
                        ? [hr("E1", mail: "1@hr.example.com"), hr("E2", mail: "2@hr.example.com")] : people),
                joined: [.init(member: member, source: ArraySource(items: directory))])
            do {
                _ = try await planner(mapping).plan(source: source, snapshot: MemorySnapshot())
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        let misspelled = await failure(
            try member("ad", attribute: "employeeNumbr", to: "employee_number"), directory: directory)
        #expect(misspelled.contains("none of the 2 records of ad has a value of `employeeNumbr`"), "\(misspelled)")
        let wrongTo = await failure(
            try member("ad", attribute: "employeeNumber", to: "employee_no"), directory: directory)
        #expect(wrongTo.contains("none of the 2 records of hr has a value of `employee_no`"), "\(wrongTo)")
        let formats = await failure(
            try member("ad", attribute: "employeeNumber", to: "employee_number"),
            people: [hr("1", mail: "1@hr.example.com"), hr("2", mail: "2@hr.example.com")],
            directory: directory)
        #expect(formats.contains("no record of ad matched anyone in hr"), "\(formats)")
        #expect(formats.contains("job.yml:1"), "names where the join is written: \(formats)")
    }

    @Test func aJoinedSourceThatFailsFailsThePlan() async throws {
        let source = try joined(
            [hr("E1")], (1...5).map { ad("g\($0)", number: "E\($0)", mail: "\($0)@example.com") }, failAfter: 3)
        await #expect(throws: (any Error).self) {
            _ = try await planner(mapping).plan(source: source, snapshot: MemorySnapshot())
        }
    }
}
