import Foundation
import TestSupport
import Testing

/// `--log-format json` for log shippers, and plain lines under systemd's journal.
@Suite struct LogFormatTests {
    @Test func jsonLinesCarryTheJobTheRunAndTheImport() async throws {
        try await withHarness { harness in
            let result = try await harness.run("sync", ["--log-format", "json", "--log-level", "info"])
            #expect(result.status == 0, "\(result.all)")
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count >= 3)
            var runs: Set<String> = [], imports = 0
            for line in lines {
                let object = try #require(
                    try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String], "\(line)")
                #expect(object["job"] == "quickstart" && object["level"] != nil && object["message"] != nil)
                #expect(object["time"]?.hasSuffix("Z") == true)
                runs.insert(object["run"] ?? "")
                if object["import"] != nil { imports += 1 }
            }
            #expect(runs.count == 1 && runs.first?.count == 8, "one run id for the whole run: \(runs)")
            #expect(imports >= 1, "the submission names its import")
            for secret in try harness.ssns() + [SyncHarness.secret] { #expect(!result.all.contains(secret)) }
        }
    }

    @Test func underTheJournalLinesHaveNoTimestampOfTheirOwn() async throws {
        try await withHarness { harness in
            let result = try await harness.run(
                "plan", ["--log-level", "info"], environment: ["JOURNAL_STREAM": "8:1234"])
            #expect(result.status == 0, "\(result.all)")
            let lines = result.stderr.split(separator: "\n")
            #expect(!lines.isEmpty && lines.allSatisfy { $0.hasPrefix("info: ") }, "\(result.stderr)")
        }
    }

    @Test func onATerminalARunShowsProgressAndNowhereElse() async throws {
        try await withHarness { harness in
            let people = try harness.expectedPeople().count
            let plain = try await harness.run("plan")
            #expect(!plain.all.contains("records ("), "no progress into a file or pipe: \(plain.all)")
            // Under a pseudo-terminal (Python's pty module): drawn in place, then cleared.
            let spawn = "import os, pty, sys\nsys.exit(os.waitstatus_to_exitcode(pty.spawn(sys.argv[1:])))"
            let terminal = try await runProcess(
                "/usr/bin/python3",
                ["-c", spawn, cliPath, "sync", "--config", harness.example.path("quickstart.yml")],
                environment: ["COMPLIANCE_CLIENT_SECRET": SyncHarness.secret, "TERM": "xterm"])
            #expect(terminal.status == 0, "\(terminal.all)")
            #expect(
                terminal.stdout.contains("\r\u{1B}[K  read \(people) records ("), "\(terminal.stdout.debugDescription)")
            #expect(terminal.stdout.contains("sent 1 of 1 batches"), "\(terminal.stdout.debugDescription)")
            #expect(terminal.stdout.contains("\r\u{1B}[Ksync quickstart:"), "the line is cleared before the summary")
        }
    }
}
