import ConnectorCore
import Foundation
import Testing

@testable import SyncCore

@Suite struct DuplicateCheckTests {
    func entries(_ hashes: [UInt64]) -> [EqualHashes.Entry] {
        hashes.enumerated().map { EqualHashes.Entry(hash: $0.element, position: Int32($0.offset)) }
    }

    @Test func distinctHashesMakeNoGroups() {
        var generator = SystemRandomNumberGenerator()
        let hashes = (0..<100_000).map { _ in UInt64.random(in: .min ... .max, using: &generator) }
        #expect(EqualHashes.groups(entries(hashes)).isEmpty)
        #expect(EqualHashes.groups([]).isEmpty)
        #expect(EqualHashes.groups(entries([7])).isEmpty)
    }

    @Test func equalHashesAreGroupedInPositionOrder() {
        var hashes = (0..<50_000).map { UInt64($0) &* 0x9E37_79B9_7F4A_7C15 }
        hashes[40_000] = hashes[10]
        hashes[30_000] = hashes[10]
        hashes[49_999] = hashes[2]
        let groups = Set(EqualHashes.groups(entries(hashes)))
        #expect(groups == [[10, 30_000, 40_000], [2, 49_999]])
    }

    @Test func hashesSharingTheirTopBitsAreNotEqual() {
        // All in one bucket, none equal: every pair is looked at, none grouped.
        let hashes = (0..<5).map { UInt64(0xABCD) << 48 | UInt64($0) }
        #expect(EqualHashes.groups(entries(hashes)).isEmpty)
        let many = (0..<1_000).map { UInt64(0xABCD) << 48 | UInt64($0 % 400) }
        let groups = EqualHashes.groups(entries(many))
        #expect(groups.count == 400)
        #expect(groups.allSatisfy { $0.count == 3 || $0.count == 2 })
        #expect(groups.contains([0, 400, 800]))
    }

    @Test func oneHashThousandsOfTimesIsOneGroup() {
        var hashes = (0..<20_000).map { UInt64($0) &* 0x9E37_79B9_7F4A_7C15 }
        for i in stride(from: 5, to: 20_000, by: 7) { hashes[i] = 42 }
        let groups = EqualHashes.groups(entries(hashes))
        #expect(groups == [Array(stride(from: Int32(5), to: 20_000, by: 7))])
    }

    @Test func equalHashesOfDifferentEmailsAreNotDuplicates() {
        // A hash collision is astronomically rare; it must still not invalidate anyone.
        let layout = RowLayout(fields: ["first_name", "email"], catalog: FieldCatalog())
        var candidates = CandidateList()
        for (id, email) in [("A", "a@example.com"), ("B", "b@example.com"), ("C", "A@Example.com")] {
            candidates.append(
                Differ.Candidate(
                    id: id, location: nil, values: ["x", email], fingerprint: Fingerprint(high: 1, low: 2), problems: []
                ))
        }
        let collided = entries([99, 99, 99])
        DuplicateEmails(layout: layout).mark(collided, in: &candidates)
        #expect(candidates[1].problems.isEmpty && candidates[1].fingerprint != nil)
        #expect(candidates[0].problems == [RecordProblem(field: "email", "is also the email of source id C")])
        #expect(candidates[2].problems == [RecordProblem(field: "email", "is also the email of source id A")])
        #expect(candidates[0].fingerprint == nil && candidates[2].fingerprint == nil)
    }

    @Test func manyRecordsWithOneEmailAreAllInvalid() async throws {
        var items = (0..<6_000).map { person(String(format: "E%05d", $0), line: $0 + 2) }
        for i in stride(from: 1, to: 6_000, by: 3) {
            items[i] = person(String(format: "E%05d", i), email: "HR@example.com")
        }
        let changes = try await planner().plan(source: ArraySource(items: items), snapshot: MemorySnapshot())
        #expect(changes.invalid.count == 2_000)
        #expect(changes.creates.count == 4_000)
        let first = try #require(changes.invalid.first { $0.sourceID == "E00001" })
        #expect(first.problems.count == 1_999)
        let later = try #require(changes.invalid.first { $0.sourceID == "E05998" })
        #expect(later.problems == [RecordProblem(field: "email", "is also the email of source id E00001")])
    }

    /// One record given twice (the same id and email) is one id given twice, said once per record,
    /// not also an email clash with itself; a third person with that email still clashes.
    @Test func oneIdGivenTwiceIsADuplicateIdNotAnEmailClash() async throws {
        let items = [
            person("E1", line: 2), person("E2", line: 3), person("E1", line: 4),
            person("E3", line: 5), person("E3", line: 6), person("E4", email: "e3@example.com", line: 7),
        ]
        let changes = try await planner().plan(source: ArraySource(items: items), snapshot: MemorySnapshot())
        #expect(changes.creates.map(\.sourceID) == ["E2"])
        let twice = changes.invalid.filter { $0.sourceID == "E1" }
        #expect(
            twice.map { $0.problems.map(\.reason) } == [
                ["has the same source id as the record at people.csv:4"],
                ["has the same source id as the record at people.csv:2"],
            ])
        let e3 = changes.invalid.filter { $0.sourceID == "E3" }.map { $0.problems.map(\.reason) }
        #expect(
            e3 == [
                ["is also the email of source id E4", "has the same source id as the record at people.csv:6"],
                ["has the same source id as the record at people.csv:5"],
            ])
        let e4 = try #require(changes.invalid.first { $0.sourceID == "E4" })
        #expect(e4.problems.map(\.reason) == ["is also the email of source id E3"])
    }

    /// A source that gives one id twice may have read a page twice and never the next: no one it left
    /// out is removed that run (they wait, with a warning); a read that lists everyone once removes them.
    @Test func anIdGivenTwiceHoldsTheRemovalsOfThatRead() async throws {
        let snapshot = MemorySnapshot()
        let everyone = (1...8).map { person("E\($0)", line: $0 + 1) }
        try await snapshot.accept(try await planner().plan(source: ArraySource(items: everyone), snapshot: snapshot))
        var pageTwice = Array(everyone.prefix(4)) + Array(everyone.prefix(4).suffix(2))
        pageTwice += [everyone[7]]
        var removals = RemovalPolicy()
        removals.maxPercent = nil
        let held = try await planner(removals: removals).plan(source: ArraySource(items: pageTwice), snapshot: snapshot)
        #expect(held.removals.isEmpty)
        #expect(held.waiting.map(\.person.sourceID) == ["E5", "E6", "E7"])
        #expect(held.invalid.map(\.sourceID) == ["E3", "E3", "E4", "E4"])
        #expect(held.warnings.contains { $0.contains("gave 2 ids twice") && $0.contains("the 3 it did not list wait") })

        let once = try await planner(removals: removals).plan(
            source: ArraySource(items: Array(everyone.prefix(4)) + [everyone[7]]), snapshot: snapshot)
        #expect(once.removals.map(\.person.sourceID) == ["E5", "E6", "E7"], "a read without repeats removes them")
        #expect(once.warnings.isEmpty)
    }
}
