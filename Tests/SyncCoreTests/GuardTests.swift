import ConnectorCore
import Foundation
import Testing

@testable import SyncCore
@testable import SyncOutput

@Suite struct GuardTests {
    let people = (1...20).map { staff("\($0)", employeeID: "E\($0)", email: "p\($0)@example.com", title: "Engineer") }

    /// The same people without their titles: what a bind account that lost read access to `title` returns.
    var untitled: [SourceRecord] {
        people.map { record in
            var attributes = record.attributes
            attributes["title"] = nil
            return SourceRecord(id: record.id, attributes: attributes)
        }
    }

    @Test func clearingAFieldForManyStopsTheRun() async throws {
        let engine = Engine()
        await engine.sync(people)
        let changes = try await engine.plan(untitled)
        let stopped = try #require(Guards.check(changes, policy: RunPolicy()))
        #expect(stopped.kind == .guardStopped)
        #expect(stopped.message.contains("job_title for 20 people (100% of 20)"), "\(stopped.message)")
        #expect(
            Guards.check(
                changes, policy: RunPolicy(),
                overrides: GuardOverrides(allowMassClear: true)) == nil)
        let report = await engine.sync(untitled)
        #expect(report.failed, "nothing is sent")
        #expect(engine.account.live["E1"]?["job_title"] == "Engineer")
        // One person losing a title is not an outage.
        var one = people
        one[0] = untitled[0]
        #expect(await engine.sync(one).report?.updated == 1)
    }

    @Test func tooFewRecordsStopTheRun() async throws {
        var guards = GuardPolicy()
        guards.minRecords = 25
        let changes = try await Engine().plan(people)
        let stopped = Guards.check(changes, policy: RunPolicy(guards: guards))
        #expect(stopped?.message.contains("returned 20 records, fewer than source.min_records (25)") == true)
    }

    @Test func anApprovedPlanLiftsTheGuardsForExactlyWhatItListed() async throws {
        let engine = Engine()
        await engine.sync(people)
        let fewer = Array(untitled.prefix(5)) + Array(people[5..<10])
        let reviewed = try await engine.plan(fewer)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("plan-\(UUID()).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = try ByteOutput(creating: path)
        PlanRendering.json(
            reviewed,
            header: PlanHeader(
                job: "test", source: "memory", snapshot: "memory",
                removalAction: .terminate, stoppedBy: nil), to: file)
        try file.finish()
        #expect(!(try String(contentsOfFile: path, encoding: .utf8)).contains("Engineer\",\"ssn"))
        let approval = try PlanApproval(path: path, job: "test", maxAge: .seconds(3600))
        #expect(approval.removals.count == 10 && approval.clearings.count == 5)
        #expect(approval.check(reviewed) == nil)
        // A saved plan edited so its updates lose their fields is no plan: it approves nothing at all.
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        object["updates"] = (object["updates"] as? [[String: Any]] ?? []).map { $0.filter { $0.key != "fields" } }
        let edited = path + ".edited"
        defer { try? FileManager.default.removeItem(atPath: edited) }
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: edited))
        #expect(throws: SyncError.self) { try PlanApproval(path: edited, job: "test", maxAge: .seconds(3600)) }
        // One more person gone since the review: not approved.
        let more = try await engine.plan(Array(fewer.dropLast()))
        #expect(approval.check(more)?.message.contains("removal of 10") == true)
        #expect(throws: SyncError.self) { try PlanApproval(path: path, job: "other", maxAge: .seconds(3600)) }
        #expect(throws: SyncError.self) {
            try PlanApproval(path: path, job: "test", maxAge: .seconds(60), now: Date().addingTimeInterval(120))
        }
        let report = await engine.sync(fewer, overrides: GuardOverrides(approved: approval))
        #expect(report.report?.terminated == 10)
    }
}
