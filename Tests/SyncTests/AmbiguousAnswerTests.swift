import ComplianceSimulator
import Foundation
import TestSupport
import Testing

/// Answers that might hide an applied import are never read as "not applied", and rate limiting
/// is not failure. Through the quick start's CSV and the simulator's faults.
@Suite struct AmbiguousAnswerTests {
    /// The summary of a JSON plan.
    static func summary(_ harness: SyncHarness) async throws -> [String: Int] {
        let plan = try await harness.run("plan", ["--format", "json"])
        #expect(plan.status == 0, "\(plan.all)")
        let json = try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any]
        return try #require(json?["summary"] as? [String: Int])
    }

    /// The second import is applied but answered 503; its retry, under the same key, is refused.
    /// The refusal may hide the applied first attempt: its people are unconfirmed, so the next plan
    /// sends them again in their current state (as updates), and they are never listed as refused.
    @Test(arguments: [409, 422, 400])
    func aRefusalOfARetriedImportLeavesItsPeopleUnconfirmed(_ status: Int) async throws {
        try await withHarness(
            {
                $0.failAnswerEvery = 2
                $0.replayAnswer = status
            }, api: ["batch_size": 10, "max_attempts": 3, "max_in_flight": 1]
        ) { harness in
            let sync = try await harness.run("sync")
            #expect(sync.status == 4, "\(sync.all)")
            #expect(sync.all.contains("not confirmed"), "\(sync.all)")
            #expect(!sync.all.contains("refused the import"), "\(sync.all)")
            #expect(await harness.people().count == 28, "the lost import was applied")
            let summary = try await Self.summary(harness)
            #expect(summary["creates"] == 0 && summary["updates"] == 10, "sent again, as they are now: \(summary)")
        }
    }

    /// An import status answer of 410 (purged) is like 404: its people are unconfirmed, and the run
    /// goes on; it never fails every later run on the same journal entry.
    @Test func aPurgedImportIsUnconfirmed() async throws {
        try await withHarness({ $0.importStatusAnswer = 410 }, api: ["batch_size": 10]) { harness in
            let sync = try await harness.run("sync")
            #expect(sync.status == 4, "\(sync.all)")
            #expect(sync.all.contains("not confirmed"), "\(sync.all)")
            let journal = try await harness.run("journal")
            #expect(journal.stdout.contains("0 pending"), "nothing left to block the next run: \(journal.all)")
            let summary = try await Self.summary(harness)
            #expect(summary["updates"] == 28, "\(summary)")
        }
    }

    /// Every other request is rate limited, and a request may be tried only once: a 429 that says
    /// when to come back is waited out without spending that try, so the run slows down and finishes.
    @Test func rateLimitingIsNotFailure() async throws {
        try await withHarness(
            {
                $0.rateLimitEvery = 2
                $0.retryAfter = 1
            }, api: ["batch_size": 10, "max_attempts": 1]
        ) { harness in
            let sync = try await harness.run("sync")
            #expect(sync.status == 0, "\(sync.all)")
            #expect(await harness.people().count == 28)
        }
    }

    /// The waits are bounded for the run (`api.max_rate_limit_wait`): past it the run fails, saying so.
    @Test func rateLimitWaitsAreBoundedForTheRun() async throws {
        try await withHarness(
            {
                $0.rateLimitEvery = 1
                $0.retryAfter = 1
            }, api: ["batch_size": 10, "max_rate_limit_wait": "2s"]
        ) { harness in
            let sync = try await harness.run("sync")
            #expect(sync.status == 1, "\(sync.all)")
            #expect(sync.stderr.contains("api.max_rate_limit_wait"), "\(sync.stderr)")
        }
    }

    /// An import of an earlier run whose status the API cannot answer (500, again and again) stays
    /// in the journal, but blocks only its own people: the rest of the next run goes on, and
    /// `journal --unconfirm KEY` settles it by hand.
    @Test func anUnreadableImportBlocksOnlyItsOwnPeople() async throws {
        try await withHarness(api: ["batch_size": 10, "max_in_flight": 1, "max_attempts": 2]) { harness in
            await harness.simulator.simulator.answerImportStatus(with: 500, forImport: "imp_000001")
            let first = try await harness.run("sync")
            #expect(first.status == 1, "\(first.all)")
            let second = try await harness.run("sync")
            #expect(second.status == 0, "the rest goes on: \(second.all)")
            #expect(second.stdout.contains("created 18"), "\(second.stdout)")
            #expect(second.all.contains("journal --unconfirm"), "\(second.all)")
            let journal = try await harness.run("journal")
            #expect(journal.stdout.contains("1 pending"), "\(journal.all)")
            let key = try #require(
                journal.stdout.split(separator: "\n").dropFirst().first?.split(separator: " ").first.map(String.init))
            let unconfirmed = try await harness.run("journal", ["--unconfirm", key])
            #expect(
                unconfirmed.status == 0 && unconfirmed.stdout.contains("settled \(key) by hand"), "\(unconfirmed.all)")
            await harness.simulator.simulator.answerImportStatus(with: nil)
            let third = try await harness.run("sync")
            #expect(third.status == 0, "\(third.all)")
            #expect(await harness.people().count == 28)
            let plan = try await harness.run("plan")
            #expect(plan.stdout.contains("0 to create, 0 to update"), "\(plan.stdout)")
        }
    }
}
