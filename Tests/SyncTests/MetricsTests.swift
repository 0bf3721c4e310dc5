import ComplianceSimulator
import Foundation
import TestSupport
import Testing

/// `sync`'s Prometheus metrics file, read back with the Prometheus project's own Python parser.
@Suite(.enabled(if: TestServers.prometheusParser, "needs python3-prometheus-client: run scripts/test"))
struct MetricsTests {
    /// Every sample of a metrics file, `name{labels}` to value, as prometheus_client parses it.
    func samples(_ path: String) async throws -> [String: Double] {
        let script = """
            import sys
            from prometheus_client.parser import text_string_to_metric_families
            for family in text_string_to_metric_families(open(sys.argv[1]).read()):
                assert family.type == "gauge" and family.documentation, family.name
                for s in family.samples:
                    labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
                    print(f"{s.name}{{{labels}}} {s.value!r}")
            """
        let parsed = try await runProcess("/usr/bin/python3", ["-c", script, path])
        #expect(parsed.status == 0, "the parser refused the file: \(parsed.all)")
        var samples: [String: Double] = [:]
        for line in parsed.stdout.split(separator: "\n") {
            let parts = line.split(separator: " ")
            samples[String(parts[0])] = Double(parts[1])
        }
        return samples
    }

    @Test func everyRunWritesItsFiguresAndAFailureKeepsTheLastSuccess() async throws {
        try await withHarness { harness in
            let metrics = harness.example.path("state/metrics/quickstart.prom")
            let job = #"sync_job="quickstart""#
            let first = try await harness.run("sync", ["--metrics-file", metrics])
            #expect(first.status == 0, "\(first.all)")
            let people = try harness.expectedPeople().count
            var figures = try await samples(metrics)
            #expect(figures["compliance_sync_last_run_exit_status{\(job)}"] == 0)
            #expect(figures["compliance_sync_last_run_records_read{\(job)}"] == Double(people))
            #expect(figures["compliance_sync_last_run_read_entries{read=\"full\",\(job)}"] == Double(people))
            #expect(figures["compliance_sync_last_run_changes{change=\"create\",\(job)}"] == Double(people))
            #expect(figures["compliance_sync_last_run_changes{change=\"termination\",\(job)}"] == 0)
            #expect(figures["compliance_sync_last_run_imports_sent{\(job)}"] ?? 0 >= 1)
            #expect(figures["compliance_sync_journal_pending_entries{\(job)}"] == 0)
            let success = try #require(figures["compliance_sync_last_success_timestamp_seconds{\(job)}"])
            #expect(abs(success - Date().timeIntervalSince1970) < 120)
            #expect(figures["compliance_sync_last_run_end_timestamp_seconds{\(job)}"] == success)
            let mode = try FileManager.default.attributesOfItem(atPath: metrics)[.posixPermissions] as? Int
            #expect(mode == 0o644, "node_exporter, another user, must read it")

            // A failed run (a change to send, and the wrong secret): its status, and the last success as it was.
            let csv = try harness.example.read("people.csv")
            try harness.example.write(
                "people.csv", csv.replacingOccurrences(of: "Principal Engineer", with: "Chief Engineer"))
            let failed = try await harness.run(
                "sync", ["--metrics-file", metrics], environment: ["COMPLIANCE_CLIENT_SECRET": "wrong-Secret"])
            #expect(failed.status == 1, "\(failed.all)")
            figures = try await samples(metrics)
            #expect(figures["compliance_sync_last_run_exit_status{\(job)}"] == 1)
            #expect(figures["compliance_sync_last_success_timestamp_seconds{\(job)}"] == success)
            let text = try String(contentsOfFile: metrics, encoding: .utf8)
            for secret in try harness.ssns() + [SyncHarness.secret, "wrong-Secret"] {
                #expect(!text.contains(secret))
            }
        }
    }

    @Test func theJobFileNamesTheMetricsFile() async throws {
        try await withHarness { harness in
            try harness.example.editJob("quickstart.yml") { $0["metrics"] = ["textfile": "metrics/job.prom"] }
            let result = try await harness.run("sync")
            #expect(result.status == 0, "\(result.all)")
            let figures = try await samples(harness.example.path("metrics/job.prom"))
            #expect(figures[#"compliance_sync_last_run_exit_status{sync_job="quickstart"}"#] == 0)
        }
    }
}
