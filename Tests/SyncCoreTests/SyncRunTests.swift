import ConnectorCore
import Foundation
import Logging
import Testing

@testable import SyncCore

/// `SyncRun`, the one owner of a run: the report it returns, however the run ends, and its history.
@Suite struct SyncRunTests {
    func run(_ account: ScriptedAccount, policy: RunPolicy = RunPolicy()) -> SyncRun {
        let syncer = Syncer(planner: planner(), policy: policy, batchSize: 10, logger: Logger(label: "test"))
        return SyncRun(job: "nightly", runID: "r1", syncer: syncer, logger: Logger(label: "test"))
    }

    @Test func aRunThatEndsIsReportedAndRecordedOnce() async throws {
        let store = MemorySnapshot()
        let account = ScriptedAccount()
        let report = await run(account).run(
            source: ArraySource(items: [person("E1"), person("E2")]), openStore: { store }, service: account)
        #expect(report.failure == nil && report.created == 2 && report.job == "nightly")
        let runs = try await store.runs(limit: 10)
        #expect(runs.map(\.id) == ["r1"] && runs[0].status == "completed" && runs[0].created == 2)
        #expect(report.lastSuccessAt == runs[0].finishedAt && !report.stale)
    }

    @Test func aStoreThatCannotBeOpenedIsTheReportsFailureAndNothingIsSent() async throws {
        let account = ScriptedAccount()
        let report = await run(account).run(
            source: ArraySource(items: [person("E1")]),
            openStore: { throw SyncError(.locked, "another run of nightly holds its lock") }, service: account)
        #expect(report.failure?.kind == .locked && report.created == 0)
        #expect(account.submissions == 0)
    }

    @Test func aGuardThatStopsTheRunIsRecordedAsStopped() async throws {
        let store = MemorySnapshot()
        let account = ScriptedAccount()
        var guards = GuardPolicy()
        guards.minRecords = 5
        let report = await run(account, policy: RunPolicy(guards: guards)).run(
            source: ArraySource(items: [person("E1")]), openStore: { store }, service: account)
        #expect(report.failure?.kind == .guardStopped && account.submissions == 0)
        #expect(try await store.runs(limit: 10).first?.status == "stopped")
        #expect(try await store.index().count == 0)
    }
}
