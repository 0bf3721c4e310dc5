import ConnectorCore
import Foundation
import TestSupport
import Testing

@testable import SyncCore

/// `api.max_in_flight`: imports submitted and polled at once, never sharing a person,
/// terminations only after every upsert, and the first error stopping new submissions.
@Suite struct InFlightTests {
    static func people(_ range: ClosedRange<Int>, title: String = "Engineer") -> [SourceRecord] {
        range.map { staff("id\($0)", employeeID: "E\($0)", email: "p\($0)@example.com", title: title) }
    }

    @Test func aFirstLoadKeepsUpToMaxInFlightImportsGoing() async throws {
        var engine = Engine()
        engine.maxInFlight = 4
        engine.account.processing = .milliseconds(30)
        let report = try #require(await engine.sync(Self.people(1...40)).report)
        #expect(report.created == 40 && report.importsSent == 14 && report.rejected.isEmpty)
        #expect(engine.account.mostInFlight == 4)
        #expect(engine.account.overlaps.isEmpty)
        #expect(engine.snapshot.all.count == 40)
        #expect(try await engine.plan(Self.people(1...40)).isEmpty)
    }

    @Test func oneInFlightSendsOneAtATime() async throws {
        var engine = Engine()
        engine.maxInFlight = 1
        engine.account.processing = .milliseconds(5)
        #expect(await engine.sync(Self.people(1...12)).report?.created == 12)
        #expect(engine.account.mostInFlight == 1)
    }

    @Test func terminationsWaitForEveryUpsert() async throws {
        let engine = Engine()
        engine.account.processing = .milliseconds(20)
        await engine.sync(Self.people(1...30))
        // Half leave while the other half change title: upserts and terminations in one run.
        let report = try #require(await engine.sync(Self.people(16...30, title: "Manager")).report)
        #expect(report.updated == 15 && report.terminated == 15)
        #expect(engine.account.earlyTerminations == 0)
        #expect(engine.account.mostInFlight == 4)
        #expect(engine.account.terminated.count == 15 && engine.account.live.count == 15)
    }

    @Test func aPersonIsNeverInTwoImportsInFlight() async throws {
        var engine = Engine()
        engine.batchSize = 1
        engine.account.processing = .milliseconds(20)
        let before = [
            staff("a", employeeID: "E1", email: "one@example.com"),
            staff("b", employeeID: "E2", email: "two@example.com"),
        ]
        #expect(await engine.sync(before).report?.created == 2)
        // E1 takes a new address and a newcomer takes E1's old one; E2's title changes; one more joins.
        let after = [
            staff("a", employeeID: "E1", email: "uno@example.com"),
            staff("b", employeeID: "E2", email: "two@example.com", title: "Manager"),
            staff("c", employeeID: "E3", email: "one@example.com"),
            staff("d", employeeID: "E4", email: "four@example.com"),
        ]
        let first = try #require(await engine.sync(after).report)
        #expect(engine.account.overlaps.isEmpty, "one@example.com was in two imports at once")
        #expect(engine.account.mostInFlight >= 2, "unrelated people still go at once")
        // The newcomer waits for E1's change to be confirmed: sent now, a refused change would hand E1's record over.
        #expect(first.rejected.isEmpty && first.created == 1 && first.updated == 2)
        #expect(first.warnings.contains { $0.contains("c (employee_id E3) is held") }, "\(first.warnings)")
        #expect(engine.account.live["E1"]?["email"] == "uno@example.com")
        #expect(await engine.sync(after).report?.created == 1)
        #expect(engine.account.live["E3"]?["email"] == "one@example.com")
        #expect(engine.account.overlaps.isEmpty)
        #expect(try await engine.plan(after).isEmpty)
    }

    @Test func theFirstErrorStopsNewImportsAndThoseInFlightAreKept() async throws {
        let engine = Engine()
        engine.account.processing = .milliseconds(50)
        let calls = Counter()
        engine.account.fault = { call in
            guard case .submit = call else { return nil }
            return calls.next() == 4 ? .unreachable : nil
        }
        let result = await engine.sync(Self.people(1...30))
        #expect(result.failed, "an unreachable API fails the run")
        // Batches 1 to 3 were in flight when 4 failed: they are seen to their end; nothing more is submitted.
        #expect(engine.account.submissions == 3)
        #expect(engine.snapshot.all.count == 9, "what the API accepted is kept")
        engine.account.fault = { _ in nil }
        let report = try #require(await engine.sync(Self.people(1...30)).report)
        #expect(report.created + report.updated == 21 && report.rejected.isEmpty)
        #expect(engine.account.live.count == 30)
        #expect(try await engine.plan(Self.people(1...30)).isEmpty)
    }
}
