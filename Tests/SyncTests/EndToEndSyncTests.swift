import Foundation
import TestSupport
import Testing

/// `compliance-sync sync` as a user runs it, against the simulator over real HTTP,
/// each test checking the people the simulator ends up with against the source.
@Suite struct EndToEndSyncTests {
    @Test func firstSyncThenEditAdditionRemovalAndEmailChange() async throws {
        try await withHarness { harness in
            let first = try await harness.run("sync")
            #expect(first.status == 0, "\(first.all)")
            #expect(first.stdout.contains("created 28, updated 0, terminated 0"))
            #expect(await harness.actualPeople().active == (try harness.expectedPeople()))

            var lines = try harness.example.read("people.csv").split(separator: "\n").map(String.init)
            lines = lines.filter { !$0.hasPrefix("E1005,") }.map { line in
                if line.hasPrefix("E1003,") {
                    return line.replacingOccurrences(of: "Cryptanalyst", with: "Chief Cryptanalyst")
                }
                if line.hasPrefix("E1002,") { return line.replacingOccurrences(of: "grace.hopper@", with: "g.hopper@") }
                return line
            }
            lines.append(
                "E1029,Katherine,Coleman,Johnson,katherine.johnson@example.com,Mathematician,Research,111-22-3333,2026-11-01"
            )
            try harness.example.write("people.csv", lines.joined(separator: "\n") + "\n")

            let plan = try await harness.run("plan")
            #expect(plan.stdout.contains("1 to create, 2 to update, 1 to terminate"))
            let second = try await harness.run("sync")
            #expect(second.status == 0, "\(second.all)")
            #expect(second.stdout.contains("created 1, updated 2, terminated 1"))
            let (active, terminated) = await harness.actualPeople()
            #expect(active == (try harness.expectedPeople()))
            #expect(terminated.keys.sorted() == ["E1005"])
            #expect(terminated["E1005"]?["terminated_at"]?.hasSuffix(" UTC") == true)
            #expect(await harness.people().count == 29, "the email change updated Grace, it did not add a person")

            let stats = await harness.stats()
            let third = try await harness.run("sync")
            #expect(third.stdout.contains("nothing to do, 0 imports sent"))
            #expect(await harness.stats()["import_requests"] == stats["import_requests"])
        }
    }

    @Test func secretsAndSSNsAppearNowhere() async throws {
        try await withHarness { harness in
            let runs = [
                try await harness.run("validate"), try await harness.run("plan"),
                try await harness.run("plan", ["--format", "json"]),
                try await harness.run("sync", ["--log-level", "trace"]),
                try await harness.run("sync", ["--full", "--log-level", "debug"]),
            ]
            #expect(runs.allSatisfy { $0.status == 0 })
            let output = runs.map(\.all).joined()
            let state = try harness.stateBytes()
            #expect(!state.isEmpty)
            for secret in [SyncHarness.secret] + (try harness.ssns()) {
                #expect(!output.contains(secret))
                #expect(state.range(of: Data(secret.utf8)) == nil)
            }
            #expect(runs[0].stdout.contains("token endpoint: credentials accepted"))
        }
    }

    @Test func partialRejectionIsReportedThenFixed() async throws {
        try await withHarness { harness in
            let config = try harness.example.read("quickstart.yml")
            try harness.example.write(
                "quickstart.yml",
                config.replacingOccurrences(
                    of: "  ssn: ssn\n",
                    with:
                        "  ssn: ssn\n  facility_id: { attribute: department, transform: [{ replace: { pattern: \"^Security$\", with: \"99\" } }, { replace: { pattern: \"^[A-Za-z].*\", with: \"3\" } }] }\n"
                ))
            let first = try await harness.run("sync")
            #expect(first.status == 4, "\(first.all)")
            #expect(first.stdout.contains("rejected 5"))
            #expect(first.stdout.contains("facility_id: does not exist"))
            let report =
                try JSONSerialization.jsonObject(
                    with: Data(
                        contentsOf: harness.example.folder.appendingPathComponent(".state/quickstart.report.json")))
                as? [String: Any]
            #expect((report?["summary"] as? [String: Int])?["rejected"] == 5)
            #expect(report?["exit_status"] as? Int == 4)
            #expect(await harness.people().count == 23)

            let again = try await harness.run("sync")
            #expect(again.status == 4)
            #expect(again.stdout.contains("created 0, updated 0") && again.stdout.contains("rejected 5"))

            try harness.example.write(
                "quickstart.yml",
                try harness.example.read("quickstart.yml")
                    .replacingOccurrences(of: "with: \"99\"", with: "with: \"7\""))
            let fixed = try await harness.run("sync")
            #expect(fixed.status == 0, "\(fixed.all)")
            #expect(fixed.stdout.contains("created 5"))
            #expect(await harness.people().count == 28)
            #expect(await harness.people().allSatisfy { $0["facility_id"] == "3" || $0["facility_id"] == "7" })
        }
    }

