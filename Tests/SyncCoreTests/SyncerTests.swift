import ConnectorCore
import Foundation
import Logging
import TestSupport
import Testing

@testable import SyncCore

/// A person of the source whose source id, employee id and email are each their own.
func staff(
    _ sourceID: String, employeeID: String?, email: String, title: String = "Engineer", first: String = "Ada",
    status: String? = nil
) -> SourceRecord {
    var attributes: [String: AttributeValue] = [
        "givenName": .text(first), "sn": .text("Lovelace"), "mail": .text(email), "title": .text(title),
    ]
    if let status { attributes["status"] = .text(status) }
    if let employeeID { attributes["employeeNumber"] = .text(employeeID) }
    return SourceRecord(id: sourceID, attributes: attributes)
}

/// The whole sync engine in memory: the scripted account, the memory snapshot, no processes.
struct Engine {
    let account = ScriptedAccount()
    let snapshot = MemorySnapshot()
    /// The snapshot as the engine writes it: a run can be made to die between any two transactions.
    let store: DyingSnapshot
    var removals = RemovalPolicy()
    var batchSize = 3
    var maxInFlight = 4
    /// The source's `include:`/`exclude:`.
    var filter = RecordFilter()

    init() {
        removals.maxPercent = nil
        store = DyingSnapshot(snapshot)
    }

    /// One run; a run that throws is returned as its error.
    @discardableResult
    func sync(
        _ records: [SourceRecord], now: Date = Date(), overrides: GuardOverrides = GuardOverrides()
    ) async -> Result<SyncReport, any Error> {
        var configured = planner(removals: removals)
        configured.filter = filter
        var syncer = Syncer(
            planner: configured, policy: RunPolicy(removals: removals), batchSize: batchSize,
            logger: Logger(label: "test"))
        syncer.maxInFlight = maxInFlight
        let source = ArraySource(items: records)
        var report = SyncReport(job: "test", source: source.description)
        do {
            try await syncer.run(
                source: source, store: store, service: account, overrides: overrides, now: now, into: &report)
            return .success(report)
        } catch {
            return .failure(error)
        }
    }

    func plan(_ records: [SourceRecord], now: Date = Date()) async throws -> ChangeSet {
        var configured = planner(removals: removals)
        configured.filter = filter
        return try await configured.plan(source: ArraySource(items: records), snapshot: snapshot, now: now)
    }
}

extension Result {
    var report: Success? { try? get() }
    var failed: Bool { report == nil }
}

@Suite struct RekeyTests {
    /// An address the account gives two terminated people of years apart: a rehire under a new source
    /// id with one of their employee ids is that person's own record, not a hand-over; a new hire
    /// with a third employee id is held, and named with the holder that still keeps the address.
    @Test func aRehireIsNeverHeldBehindAnotherHolderOfTheAddress() async throws {
        let engine = Engine()
        let first = [
            staff("guid-1", employeeID: "E1", email: "shared@example.com"),
            staff("guid-5", employeeID: "E5", email: "other@example.com"),
            staff("guid-7", employeeID: "E7", email: "seven@example.com"),
        ]
        #expect(await engine.sync(first).report?.created == 3)
        #expect(await engine.sync([first[2]]).report?.terminated == 2)
        // guid-5's old record took the shared address in the account's history (a hand edit, an old sync).
        try await engine.snapshot.commit([
            SnapshotUpdate(
                sourceID: "guid-5", fingerprint: .unconfirmed,
                fields: ["email": "shared@example.com", "employee_id": "E5", "first_name": "Ada", "last_name": "L"],
                terminatedAt: "2026-01-01 00:00:00 UTC")
        ])
        let rehire = staff("guid-9", employeeID: "E1", email: "shared@example.com")
        var plan = try await engine.plan([first[2], rehire])
        #expect(plan.held.isEmpty && plan.creates.map(\.sourceID) == ["guid-9"], "\(plan.held.map(\.reason))")
        plan = try await engine.plan([first[2], staff("guid-11", employeeID: "E11", email: "shared@example.com")])
        #expect(plan.held.map(\.sourceID) == ["guid-11"] && plan.creates.isEmpty)
    }

