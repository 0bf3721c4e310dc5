import ComplianceSimulator
import Foundation
import TestSupport
import Testing

/// The connector examples end to end against the simulator: examples/exec-python
/// through compliance-sync, and examples/custom-connector through its own
/// executable (built by scripts/test, which names it in CUSTOM_SYNC_BINARY).
@Suite struct ExampleConnectorTests {
    static let secret = "example-Secret-4471"

    var simulatorConfiguration: SimulatorConfiguration {
        .forClient("demo-client", secret: Self.secret)
    }

    @Test func pythonConnectorSyncsAndALeaverIsTerminated() async throws {
        try await withSimulator(simulatorConfiguration) { simulator in
            let example = try ExampleCopy("exec-python")
            let env = ["COMPLIANCE_URL": simulator.baseURL, "COMPLIANCE_CLIENT_SECRET": Self.secret]
            let job = example.path("exec-python.yml")

            let first = try await runCLI(["sync", "--config", job], environment: env)
            #expect(first.status == 0, "\(first.all)")
            #expect(first.stdout.contains("created 11, updated 0, terminated 0"), "\(first.all)")
            #expect(
                first.stderr.contains("connector.py: exported 11 employees"),
                "the program's standard error is logged, under the script's name")
            #expect(!first.all.contains(Self.secret) && !first.all.contains("219-09-9999"))
            let ada = await simulator.simulator.people().first { $0["employee_id"] == "1001" }
            #expect(ada?["email"] == "ada.lovelace@example.com")

            let export = try example.read("hr_export.json")
            let turing = try #require(export.range(of: "\"employeeId\": \"1002\""))
            let status = try #require(
                export.range(of: "\"status\": \"active\"", range: turing.upperBound..<export.endIndex))
            try example.write(
                "hr_export.json", export.replacingCharacters(in: status, with: "\"status\": \"terminated\""))
            let second = try await runCLI(["sync", "--config", job], environment: env)
            #expect(second.status == 0, "\(second.all)")
            #expect(second.stdout.contains("created 0, updated 0, terminated 1"), "\(second.all)")
            let alan = await simulator.simulator.people().first { $0["employee_id"] == "1002" }
            #expect(alan?["terminated_at"] != nil)
        }
    }

    @Test(.enabled(if: TestServers.examples, Comment(rawValue: TestServers.why))) func customConnectorExecutableSyncs()
        async throws
    {
        guard let binary = ProcessInfo.processInfo.environment["CUSTOM_SYNC_BINARY"] else {
            Issue.record("CUSTOM_SYNC_BINARY is not set: run scripts/test, which builds examples/custom-connector")
            return
        }
        try await withSimulator(simulatorConfiguration) { simulator in
            let example = try ExampleCopy("custom-connector")
            let env = ["COMPLIANCE_URL": simulator.baseURL, "COMPLIANCE_CLIENT_SECRET": Self.secret]

            let connectors = try await runProcess(binary, ["connectors"], environment: env)
            #expect(connectors.stdout.contains("workday-report"), "\(connectors.all)")
            #expect(connectors.stdout.contains("ldap"), "the built-in connectors are still there")
            let sync = try await runProcess(
                binary, ["sync", "--config", example.path("workday.yml")], environment: env)
            #expect(sync.status == 0, "\(sync.all)")
            #expect(sync.stdout.contains("created 12, updated 0, terminated 0"), "\(sync.all)")
            let amara = await simulator.simulator.people().first { $0["employee_id"] == "21001" }
            #expect(amara?["email"] == "amara.okafor@example.com")
            #expect(amara?["job_title"] == "Systems Engineer")
        }
    }

    /// Plans examples/custom-connector both ways: `workday-exec.yml` (the connector as a program, run
    /// by this build) and `workday.yml` (embedded in the example's own command line); each plan's JSON.
    func planBothWays(_ example: ExampleCopy, api: String) async throws -> (
        program: [String: Any], module: [String: Any]
    ) {
        let export = try TestServers.setting("WORKDAY_EXPORT_BINARY")
        let embedded = try TestServers.setting("CUSTOM_SYNC_BINARY")
        let env = ["COMPLIANCE_URL": api, "COMPLIANCE_CLIENT_SECRET": Self.secret, "WORKDAY_EXPORT_BINARY": export]
        let asProgram = try await runCLI(
            ["plan", "--config", example.path("workday-exec.yml"), "--format", "json"], environment: env)
        let asModule = try await runProcess(
            embedded, ["plan", "--config", example.path("workday.yml"), "--format", "json"], environment: env)
        #expect(asProgram.status == 0 && asModule.status == 0, "\(asProgram.all)\n\(asModule.all)")
        func document(_ plan: ProcessResult) throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any] ?? [:]
        }
        return (try document(asProgram), try document(asModule))
    }

    /// The same connector as a program of its own (`ExecProtocolServer`), run by this build of
    /// compliance-sync with `type: exec`: the same people, the same plan as the embedded route.
    @Test(.enabled(if: TestServers.examples, Comment(rawValue: TestServers.why)))
    func customConnectorAsAProgramAgreesWithTheEmbeddedOne() async throws {
        try await withSimulator(simulatorConfiguration) { simulator in
            let example = try ExampleCopy("custom-connector")
            let (asProgram, asModule) = try await planBothWays(example, api: simulator.baseURL)
            func creates(_ plan: [String: Any]) throws -> [String] {
                let rows = plan["creates"] as? [[String: Any]] ?? []
                return try rows.map { row in
                    let fields = try JSONSerialization.data(withJSONObject: row["fields"] ?? [:], options: .sortedKeys)
                    return "\(row["source_id"] ?? "") \(String(decoding: fields, as: UTF8.self))"
                }.sorted()
            }
            #expect(try creates(asProgram).count == 12)
            #expect(try creates(asProgram) == creates(asModule), "the two routes plan the same people")
            let env = [
                "COMPLIANCE_URL": simulator.baseURL, "COMPLIANCE_CLIENT_SECRET": Self.secret,
                "WORKDAY_EXPORT_BINARY": try TestServers.setting("WORKDAY_EXPORT_BINARY"),
            ]
            let sync = try await runCLI(["sync", "--config", example.path("workday-exec.yml")], environment: env)
            #expect(sync.status == 0 && sync.stdout.contains("created 12, updated 0, terminated 0"), "\(sync.all)")
        }
    }

    /// A worker listed twice in the report: both routes report one id given twice, both records
    /// invalid with their own places, and no email clash of a person with themselves.
    @Test(.enabled(if: TestServers.examples, Comment(rawValue: TestServers.why)))
    func aDuplicateIdIsReportedAlikeByBothRoutes() async throws {
        let example = try ExampleCopy("custom-connector")
        var report = try #require(
            try JSONSerialization.jsonObject(with: Data(example.read("workday-report.json").utf8)) as? [String: Any])
        var entries = try #require(report["Report_Entry"] as? [[String: Any]])
        var again = entries[2]
        again["Business_Title"] = "Someone Else"
        entries.append(again)
        report["Report_Entry"] = entries
        try example.write(
            "workday-report.json", String(decoding: try JSONSerialization.data(withJSONObject: report), as: UTF8.self))
        let (asProgram, asModule) = try await planBothWays(example, api: "http://127.0.0.1:9")
        func invalid(_ plan: [String: Any]) -> [(id: String, reasons: [String])] {
            (plan["invalid"] as? [[String: Any]] ?? []).map { row in
                let problems = row["problems"] as? [[String: Any]] ?? []
                return (row["source_id"] as? String ?? "", problems.map { $0["reason"] as? String ?? "" })
            }
        }
        let export = try TestServers.setting("WORKDAY_EXPORT_BINARY")
        let program = invalid(asProgram), module = invalid(asModule)
        #expect(program.map(\.id) == ["21003", "21003"] && module.map(\.id) == ["21003", "21003"])
        #expect(
            program.map(\.reasons) == [
                ["has the same source id as the record at line 14 of the output of \(export) workday-report.json"],
                ["has the same source id as the record at line 4 of the output of \(export) workday-report.json"],
            ])
        let report_ = example.path("workday-report.json")
        #expect(
            module.map(\.reasons) == [
                ["has the same source id as the record at \(report_), Report_Entry[12]"],
                ["has the same source id as the record at \(report_), Report_Entry[2]"],
            ])
    }

    /// Through the program route: a report that repeats a worker and leaves another out terminates no
    /// one (the one left out waits, and the plan says why); the next report, with no repeat, does.
    @Test(.enabled(if: TestServers.examples, Comment(rawValue: TestServers.why)))
    func aReadThatRepeatsSomeoneRemovesNoOne() async throws {
        let export = try TestServers.setting("WORKDAY_EXPORT_BINARY")
        try await withSimulator(simulatorConfiguration) { simulator in
            let example = try ExampleCopy("custom-connector")
            let env = [
                "COMPLIANCE_URL": simulator.baseURL, "COMPLIANCE_CLIENT_SECRET": Self.secret,
                "WORKDAY_EXPORT_BINARY": export,
            ]
            let job = example.path("workday-exec.yml")
            let first = try await runCLI(["sync", "--config", job], environment: env)
            #expect(first.status == 0 && first.stdout.contains("created 12"), "\(first.all)")

            let original = try example.read("workday-report.json")
            var report = try #require(
                try JSONSerialization.jsonObject(with: Data(original.utf8)) as? [String: Any])
            var entries = try #require(report["Report_Entry"] as? [[String: Any]])
            let left = try #require(entries[5]["Employee_ID"] as? String)
            entries.remove(at: 5)
            report["Report_Entry"] = entries + [entries[1]]
            try example.write(
                "workday-report.json",
                String(decoding: try JSONSerialization.data(withJSONObject: report), as: UTF8.self))
            let plan = try await runCLI(["plan", "--config", job], environment: env)
            #expect(plan.all.contains("may have left others out"), "\(plan.all)")
            // The approver's page shows who waits, and the warning that says why.
            let page = try await runCLI(["plan", "--config", job, "--format", "html"], environment: env)
            let waiting = try #require(page.stdout.range(of: "<h2 id=\"waiting\">"), "\(page.all)")
            #expect(page.stdout[waiting.upperBound...].prefix(600).contains("<td>\(left)</td>"), "\(page.stdout)")
            #expect(page.stdout.contains("may have left others out"))
            let held = try await runCLI(["sync", "--config", job], environment: env)
            #expect(held.status == 0 && held.stdout.contains("terminated 0"), "\(held.all)")
            #expect(await simulator.simulator.people().first { $0["employee_id"] == left }?["terminated_at"] == nil)

            report["Report_Entry"] = entries
            try example.write(
                "workday-report.json",
                String(decoding: try JSONSerialization.data(withJSONObject: report), as: UTF8.self))
            let once = try await runCLI(["sync", "--config", job], environment: env)
            #expect(once.status == 0 && once.stdout.contains("terminated 1"), "\(once.all)")
            #expect(await simulator.simulator.people().first { $0["employee_id"] == left }?["terminated_at"] != nil)
        }
    }
}
