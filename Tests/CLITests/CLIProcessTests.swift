import Foundation
import TestSupport
import Testing

/// The command line as a user runs it, over the quick start.
@Suite struct CLIProcessTests {
    /// Every SSN in the quick start's CSV, in both spellings.
    func ssns(_ example: ExampleCopy) throws -> [String] {
        let lines = try example.read("people.csv").split(separator: "\n").dropFirst()
        return lines.flatMap { line -> [String] in
            let ssn =
                line.split(separator: ",", omittingEmptySubsequences: false).dropLast().last.map(String.init) ?? ""
            return ssn.isEmpty ? [] : [ssn, ssn.replacingOccurrences(of: "-", with: "")]
        }
    }

    /// An error says what and where; what it wraps (a library's own message) shows at debug level.
    @Test func wrappedErrorsShowTheirCauseAtDebugLevel() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let job = folder.appendingPathComponent("broken.yml").path
        try "source:\n  type: csv\n  path: [unclosed\n".write(toFile: job, atomically: true, encoding: .utf8)
        let plain = try await runCLI(["plan", "--config", job])
        #expect(plain.status == 2)
        #expect(plain.stderr.contains("not valid YAML") && !plain.stderr.contains("caused by:"), "\(plain.all)")
        let debug = try await runCLI(["plan", "--config", job, "--log-level", "debug"])
        #expect(debug.stderr.contains("not valid YAML") && debug.stderr.contains("caused by:"), "\(debug.all)")
    }

    @Test func connectorsAndHelp() async throws {
        let connectors = try await runCLI(["connectors"])
        #expect(connectors.status == 0)
        for type in ["csv", "jsonl", "json"] { #expect(connectors.stdout.contains("\(type) ")) }
        for command in [["--help"], ["plan", "--help"], ["validate", "--help"], ["baseline", "--help"]] {
            let help = try await runCLI(command)
            #expect(help.status == 0)
            #expect(help.stdout.contains("USAGE"))
        }
        let usage = try await runCLI(["plan"])
        #expect(usage.status == 2)
        #expect(usage.stderr.contains("--config"))
        #expect(try await runCLI(["plan", "--config", "x.yml", "--format", "xml"]).status == 2)
    }

    @Test func planShowsTheQuickstartWithoutSSNsAndWritesNothing() async throws {
        let example = try ExampleCopy("quickstart")
        let text = try await runCLI(["plan", "--config", example.path("quickstart.yml")])
        #expect(text.status == 0)
        #expect(text.stdout.contains("28 records read: 28 to create"))
        #expect(text.stdout.contains("+ E1004  José Martínez <jose.martinez@example.com>"))
        #expect(text.stdout.contains("ssn=***-**-****"))
        for ssn in try ssns(example) { #expect(!text.all.contains(ssn)) }
        #expect(!FileManager.default.fileExists(atPath: example.path(".state")))

        let json = try await runCLI(["plan", "--config", example.path("quickstart.yml"), "--format", "json"])
        #expect(json.status == 0)
        let plan = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let summary = plan?["summary"] as? [String: Int]
        #expect(summary?["creates"] == 28 && summary?["updates"] == 0 && summary?["removals"] == 0)
        #expect(summary?["unchanged"] == 0 && summary?["invalid"] == 0)
        let creates = plan?["creates"] as? [[String: Any]]
        #expect((creates?.first?["fields"] as? [String: String])?["ssn"] == "***-**-****")
        for ssn in try ssns(example) { #expect(!json.all.contains(ssn)) }
    }

    @Test func invalidRowsAreReportedWithoutFailingTheRun() async throws {
        let example = try ExampleCopy("quickstart")
        try example.write(
            "people.csv", try example.read("people.csv") + "E9999,Bad,,Row,not-an-email,Nobody,None,12,2020-01-01\n")
        let result = try await runCLI(["plan", "--config", example.path("quickstart.yml"), "--format", "json"])
        #expect(result.status == 0)
        let plan = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let invalid = (plan?["invalid"] as? [[String: Any]])?.first
        #expect(invalid?["source_id"] as? String == "E9999")
        #expect(invalid?["location"] as? String == "people.csv:30")
        #expect((invalid?["reason"] as? String)?.contains("email: is not a valid email address") == true)
    }

    @Test func guardStopsMassRemovalWithExitThree() async throws {
        let example = try ExampleCopy("quickstart")
        let baseline = try await runCLI(["baseline", "--config", example.path("quickstart.yml")])
        #expect(baseline.status == 0)
        let lines = try example.read("people.csv").split(separator: "\n")
        try example.write("people.csv", lines.prefix(20).joined(separator: "\n") + "\n")
        let stopped = try await runCLI(["plan", "--config", example.path("quickstart.yml")])
        #expect(stopped.status == 3)
        #expect(stopped.stdout.contains("STOPPED: 9 removals are 32.1% of the 28 people in the snapshot"))
        #expect(stopped.stdout.contains("--allow-mass-removal"))
        let allowed = try await runCLI(["plan", "--config", example.path("quickstart.yml"), "--allow-mass-removal"])
        #expect(allowed.status == 0)
        #expect(allowed.stdout.contains("9 to terminate"))
        try example.write("people.csv", String(lines[0]) + "\n")
        let empty = try await runCLI(["plan", "--config", example.path("quickstart.yml")])
        #expect(empty.status == 3)
        #expect(empty.stdout.contains("the source returned no records, but the snapshot holds 28 people"))
    }

    @Test func configAndSourceErrorsHaveTheirExitCodes() async throws {
        let example = try ExampleCopy("quickstart")
        let config = try example.read("quickstart.yml")
        try example.write("typo.yml", config.replacingOccurrences(of: "  max_percent: 20", with: "  max_percnt: 20"))
        let typo = try await runCLI(["plan", "--config", example.path("typo.yml")])
        #expect(typo.status == 2)
        #expect(typo.stderr.contains("typo.yml:18: unknown key `removals.max_percnt`"))
        try example.write("missing.yml", config.replacingOccurrences(of: "path: people.csv", with: "path: gone.csv"))
        let missing = try await runCLI(["plan", "--config", example.path("missing.yml")])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("cannot open") && missing.stderr.contains("gone.csv"))
        try example.write("people.csv", "employee_number,first_name\nE1,\"unclosed\n")
        let broken = try await runCLI(["plan", "--config", example.path("quickstart.yml")])
        #expect(broken.status == 1)
        #expect(broken.stderr.contains("people.csv:2: a quoted field opens here and never closes"))
        #expect(try await runCLI(["plan", "--config", example.path("nope.yml")]).status == 2)
    }
}