    @Test func aRecreatedAccountIsARekeyNeverATermination() async throws {
        let engine = Engine()
        let before = [
            staff("guid-1", employeeID: "E1", email: "ada@example.com"),
            staff("guid-2", employeeID: "E2", email: "bob@example.com", first: "Bob"),
        ]
        #expect(await engine.sync(before).report?.created == 2)
        // The directory account is recreated: a new objectGUID, the same person.
        let after = [staff("guid-9", employeeID: "E1", email: "ada@example.com"), before[1]]
        let plan = try await engine.plan(after)
        #expect(plan.rekeys.map(\.sourceID) == ["guid-9"])
        #expect(plan.rekeys.first?.matchedOn == "employee_id")
        #expect(plan.removals.isEmpty && plan.creates.isEmpty && plan.updates.isEmpty)
        #expect(plan.moved.count == 1, "nothing about the person changed: only the snapshot row moves")
        let report = try #require(await engine.sync(after).report)
        #expect(report.terminated == 0 && report.importsSent == 0)
        #expect(report.rekeys == [.init(from: "guid-1", to: "guid-9", matchedOn: "employee_id")])
        #expect(engine.account.terminated.isEmpty)
        #expect(engine.snapshot.all.keys.sorted() == ["guid-2", "guid-9"])
        #expect(try await engine.plan(after).isEmpty)
    }

    @Test func aRekeyMatchedOnEmailWithAChangeIsSentOnceAsAnUpdate() async throws {
        let engine = Engine()
        #expect(await engine.sync([staff("1", employeeID: nil, email: "Ada@Example.com")]).report?.created == 1)
        // HR re-keys the record and the title changes the same day; the email differs only in case.
        let after = [staff("A-1", employeeID: nil, email: "ADA@example.COM", title: "Manager")]
        let report = try #require(await engine.sync(after).report)
        #expect(report.updated == 1 && report.created == 0 && report.terminated == 0)
        #expect(report.rekeys.first?.matchedOn == "email")
        #expect(engine.account.live["ada@example.com"]?["job_title"] == "Manager")
        #expect(engine.account.terminated.isEmpty)
        #expect(engine.snapshot.all.keys.sorted() == ["A-1"])
    }

    @Test func aRekeyWithinTheGracePeriodAndAfterIt() async throws {
        var engine = Engine()
        engine.removals.grace = .seconds(86400)
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let bob = staff("b", employeeID: "E9", email: "bob@example.com")
        await engine.sync([staff("1", employeeID: "E1", email: "a@example.com"), bob], now: start)
        // Gone for two days (past the grace period), then back under a new id: still no termination.
        #expect(await engine.sync([bob], now: start.addingTimeInterval(3600)).report?.waiting == ["1"])
        let report = try #require(
            await engine.sync(
                [staff("2", employeeID: "E1", email: "a@example.com"), bob],
                now: start.addingTimeInterval(2 * 86400)
            ).report)
        #expect(report.terminated == 0 && report.rekeys.count == 1)
        #expect(engine.account.terminated.isEmpty)
    }

    @Test func aRehireUnderANewIdLandsLive() async throws {
        let engine = Engine()
        await engine.sync([
            staff("1", employeeID: "E1", email: "a@example.com"), staff("2", employeeID: "E2", email: "b@example.com"),
        ])
        #expect(await engine.sync([staff("2", employeeID: "E2", email: "b@example.com")]).report?.terminated == 1)
        #expect(engine.account.terminated.keys.sorted() == ["E1"])
        // Rehired months later under a new HR key: the create lands on the terminated record.
        let report = try #require(
            await engine.sync([
                staff("2", employeeID: "E2", email: "b@example.com"),
                staff("7", employeeID: "E1", email: "a@example.com"),
            ]).report)
        #expect(report.created == 1)
        #expect(engine.account.live.keys.sorted() == ["E1", "E2"], "every create leaves the person live")
    }

    @Test func aPersonWhoReturnsInvalidIsBackAndGetsAFullGracePeriod() async throws {
        var engine = Engine()
        engine.removals.grace = .seconds(7 * 86400)
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let ada = staff("1", employeeID: "E1", email: "a@example.com")
        let bob = staff("b", employeeID: "E9", email: "bob@example.com")
        await engine.sync([ada, bob], now: start)
        await engine.sync([bob], now: start.addingTimeInterval(86400))
        #expect(engine.snapshot.all["1"]?.missingSince != nil)
        // Back, but with a broken email for a day.
        await engine.sync(
            [staff("1", employeeID: "E1", email: "not-an-email"), bob], now: start.addingTimeInterval(10 * 86400))
        #expect(engine.snapshot.all["1"]?.missingSince == nil, "a matched person has returned, valid or not")
        let gone = try #require(await engine.sync([bob], now: start.addingTimeInterval(11 * 86400)).report)
        #expect(gone.terminated == 0 && gone.waiting == ["1"], "a new absence starts a new grace period")
    }

    /// The API cannot follow an email change without an employee id: the plan says so.
    @Test func anEmailChangeTheAPICannotFollowIsWarnedAbout() async throws {
        let engine = Engine()
        await engine.sync([
            staff("1", employeeID: nil, email: "a@example.com"), staff("2", employeeID: "E2", email: "b@example.com"),
        ])
        let plan = try await engine.plan([
            staff("1", employeeID: nil, email: "a.new@example.com"),
            staff("2", employeeID: "E2", email: "b.new@example.com"),
        ])
        #expect(plan.updates.count == 2)
        let emailWarnings = plan.warnings.filter { $0.contains("email changes") }
        #expect(emailWarnings.count == 1, "\(plan.warnings)")
        #expect(emailWarnings.first?.hasPrefix("1's email changes, and its row carries no employee_id") == true)
    }

    @Test func theIdentityFilterNeverMissesAnIdentity() {
        var filter = IdentityFilter()
        let identities = (0..<3000).map { "Person.\($0)@Example.com" } + ["E1001", "zoë@example.com"]
        for identity in identities { filter.insert(identity) }
        for identity in identities {
            #expect(
                filter.contains(identity) && filter.contains(identity.lowercased())
                    && filter.contains(identity.uppercased()))
        }
        #expect(filter.contains("ZOË@EXAMPLE.COM"), "text beyond ASCII is always checked in full")
        let strangers = (0..<10_000).filter { filter.contains("stranger\($0)@example.org") }.count
        #expect(strangers < 500, "a stranger rarely passes: \(strangers) of 10,000")
    }

    @Test func aSourceIDWithAControlCharacterIsInvalid() async throws {
        let engine = Engine()
        let plan = try await engine.plan([
            staff("ab\u{0}c", employeeID: "E1", email: "a@example.com"),
            staff("x\u{1B}y", employeeID: "E2", email: "b@example.com"),
        ])
        #expect(plan.creates.isEmpty)
        #expect(plan.invalid.count == 2)
        #expect(plan.invalid.allSatisfy { $0.reason.contains("control character") })
    }
}

