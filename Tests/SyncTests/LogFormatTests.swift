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
}