    @Test func aStoppedRunWritesItsReportAndAReviewedPlanIsApprovedExactly() async throws {
        try await withHarness { harness in
            let reportURL = harness.example.folder.appendingPathComponent(".state/quickstart.report.json")
            func report() throws -> [String: Any]? {
                try JSONSerialization.jsonObject(with: Data(contentsOf: reportURL)) as? [String: Any]
            }
            #expect(try await harness.run("sync").status == 0)
            #expect(try report()?["status"] as? String == "completed")
            let lines = try harness.example.read("people.csv").split(separator: "\n")
            try harness.example.write("people.csv", lines.dropLast(10).joined(separator: "\n") + "\n")
            let stopped = try await harness.run("sync")
            #expect(stopped.status == 3, "\(stopped.all)")
            #expect(try report()?["status"] as? String == "stopped", "the report never shows a stale success")
            #expect((try report()?["error"] as? [String: Any])?["message"] as? String ?? "" != "")
            let planPath = harness.example.path("reviewed.json")
            let plan = try await harness.run("plan", ["--save", planPath])
            #expect(plan.status == 3, "\(plan.all)")
            let saved = try String(contentsOfFile: planPath, encoding: .utf8)
            for ssn in try harness.ssns() { #expect(!saved.contains(ssn)) }
            // One more person leaves after the review: the approval does not cover them.
            try harness.example.write("people.csv", lines.dropLast(11).joined(separator: "\n") + "\n")
            let unreviewed = try await harness.run("sync", ["--approve", planPath])
            #expect(unreviewed.status == 3, "\(unreviewed.all)")
            #expect(unreviewed.stderr.contains("does not list: removal of"), "\(unreviewed.all)")
            try harness.example.write("people.csv", lines.dropLast(10).joined(separator: "\n") + "\n")
            let approved = try await harness.run("sync", ["--approve", planPath])
            #expect(approved.status == 0, "\(approved.all)")
            #expect(approved.stdout.contains("terminated 10"))
            #expect(await harness.actualPeople().terminated.count == 10)
        }
    }

    @Test func fullResendsEveryoneAndRemovalsCanBeReportOnly() async throws {
        try await withHarness(removals: ["action": "report"]) { harness in
            #expect(try await harness.run("sync").status == 0)
            let rows = await harness.stats()["rows_received"] ?? 0
            let full = try await harness.run("sync", ["--full"])
            #expect(full.status == 0)
            #expect(await harness.stats()["rows_received"] == rows + 28)
            let lines = try harness.example.read("people.csv").split(separator: "\n")
            try harness.example.write(
                "people.csv", lines.filter { !$0.hasPrefix("E1010,") }.joined(separator: "\n") + "\n")
            let gone = try await harness.run("sync")
            #expect(gone.stdout.contains("1 gone from the source (reported only)"))
            #expect(await harness.actualPeople().terminated.isEmpty)
        }
    }

    @Test func graceDelaysTerminationAndAReturningPersonIsRehired() async throws {
        try await withHarness(removals: ["action": "terminate", "grace": "2s"]) { harness in
            #expect(try await harness.run("sync").status == 0)
            let original = try harness.example.read("people.csv")
            try harness.example.write(
                "people.csv",
                original.split(separator: "\n").filter { !$0.hasPrefix("E1020,") }
                    .joined(separator: "\n") + "\n")
            let waiting = try await harness.run("sync")
            #expect(waiting.stdout.contains("1 missing, within the grace period"))
            #expect(await harness.actualPeople().terminated.isEmpty)
            try await Task.sleep(for: .milliseconds(2200))
            let due = try await harness.run("sync")
            #expect(due.stdout.contains("terminated 1"), "\(due.all)")
            #expect(await harness.actualPeople().terminated.keys.sorted() == ["E1020"])
            try harness.example.write("people.csv", original)
            let back = try await harness.run("sync")
            #expect(back.stdout.contains("updated 1"), "\(back.all)")
            let (active, terminated) = await harness.actualPeople()
            #expect(terminated.isEmpty)
            #expect(active == (try harness.expectedPeople()))
        }
    }

    @Test func guardsStopSyncBeforeAnythingIsSent() async throws {
        try await withHarness { harness in
            #expect(try await harness.run("sync").status == 0)
            let before = await harness.stats()["import_requests"]
            let header = try harness.example.read("people.csv").split(separator: "\n")[0]
            try harness.example.write("people.csv", header + "\n")
            let stopped = try await harness.run("sync")
            #expect(stopped.status == 3)
            #expect(stopped.stderr.contains("the source returned no records"))
            #expect(await harness.stats()["import_requests"] == before)
        }
    }

    @Test func validateAndCredentialErrors() async throws {
        try await withHarness({ $0.clientsWithoutImports = ["demo-client"] }) { harness in
            let ok = try await harness.run("validate")
            #expect(ok.status == 0, "\(ok.all)")
            #expect(ok.stdout.contains("28 records, 0 invalid"))
            let forbidden = try await harness.run("sync")
            #expect(forbidden.status == 1)
            #expect(forbidden.stderr.contains("lacks the \"Imports\" permission"))
            let wrong = try await harness.run(
                "validate", environment: ["COMPLIANCE_CLIENT_SECRET": "not-the-secret-42"])
            #expect(wrong.status == 1)
            #expect(wrong.stderr.contains("refused the client credentials for client id demo-client"))
            #expect(!wrong.all.contains("not-the-secret-42"))
        }
    }
}