@Suite struct JournalTests {
    let ada = staff("1", employeeID: "E1", email: "a@example.com")

    @Test func aLostAnswerThenARevertedEditIsSentAgain() async throws {
        let engine = Engine()
        await engine.sync([ada])
        engine.account.fault = { if case .submit = $0 { .loseSubmitAnswer } else { nil } }
        #expect(await engine.sync([staff("1", employeeID: "E1", email: "a@example.com", title: "Manager")]).failed)
        #expect(engine.account.live["E1"]?["job_title"] == "Manager", "the API applied it; the answer was lost")
        engine.account.fault = { _ in nil }
        // The edit is undone at the source before the next run.
        let report = try #require(await engine.sync([ada]).report)
        #expect(report.updated == 1)
        #expect(engine.account.live["E1"]?["job_title"] == "Engineer")
        #expect(try await engine.snapshot.journalEntries().isEmpty)
        #expect(try await engine.plan([ada]).isEmpty)
    }

    @Test func aLostTerminationOfSomeoneWhoIsBackIsUndone() async throws {
        let engine = Engine()
        let bob = staff("2", employeeID: "E2", email: "b@example.com", first: "Bob")
        await engine.sync([ada, bob])
        engine.account.fault = { if case .submit = $0 { .loseSubmitAnswer } else { nil } }
        #expect(await engine.sync([bob]).failed)
        #expect(engine.account.terminated.keys.sorted() == ["E1"])
        engine.account.fault = { _ in nil }
        let report = try #require(await engine.sync([ada, bob]).report)
        #expect(report.updated == 1)
        #expect(engine.account.live.keys.sorted() == ["E1", "E2"])
        #expect(engine.account.terminated.isEmpty)
    }

    @Test func aLostCreateOfSomeoneWhoLeftIsTerminated() async throws {
        let engine = Engine()
        let bob = staff("2", employeeID: "E2", email: "b@example.com", first: "Bob")
        await engine.sync([bob])
        engine.account.fault = { if case .submit = $0 { .loseSubmitAnswer } else { nil } }
        #expect(await engine.sync([ada, bob]).failed)
        engine.account.fault = { _ in nil }
        let report = try #require(await engine.sync([bob]).report)
        #expect(report.terminated == 1)
        #expect(engine.account.terminated.keys.sorted() == ["E1"])
        #expect(try await engine.plan([bob]).isEmpty)
    }

    @Test func rowErrorsThatNameNoRowCommitNothing() async throws {
        let engine = Engine()
        engine.account.fault = { if case .outcome = $0 { .strayRowError } else { nil } }
        let report = try #require(await engine.sync([ada]).report)
        #expect(report.created == 0 && report.rejected.count == 1)
        #expect(report.rejected[0].message.contains("not confirmed"))
        #expect(engine.snapshot.all["1"]?.fields.isEmpty == false)
        engine.account.fault = { _ in nil }
        #expect(try await engine.plan([ada]).updates.count == 1, "an unconfirmed person is sent again")
        await engine.sync([ada])
        #expect(try await engine.plan([ada]).isEmpty)
    }

