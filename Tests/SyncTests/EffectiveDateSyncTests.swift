import ComplianceSimulator
import Foundation
import TestSupport
import Testing

/// `dates:` end to end: HR's leaving day reaches the API as `terminated_at`, while the person is
/// still in the export; a start day to come holds a person back; the plan lists both.
@Suite struct EffectiveDateSyncTests {
    /// The quick start's people with a `left_on` and a `starts` column, by employee number.
    func writePeople(_ harness: SyncHarness, left: [String: String] = [:], starts: [String: String] = [:]) throws {
        let original = try String(
            contentsOf: repositoryRoot.appendingPathComponent("examples/quickstart/people.csv"), encoding: .utf8)
        let lines = original.split(separator: "\n").map(String.init)
        let rows = lines.dropFirst().map { line -> String in
            let id = String(line.prefix { $0 != "," })
            return line + ",\(left[id] ?? ""),\(starts[id] ?? "")"
        }
        try harness.example.write("people.csv", ([lines[0] + ",left_on,starts"] + rows).joined(separator: "\n") + "\n")
    }

    @Test func aLeavingDayTerminatesFromThatDayAndAStartDayHoldsBack() async throws {
        try await withHarness { harness in
            try harness.example.editJob("quickstart.yml") {
                $0["dates"] = [
                    "ends_on": "left_on", "starts_on": ["attribute": "starts", "transform": [["date": "MM/dd/yyyy"]]],
                ]
            }
            try writePeople(harness, starts: ["E1027": "01/15/2099"])
            #expect(try await harness.run("sync").status == 0)
            #expect(await harness.actualPeople().active["E1027"] == nil, "starts in 2099: not created yet")
            #expect(await harness.actualPeople().active.count == (try harness.expectedPeople().count) - 1)

            try writePeople(
                harness, left: ["E1001": "2026-11-30", "E1002": "2099-06-30"], starts: ["E1027": "01/15/2099"])
            let plan = try await harness.run("plan")
            #expect(
                plan.stdout.contains("E1001") && plan.stdout.contains("left on 2026-11-30 (dates.ends_on)"),
                "\(plan.stdout)")
            #expect(
                plan.stdout.contains("Leaving: terminated from their last day (dates.ends_on) (1)"), "\(plan.stdout)")
            #expect(plan.stdout.contains("2099-06-30  E1002"), "\(plan.stdout)")
            #expect(plan.stdout.contains("2099-01-15  E1027"), "\(plan.stdout)")
            let json =
                try JSONSerialization.jsonObject(
                    with: Data(try await harness.run("plan", ["--format", "json"]).stdout.utf8)) as? [String: Any]
            let removals = try #require(json?["removals"] as? [[String: Any]])
            #expect(removals.first?["ended_on"] as? String == "2026-11-30")
            #expect((json?["starting"] as? [[String: Any]])?.first?["starts_on"] as? String == "2099-01-15")

            #expect(try await harness.run("sync").status == 0)
            let ada = await harness.actualPeople().terminated["E1001"]
            #expect(ada?["terminated_at"] == "2026-11-30 00:00:00 UTC", "\(String(describing: ada))")
            #expect(await harness.actualPeople().active["E1002"] != nil, "leaves in 2099")
            let again = try await harness.run("sync")
            #expect(again.stdout.contains("nothing to do, 0 imports sent"), "terminated once: \(again.all)")
        }
    }

    @Test func aDateThatIsNotOneIsInvalidAndAnUnknownZoneIsRefused() async throws {
        try await withHarness { harness in
            try harness.example.editJob("quickstart.yml") { $0["dates"] = ["ends_on": "left_on"] }
            try writePeople(harness, left: ["E1001": "30/11/2026"])
            let plan = try await harness.run("plan")
            #expect(plan.stdout.contains("dates.ends_on: is not a date"), "\(plan.stdout)")
            try harness.example.editJob("quickstart.yml") {
                $0["dates"] = ["ends_on": "left_on", "zone": "Mars/Olympus"]
            }
            let refused = try await harness.run("plan")
            #expect(refused.status == 2 && refused.stderr.contains("zone"), "\(refused.all)")
        }
    }
}
