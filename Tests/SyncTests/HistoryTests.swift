import ComplianceSimulator
import Foundation
import TestSupport
import Testing

/// `status` (the monitoring plugin) and `history` (runs, and one person's story), over real runs.
@Suite struct HistoryTests {
    /// Parses a JSON object printed by a command.
    static func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
    }

    /// A person's story through create, update, removal and rehire, told by `history --person`,
    /// and the runs that did it, told by `history`: the same for every snapshot store.
    static func personStory(_ harness: SyncHarness, environment env: [String: String] = [:]) async throws {
        let csv = try harness.example.read("people.csv")
        let lines = csv.split(separator: "\n").map(String.init)
        #expect(try await harness.run("sync", environment: env).status == 0)
        // E1001 changes title; E1028 (the last line) leaves.
        try harness.example.write(
            "people.csv",
            lines.dropLast().joined(separator: "\n").replacingOccurrences(
                of: "Principal Engineer", with: "Chief Engineer") + "\n")
        #expect(try await harness.run("sync", environment: env).status == 0)
        // E1028 comes back.
        try harness.example.write("people.csv", csv)
        #expect(try await harness.run("sync", environment: env).status == 0)

        let ada = try await harness.run("history", ["--person", "E1001"], environment: env)
        #expect(ada.status == 0, "\(ada.all)")
        let adaLines = ada.stdout.split(separator: "\n").dropFirst().map(String.init)
        #expect(adaLines.count == 3, "created, updated, updated back: \(ada.stdout)")
        #expect(adaLines.first?.contains("  created  (run ") == true, "\(ada.stdout)")
        #expect(adaLines.dropFirst().first?.contains("updated job_title") == true, "\(ada.stdout)")

        let arjun = try await runJSON(harness, ["history", "--person", "E1028", "--format", "json"], environment: env)
        let events = try #require(arjun["events"] as? [[String: Any]])
        #expect(events.map { $0["event"] as? String } == ["created", "terminated", "rehired"], "\(events)")
        #expect(events.allSatisfy { ($0["run"] as? String)?.count == 8 && $0["import_id"] is String }, "\(events)")

        let runs = try #require(
            try await runJSON(harness, ["history", "--format", "json"], environment: env)["runs"] as? [[String: Any]])
        #expect(runs.count == 3)
        #expect(runs.map { $0["status"] as? String } == ["completed", "completed", "completed"])
        #expect(runs.map { $0["terminated"] as? Int } == [0, 1, 0], "newest first: \(runs)")
        #expect(Set(runs.compactMap { $0["run"] as? String }).count == 3)

        let text = try await harness.run("history", environment: env)
        for secret in try harness.ssns() {
            #expect(!(ada.all + text.all).contains(secret))
            #expect(!(try JSONSerialization.data(withJSONObject: events)).contains(Data(secret.utf8)))
        }
    }

    static func runJSON(_ harness: SyncHarness, _ arguments: [String], environment: [String: String] = [:])
        async throws -> [String: Any]
    {
        let result = try await harness.run(arguments[0], Array(arguments.dropFirst()), environment: environment)
        #expect(result.status == 0, "\(result.all)")
        return try object(result.stdout)
    }

    @Test func aPersonsStoryAndTheRunsInTheSQLiteStore() async throws {
        try await withHarness { harness in try await Self.personStory(harness) }
    }

    @Test func statusFollowsTheRunsWithPluginExitCodes() async throws {
        try await withHarness { harness in
            let never = try await harness.run("status")
            #expect(never.status == 3, "no run yet is UNKNOWN: \(never.all)")
            #expect(never.stdout.hasPrefix("COMPLIANCE-SYNC UNKNOWN - job quickstart: no run"), "\(never.stdout)")

            #expect(try await harness.run("sync").status == 0)
            let ok = try await harness.run("status")
            #expect(ok.status == 0, "\(ok.all)")
            #expect(ok.stdout.split(separator: "\n").count == 1, "one line: \(ok.stdout)")
            #expect(ok.stdout.hasPrefix("COMPLIANCE-SYNC OK - job quickstart: last success "), "\(ok.stdout)")
            #expect(ok.stdout.contains(" | last_success_age="), "performance data: \(ok.stdout)")
            #expect(ok.stdout.contains(";93600;0;"), "the default critical threshold is 26h: \(ok.stdout)")

            try await Task.sleep(for: .seconds(2.2))
            let stale = try await harness.run("status", ["--max-age", "1s"])
            #expect(stale.status == 2, "\(stale.all)")
            #expect(stale.stdout.hasPrefix("COMPLIANCE-SYNC CRITICAL - job quickstart: last success "))
            let warn = try await harness.run("status", ["--warning-age", "1s"])
            #expect(warn.status == 1, "\(warn.all)")

            // A failed run is CRITICAL, whatever the age; the JSON says why.
            let csv = try harness.example.read("people.csv")
            try harness.example.write("people.csv", csv.replacingOccurrences(of: "Hopper", with: "Hopper-Murray"))
            let failed = try await harness.run("sync", environment: ["COMPLIANCE_CLIENT_SECRET": "wrong-Secret-7"])
            #expect(failed.status == 1)
            let critical = try await harness.run("status", ["--format", "json"])
            #expect(critical.status == 2, "\(critical.all)")
            let json = try Self.object(critical.stdout)
            #expect(json["format"] as? String == "compliance-sync.status" && json["state"] as? String == "critical")
            #expect((json["reasons"] as? [String])?.first?.hasPrefix("last run failed") == true, "\(json)")
            #expect((json["last_run"] as? [String: Any])?["status"] as? String == "failed")
            #expect((json["last_success"] as? [String: Any])?["status"] as? String == "completed")
            #expect(json["people"] as? Int == (try harness.expectedPeople().count))
            #expect(!critical.all.contains("wrong-Secret-7"))

            // Back to OK once a run succeeds.
            #expect(try await harness.run("sync").status == 0)
            #expect(try await harness.run("status").status == 0)
        }
    }

    @Test func aGuardStopIsAWarningAndAnUnreadableJobIsUnknown() async throws {
        try await withHarness { harness in
            #expect(try await harness.run("sync").status == 0)
            let csv = try harness.example.read("people.csv").split(separator: "\n")
            try harness.example.write("people.csv", csv.prefix(10).joined(separator: "\n") + "\n")
            #expect(try await harness.run("sync").status == 3, "more than 20% removed: the guard stops it")
            let warning = try await harness.run("status")
            #expect(warning.status == 1, "\(warning.all)")
            #expect(warning.stdout.contains("WARNING - job quickstart: last run was stopped by a guard"))

            let missing = try await runCLI(["status", "--config", harness.example.path("nowhere.yml")])
            #expect(missing.status == 3, "\(missing.all)")
            #expect(missing.stdout.hasPrefix("COMPLIANCE-SYNC UNKNOWN - "), "\(missing.stdout)")
        }
    }

    @Test func historyKeepsTheLastRunsAndForgetsTheirEvents() async throws {
        try await withHarness { harness in
            try harness.example.editJob("quickstart.yml") { $0["history"] = ["keep": 2] }
            #expect(try await harness.run("sync").status == 0)
            let csv = try harness.example.read("people.csv")
            try harness.example.write("people.csv", csv.replacingOccurrences(of: "Hopper", with: "Hopper-Two"))
            #expect(try await harness.run("sync").status == 0)
            #expect(try await harness.run("sync").status == 0)
            let runs = try #require(
                try await Self.runJSON(harness, ["history", "--format", "json"])["runs"] as? [[String: Any]])
            #expect(runs.count == 2)
            let grace = try await Self.runJSON(harness, ["history", "--person", "E1002", "--format", "json"])
            #expect(
                (grace["events"] as? [[String: Any]])?.map { $0["event"] as? String } == ["updated"],
                "the first run (the create) is forgotten: \(grace)")
        }
    }

    @Test func aStaleJobIsToldToWebhooks() async throws {
        let receiver = try await WebhookReceiver()
        defer { receiver.stop() }
        try await withHarness { harness in
            try harness.example.editJob("quickstart.yml") {
                $0["notify"] = [["url_env": "HOOK_URL", "on": ["stale"]]]
                $0["history"] = ["stale_after": "1s"]
            }
            let environment = ["HOOK_URL": receiver.url]
            #expect(try await harness.run("sync", environment: environment).status == 0)
            #expect(receiver.bodies.isEmpty, "a success is never stale")
            try await Task.sleep(for: .seconds(2.2))

            let status = try await harness.run("status", ["--notify"], environment: environment)
            #expect(status.status == 2, "\(status.all)")
            let body = try #require(receiver.bodies.first, "\(receiver.rawBodies)")
            #expect(body["events"] as? [String] == ["stale"] && body["state"] as? String == "critical", "\(body)")
            #expect(body["last_success_at"] is String)

            // A failing run of a stale job says so too.
            let csv = try harness.example.read("people.csv")
            try harness.example.write("people.csv", csv.replacingOccurrences(of: "Hopper", with: "Hopper-Three"))
            let failed = try await harness.run(
                "sync", environment: environment.merging(["COMPLIANCE_CLIENT_SECRET": "wrong-Secret-8"]) { $1 })
            #expect(failed.status == 1)
            #expect(receiver.bodies.count == 2, "\(receiver.rawBodies)")
            #expect(receiver.bodies.last?["events"] as? [String] == ["stale"])
            #expect(receiver.bodies.last?["status"] as? String == "failed")
        }
    }

    @Test func theFinalErrorIsAJSONLineInJSONLogMode() async throws {
        try await withHarness { harness in
            let failed = try await harness.run(
                "sync", ["--log-format", "json"], environment: ["COMPLIANCE_CLIENT_SECRET": "wrong-Secret-9"])
            #expect(failed.status == 1)
            let last = try #require(failed.stderr.split(separator: "\n").last.map(String.init))
            let line = try Self.object(last)
            #expect(line["level"] as? String == "error", "\(last)")
            #expect(line["exit_status"] as? String == "1" && line["job"] as? String == "quickstart", "\(last)")
            #expect((line["message"] as? String)?.isEmpty == false)
            #expect(!failed.all.contains("wrong-Secret-9"))
        }
    }
}