    @Test func aStatusLostMidRunIsSettledNextRun() async throws {
        let engine = Engine()
        engine.account.fault = { if case .outcome = $0 { .loseOutcome } else { nil } }
        #expect(await engine.sync([ada]).failed)
        #expect(try await engine.snapshot.journalEntries().count == 1)
        engine.account.fault = { _ in nil }
        let report = try #require(await engine.sync([ada]).report)
        #expect(report.settled == 1 && report.importsSent == 0)
        #expect(try await engine.plan([ada]).isEmpty)
    }

    @Test func aRefusedBatchIsReportedAndTheRunGoesOn() async throws {
        let engine = Engine()
        let people = (1...7).map { staff("\($0)", employeeID: "E\($0)", email: "p\($0)@example.com") }
        let calls = Counter()
        engine.account.fault = { call in
            guard case .submit = call else { return nil }
            return calls.next() == 1 ? .refuse : nil
        }
        let report = try #require(await engine.sync(people).report)
        #expect(report.rejected.count == 3 && report.created == 4)
        #expect(try await engine.snapshot.journalEntries().isEmpty, "a refused submission never blocks later runs")
        engine.account.fault = { _ in nil }
        #expect(await engine.sync(people).report?.created == 3)
        #expect(engine.account.live.count == 7)
    }

    @Test func aBatchTooLargeIsSentInHalves() async throws {
        var engine = Engine()
        engine.batchSize = 8
        let people = (1...8).map { staff("\($0)", employeeID: "E\($0)", email: "p\($0)@example.com") }
        engine.account.fault = { call in
            guard case .submit(let rows) = call else { return nil }
            return rows.count > 2 ? .tooLarge : nil
        }
        let report = try #require(await engine.sync(people).report)
        #expect(report.created == 8 && report.importsSent == 4)
    }
}

/// A snapshot whose process "dies" after a given number of transactions: every call after
/// that throws, as if the process had been killed between two transactions. Each store call
/// is one transaction, so this is kill -9 at every point that matters to the snapshot.
///
/// Safety: its mutable state (`left`) is read and written under `lock` only.
final class DyingSnapshot: SnapshotStore, @unchecked Sendable {
    struct Killed: Error {}
    let base: MemorySnapshot
    private let lock = NSLock()
    private var left: Int?

    init(_ base: MemorySnapshot) { self.base = base }

    /// Dies after `count` more writes; `nil` never.
    func die(afterWrites count: Int?) { lock.withLock { left = count } }

    private func write() throws {
        try lock.withLock {
            guard let count = left else { return }
            if count <= 0 { throw Killed() }
            left = count - 1
        }
    }

    var description: String { base.description }
    var key: SnapshotKey { base.key }
    func index() async throws -> SnapshotIndex { try await base.index() }
    func people(_ sourceIDs: [String]) async throws -> [String: StoredPerson] { try await base.people(sourceIDs) }
    func journalEntries() async throws -> [JournalEntry] { try await base.journalEntries() }
    func commit(_ updates: [SnapshotUpdate], resolving journalKey: String?) async throws {
        try write()
        try await base.commit(updates, resolving: journalKey)
    }
    func markUnconfirmed(_ updates: [SnapshotUpdate], resolving journalKey: String?) async throws {
        try write()
        try await base.markUnconfirmed(updates, resolving: journalKey)
    }
    func setMissing(_ sourceIDs: [String], since: Date?) async throws {
        try write()
        try await base.setMissing(sourceIDs, since: since)
    }
    func beginRun(_ run: RunRecord) async throws {
        try write()
        try await base.beginRun(run)
    }
    func finishRun(_ run: RunRecord, keep: Int, keepEvents: Int) async throws {
        try write()
        try await base.finishRun(run, keep: keep, keepEvents: keepEvents)
    }
    func addJournalEntry(_ entry: JournalEntry) async throws {
        try write()
        try await base.addJournalEntry(entry)
    }
    func setImportID(_ importID: String, forJournalKey key: String) async throws {
        try write()
        try await base.setImportID(importID, forJournalKey: key)
    }
    func removeJournalEntry(_ key: String) async throws {
        try write()
        try await base.removeJournalEntry(key)
    }
    func runs(limit: Int) async throws -> [RunRecord] { try await base.runs(limit: limit) }
    func lastSuccess() async throws -> RunRecord? { try await base.lastSuccess() }
    func events(of sourceID: String) async throws -> [PersonEvent] { try await base.events(of: sourceID) }
    func health() async throws -> StoreHealth { try await base.health() }
}
