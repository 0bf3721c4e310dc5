import ComplianceSimulator
import Foundation
import TestSupport
import Testing

/// What a run leaves on the host says what happened: a run that fails part-way reports what it
/// applied; files are written as the operator's tools need them, whatever the umask; a saved plan
/// anyone else could have changed approves nothing.
@Suite struct RunOutputTests {
    /// The third import's status cannot be read and there is one attempt: the run fails after 20 people.
    @Test func aRunThatFailsPartWayReportsWhatItApplied() async throws {
        try await withHarness(api: ["batch_size": 10, "max_in_flight": 1, "max_attempts": 1]) { harness in
            await harness.simulator.simulator.answerImportStatus(with: 500, forImport: "imp_000003")
            let metrics = harness.example.path("quickstart.prom")
            let sync = try await harness.run("sync", ["--metrics-file", metrics])
            #expect(sync.status == 1, "\(sync.all)")
            #expect(sync.stdout.contains("created 20"), "said where it is read: \(sync.stdout)")
            let report = try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: harness.example.path(".state/quickstart.report.json"))))
            let json = try #require(report as? [String: Any])
            #expect(json["status"] as? String == "failed")
            #expect((json["summary"] as? [String: Any])?["created"] as? Int == 20, "\(json)")
            let text = try String(contentsOfFile: metrics, encoding: .utf8)
            #expect(text.contains(#"change="create"} 20"#), "\(text)")
            let history = try await harness.run("history")
            #expect(history.stdout.contains("20"), "\(history.all)")
        }
    }

    /// Under the packaged unit's `UMask=0077`, the metrics file is still 0644 (node_exporter reads it),
    /// and no temporary file is left beside it.
    /// A run skipped for the lock ends with 5, or with `--skipped-exit-status` for schedulers that
    /// count only 0 as success; either way it says why and sends nothing.
    @Test func aSkippedRunEndsWithTheStatusItIsTold() async throws {
        try await withHarness { harness in
            let lock = harness.example.path(".state/quickstart.snapshot.lock")
            try FileManager.default.createDirectory(
                atPath: harness.example.path(".state"), withIntermediateDirectories: true)
            let holder = Process()
            holder.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            holder.arguments = [
                "-c",
                "import fcntl, sys, time; f = open(sys.argv[1], 'w'); fcntl.flock(f, fcntl.LOCK_EX); "
                    + "print('held', flush=True); time.sleep(60)", lock,
            ]
            let said = Pipe()
            holder.standardOutput = said
            try holder.run()
            defer { holder.terminate() }
            #expect(said.fileHandleForReading.availableData.starts(with: Data("held".utf8)))

            let skipped = try await harness.run("sync")
            #expect(
                skipped.status == 5 && skipped.stderr.contains("another run is using this snapshot"), "\(skipped.all)")
            let told = try await harness.run("sync", ["--skipped-exit-status", "0"])
            #expect(told.status == 0, "\(told.all)")
            #expect(told.stderr.contains("another run is using this snapshot"), "still said: \(told.all)")
            #expect(told.stderr.contains("skipped (exit status 0"), "\(told.all)")
            #expect(await harness.stats()["rows_received"] ?? 0 == 0, "nothing sent")
            let failing = try await harness.run("sync", ["--skipped-exit-status", "0", "--approve", "missing.json"])
            #expect(failing.status == 2, "another failure keeps its own status: \(failing.all)")
        }
    }

    @Test func theMetricsFileIsReadableWhateverTheUmask() async throws {
        try await withHarness { harness in
            let metrics = harness.example.path("quickstart.prom")
            let result = try await runProcess(
                "/bin/sh",
                [
                    "-c", "umask 077; exec \"$0\" sync --config \"$1\" --metrics-file \"$2\"", cliPath,
                    harness.example.path("quickstart.yml"), metrics,
                ], environment: ["COMPLIANCE_CLIENT_SECRET": SyncHarness.secret])
            #expect(result.status == 0, "\(result.all)")
            let mode = try FileManager.default.attributesOfItem(atPath: metrics)[.posixPermissions] as? Int
            #expect(mode == 0o644, "mode \(String(mode ?? 0, radix: 8))")
            let report =
                try FileManager.default.attributesOfItem(
                    atPath: harness.example.path(".state/quickstart.report.json"))[.posixPermissions] as? Int
            #expect(report == 0o600)
            let left = try FileManager.default.contentsOfDirectory(atPath: harness.example.folder.path)
            #expect(!left.contains { $0.contains(".tmp-") }, "\(left)")
        }
    }

    /// A saved plan that group or others may write, or that another user owns, approves nothing.
    @Test func aPlanOthersCouldChangeApprovesNothing() async throws {
        try await withHarness { harness in
            let saved = harness.example.path("plan.json")
            #expect(try await harness.run("plan", ["--save", saved]).status == 0)
            try FileManager.default.setAttributes([.posixPermissions: 0o664], ofItemAtPath: saved)
            let writable = try await harness.run("sync", ["--approve", saved])
            #expect(writable.status == 2, "\(writable.all)")
            #expect(writable.stderr.contains("may be changed by group or others"), "\(writable.stderr)")
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: saved)
            if geteuid() == 0 {
                try FileManager.default.setAttributes([.ownerAccountID: 65534], ofItemAtPath: saved)
                let foreign = try await harness.run("sync", ["--approve", saved])
                #expect(foreign.status == 2 && foreign.stderr.contains("belongs to another user"), "\(foreign.all)")
                try FileManager.default.setAttributes([.ownerAccountID: 0], ofItemAtPath: saved)
            }
            let approved = try await harness.run("sync", ["--approve", saved])
            #expect(approved.status == 0, "\(approved.all)")
            #expect(await harness.stats()["imports_created"] ?? 0 > 0)
        }
    }

    /// A run killed mid-way (kill -9) is seen by `status` at once, not only after the next run starts:
    /// recorded as running, but no run holds the job's lock. Its unsettled imports show through it.
    @Test(arguments: ["sqlite", "postgres"])
    func statusSeesAKilledRunAtOnce(_ store: String) async throws {
        var snapshot: [String: Any]? = nil
        if store == "postgres" {
            guard TestServers.postgres else { return }
            snapshot = [
                "type": "postgres", "job": "killed\(UInt32.random(in: 0...UInt32.max))",
                "conninfo": try TestServers.setting("PG_TEST_STORE"), "password_env": "PG_TEST_STORE_PASSWORD",
            ]
        }
        let env =
            store == "postgres" ? ["PG_TEST_STORE_PASSWORD": try TestServers.setting("PG_TEST_STORE_PASSWORD")] : [:]
        try await withHarness(api: ["batch_size": 10], snapshot: snapshot) { harness in
            let killed = try await harness.run(
                "sync", environment: env.merging(["COMPLIANCE_SYNC_FAILPOINT": "after-submit:1"]) { $1 })
            #expect(killed.status == 9 || killed.status == 137, "\(killed.all)")
            let status = try await harness.run("status", environment: env)
            #expect(status.status == 2, "CRITICAL: \(status.all)")
            #expect(status.stdout.contains("died before it finished"), "\(status.stdout)")
            #expect(status.stdout.contains("imports not yet settled"), "\(status.stdout)")
            #expect(!status.stdout.contains("a run ("), "not said to be still going: \(status.stdout)")
        }
    }

    /// The same rows rejected night after night: a warning, then CRITICAL after
    /// `history.rejected_runs_critical` runs in a row; the output names a rejected termination as such.
    @Test func rowsRejectedRunAfterRunEscalate() async throws {
        try await withHarness({ $0.knownFields.remove("ssn") }) { harness in
            try harness.example.editJob("quickstart.yml") { $0["history"] = ["rejected_runs_critical": 2] }
            let first = try await harness.run("sync")
            #expect(first.status == 4, "\(first.all)")
            #expect(first.stdout.contains("rejected: the creation of E1001"), "\(first.stdout)")
            #expect(try await harness.run("status").status == 1, "one run: a warning")
            #expect(try await harness.run("sync").status == 4)
            let status = try await harness.run("status")
            #expect(status.status == 2, "\(status.all)")
            #expect(status.stdout.contains("rejected by the API in each of the last 2 runs"), "\(status.stdout)")
        }
    }
}
