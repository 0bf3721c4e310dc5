import ConnectorCore
import Foundation
import Logging
import SnapshotStoreTestKit
import Testing

@testable import SyncCore

/// The planner with a change feed, on an in-memory feed (the feeds themselves are tested against
/// the DC and slapd): who a change read leaves unchanged, who it counts as gone, and the people
/// whose day is still to come, read again every run.
@Suite struct ChangeReadPlannerTests {
    /// A source whose change feed answers what it is told, and remembers who it was asked to read again.
    final class ScriptedFeed: ChangeFeedSource, @unchecked Sendable {
        var everyone: [SourceRecord]
        var changed: [SourceRecord] = []
        var gone: [String] = []
        var rereadAsked: [String] = []
        let description = "scripted feed"
        let changeFeed: String? = "scripted"

        init(_ everyone: [SourceRecord]) { self.everyone = everyone }

        func records() -> AsyncThrowingStream<SourceRecord, any Error> { ArraySource(items: everyone).records() }

        func currentPosition() async throws -> ChangeFeedPosition? {
            ChangeFeedPosition(feed: "scripted", server: "s", cookie: "1")
        }

        func changes(since position: ChangeFeedPosition, reread: [String]) async throws -> ChangeRead {
            rereadAsked = reread
            let again = everyone.filter { reread.contains($0.id) && !changed.map(\.id).contains($0.id) }
            return .changes(
                SourceChanges(
                    records: changed + again, gone: gone,
                    position: ChangeFeedPosition(feed: "scripted", server: "s", cookie: "2"),
                    entriesRead: changed.count + gone.count))
        }
    }

    /// A person leaving on `day`.
    func leaving(_ id: String, on day: String) -> SourceRecord {
        let record = person(id)
        var attributes = Dictionary(
            uniqueKeysWithValues: zip(record.schema.names, record.values).compactMap { name, value in
                value.map { (name, $0) }
            })
        attributes["leftOn"] = .text(day)
        return SourceRecord(id: id, attributes: attributes)
    }

    /// The run that a change read continues: completed, with the plan's read.
    func finished(_ changes: ChangeSet, at date: Date) -> RunRecord {
        var run = RunRecord(id: UUID().uuidString, command: .sync, startedAt: date, host: "h")
        run.status = "completed"
        run.read = changes.read
        return run
    }

    @Test func aChangeReadLeavesTheRestUnchangedAndReadsDatedPeopleAgain() async throws {
        let store = MemorySnapshot()
        let feed = ScriptedFeed([person("A"), person("B"), leaving("C", on: "2026-06-10")])
        var planner = planner(standardMapping)
        planner.dates.endsOn = FieldMapping(field: "ends_on", input: .attribute("leftOn"))
        planner.changeReads = ChangeReadPolicy(settingsDigest: "d", version: "v")
        planner.changeReads?.fullEvery = .seconds(30 * 86400)  // ten days pass between the runs
        let june1 = Date(timeIntervalSince1970: 1_780_272_000)  // 2026-06-01

        let first = try await planner.plan(source: feed, snapshot: store, now: june1)
        #expect(first.read?.kind == .full && first.read?.reread == ["C"] && first.creates.count == 3)
        try await store.accept(first)

        // A changes; B is gone; C's leaving day has come, though nothing about C changed.
        feed.changed = [person("A", title: "Fellow")]
        feed.gone = ["B"]
        planner.previousRun = finished(first, at: june1)
        let june11 = june1.addingTimeInterval(10 * 86400)
        let second = try await planner.plan(source: feed, snapshot: store, now: june11)
        #expect(second.read?.kind == .changes)
        #expect(feed.rereadAsked == ["C"])
        #expect(second.updates.map(\.row.sourceID) == ["A"])
        #expect(Set(second.removals.map(\.person.sourceID)) == ["B", "C"], "B gone, C's day come")
        #expect(second.removals.first { $0.person.sourceID == "C" }?.endedOn == "2026-06-10")
        #expect(second.unchanged == 0)
    }

    @Test func anUnlistedPersonIsUnchangedAndALeftOutOneIsGone() async throws {
        let store = MemorySnapshot()
        let feed = ScriptedFeed((1...5).map { person("P\($0)") })
        var planner = planner(standardMapping)
        planner.filter.exclude = [Condition(attribute: "title", test: .equals("Contractor"))]
        planner.changeReads = ChangeReadPolicy(settingsDigest: "d", version: "v")
        let now = Date()
        let first = try await planner.plan(source: feed, snapshot: store, now: now)
        try await store.accept(first)
        planner.previousRun = finished(first, at: now)
        // P1 becomes a contractor: listed, left out by exclude, so gone as after a full read.
        feed.changed = [person("P1", title: "Contractor")]
        let second = try await planner.plan(source: feed, snapshot: store, now: now)
        #expect(second.removals.map(\.person.sourceID) == ["P1"])
        #expect(second.unchanged == 4 && second.recordsRead == 0 && second.filtered == 1)
    }

    /// A change read that would send an email another, unchanged person holds reads everything: only a
    /// full read sees both (and sends neither, as duplicates).
    @Test func anEmailAnUnlistedPersonHoldsMeansAFullRead() async throws {
        let store = MemorySnapshot()
        let feed = ScriptedFeed([person("A", email: "shared@example.com"), person("B")])
        var planner = planner(standardMapping)
        planner.changeReads = ChangeReadPolicy(settingsDigest: "d", version: "v")
        let now = Date()
        let first = try await planner.plan(source: feed, snapshot: store, now: now)
        try await store.accept(first)
        planner.previousRun = finished(first, at: now)
        let newcomer = person("N", email: "Shared@Example.com")
        feed.everyone.append(newcomer)
        feed.changed = [newcomer]
        let second = try await planner.plan(source: feed, snapshot: store, now: now)
        #expect(second.read?.kind == .full, "\(second.read?.reason ?? "")")
        #expect(second.read?.reason.contains("N's email is A's") == true, "\(second.read?.reason ?? "")")
        #expect(second.creates.isEmpty && second.invalid.count == 2, "both invalid, as duplicates")
        // A change that touches no email stays a change read.
        try await store.accept(second)
        planner.previousRun = finished(second, at: now)
        feed.changed = [person("B", title: "Fellow")]
        #expect(try await planner.plan(source: feed, snapshot: store, now: now).read?.kind == .changes)
    }
}
