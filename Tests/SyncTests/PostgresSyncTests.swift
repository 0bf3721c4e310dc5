import ComplianceSimulator
import Foundation
import TestSupport
import Testing

/// PostgreSQL end to end: the HR database of examples/postgres-hr as the source,
/// the snapshot in PostgreSQL, the simulator as the API (scripts/pg-test-server).
@Suite(.enabled(if: TestServers.postgres, Comment(rawValue: TestServers.why))) struct PostgresSyncTests {
    let environment = ProcessInfo.processInfo.environment

    func setting(_ name: String) throws -> String { try TestServers.setting(name) }

    /// A `snapshot:` section in a job of its own on the test server's `sync` database.
    func postgresSnapshot(job: String = "job\(UInt32.random(in: 0...UInt32.max))") throws -> [String: Any] {
        [
            "type": "postgres", "job": job, "conninfo": try setting("PG_TEST_STORE"),
            "password_env": "PG_TEST_STORE_PASSWORD",
        ]
    }

    /// The simulator the HR jobs sync into: client `hr-job`, the seed data's facilities.
    var hrSimulator: SimulatorConfiguration {
        var configuration = SimulatorConfiguration.forClient("hr-job", secret: "hr-job-secret")
        configuration.facilities = ["101", "102"]
        return configuration
    }

    /// An `api:` section for ``hrSimulator`` (the secret in `HR_JOB_SECRET`).
    func hrAPI(_ baseURL: String) -> [String: Any] {
        ["base_url": baseURL, "batch_size": 1000, "client_id": "hr-job", "client_secret_env": "HR_JOB_SECRET"]
    }

    /// Points an example's HR source at the test database, as its reader (password in `HR_DB_PASSWORD`).
    func readTestDatabase(_ source: inout [String: Any], reader: String, ca: String) {
        source["conninfo"] = reader
        source["password_file"] = nil
        source["password_env"] = "HR_DB_PASSWORD"
        source["sslrootcert"] = ca
    }

    /// Runs SQL as the test server's admin. Waits without blocking a thread of the shared pool
    /// (`Process.waitUntilExit` spins one, starving every other test's tasks on this 2-core machine).
    func admin(_ sql: String) async throws -> String {
        let result = try await runProcess(
            "/usr/bin/psql", ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", try setting("PG_TEST_ADMIN"), "-c", sql])
        #expect(result.status == 0, "psql: \(sql): \(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func hrDatabaseToSimulatorAndOneChange() async throws {
        try await withSimulator(hrSimulator) { simulator in
            let example = try ExampleCopy("postgres-hr")
            let job = example.path("postgres-hr.yml")
            let (reader, ca, snapshot) = (
                try setting("PG_TEST_READER"), try setting("PG_TEST_CA"), try postgresSnapshot()
            )
            try example.editJob("postgres-hr.yml") { config in
                config["api"] = hrAPI(simulator.baseURL)
                var source = config.section("source")
                readTestDatabase(&source, reader: reader, ca: ca)
                config["source"] = source
                config["snapshot"] = snapshot
            }
            let readerPassword = try setting("PG_TEST_READER_PASSWORD"),
                storePassword = try setting("PG_TEST_STORE_PASSWORD")
            let env = [
                "HR_JOB_SECRET": "hr-job-secret", "HR_DB_PASSWORD": readerPassword,
                "PG_TEST_STORE_PASSWORD": storePassword,
            ]

            let current = Int(
                try await admin(
                    """
                    SELECT count(*) FROM hr.employees WHERE status <> 'terminated'
                    """))!
            let invalid = Int(
                try await admin(
                    """
                    SELECT count(*) FROM hr.employees WHERE status <> 'terminated'
                      AND coalesce(work_email, email_aliases[1]) IS NULL
                    """))!
            let (summary, plan) = try await planSummary(job, environment: env)
            #expect(summary?["creates"] == current - invalid)
            #expect(summary?["invalid"] == invalid)

            let first = try await runCLI(["sync", "--config", job, "--log-level", "trace"], environment: env)
            #expect(first.status == 0, "\(first.all)")
            #expect(await simulator.simulator.people().count == current - invalid)
            let margaret = await simulator.simulator.people().first { $0["employee_id"] == "E000101" }
            #expect(margaret?["hired_at"] == "2015-03-02 00:00:00")
            #expect(margaret?["facility_id"] == "101")
            for secret in [readerPassword, storePassword, "hr-job-secret", "123-45-6701", "123456702"] {
                #expect(!first.all.contains(secret) && !plan.all.contains(secret))
            }

            _ = try await admin(
                "UPDATE hr.employees SET title = 'Director of Everything' WHERE employee_id = 'E200010'")
            let before = await simulator.simulator.stats()
            let second = try await runCLI(["sync", "--config", job], environment: env)
            #expect(second.status == 0, "\(second.all)")
            #expect(second.stdout.contains("created 0, updated 1, terminated 0"), "\(second.all)")
            let after = await simulator.simulator.stats()
            #expect(after["rows_received"]! - before["rows_received"]! == 1)
            #expect(after["imports_created"]! - before["imports_created"]! == 1)
            let person = await simulator.simulator.people().first { $0["employee_id"] == "E200010" }
            #expect(person?["job_title"] == "Director of Everything")
            _ = try? await admin("UPDATE hr.employees SET title = 'Engineer' WHERE employee_id = 'E200010'")
        }
    }

    /// examples/hr-plus-directory: the HR database joined with the test directory (slapd) on
    /// employeeNumber = employee_id; the e-mail from the directory, everything else from HR.
    @Test func hrJoinedWithTheDirectory() async throws {
        let ldap = ProcessInfo.processInfo.environment
        guard let url = ldap["LDAP_TEST_URL"], let base = ldap["LDAP_TEST_BASE"] else {
            Issue.record("LDAP_TEST_* is not set: run scripts/test, which starts the test directory")
            return
        }
        try await withSimulator(hrSimulator) { simulator in
            let example = try ExampleCopy("hr-plus-directory")
            let job = example.path("hr-plus-directory.yml")
            let (reader, ca) = (try setting("PG_TEST_READER"), try setting("PG_TEST_CA"))
            try example.editJob("hr-plus-directory.yml") { config in
                config["api"] = hrAPI(simulator.baseURL)
                var sources = config.section("sources")
                var hr = sources.section("hr")
                readTestDatabase(&hr, reader: reader, ca: ca)
                var directory = sources.section("directory")
                directory["url"] = url
                directory["base_dn"] = base
                for key in ["ca_file", "bind_dn", "bind_password_file"] { directory[key] = nil }
                sources["hr"] = hr
                sources["directory"] = directory
                config["sources"] = sources
            }
            let env = ["HR_JOB_SECRET": "hr-job-secret", "HR_DB_PASSWORD": try setting("PG_TEST_READER_PASSWORD")]
            let current = Int(try await admin("SELECT count(*) FROM hr.employees WHERE status <> 'terminated'"))!

            let (summary, plan) = try await planSummary(job, environment: env)
            #expect(plan.status == 0, "\(plan.all)")
            #expect(
                (summary?["unmatched"] ?? 0) > 0, "the directory holds people HR does not: \(plan.stdout.prefix(400))")
            let sync = try await runCLI(["sync", "--config", job], environment: env)
            #expect(sync.status == 0, "\(sync.all)")
            let people = await simulator.simulator.people()
            #expect(!people.isEmpty && people.count <= current, "only HR's people: \(people.count) of \(current)")
            // E000101 is in both: the directory's e-mail (as gen-directory.py writes it), HR's facility.
            let margaret = try #require(people.first { $0["employee_id"] == "E000101" })
            let directoryMail = try await runProcess(
                "/usr/bin/ldapsearch", ["-x", "-LLL", "-H", url, "-b", base, "(employeeNumber=E000101)", "mail"])
            let mail = directoryMail.stdout.split(separator: "\n").first { $0.hasPrefix("mail: ") }
                .map { $0.dropFirst(6).lowercased() }
            #expect(mail != nil && margaret["email"] == mail, "\(margaret) \(directoryMail.all)")
            #expect(margaret["facility_id"] == "101" && margaret["hired_at"] == "2015-03-02 00:00:00")
            for secret in ["hr-job-secret", "123-45-6701"] { #expect(!sync.all.contains(secret)) }
        }
    }

    @Test func aPersonsStoryAndTheRunsInThePostgresStore() async throws {
        let env = ["PG_TEST_STORE_PASSWORD": try setting("PG_TEST_STORE_PASSWORD")]
        try await withHarness(snapshot: try postgresSnapshot()) { harness in
            try await HistoryTests.personStory(harness, environment: env)
            let status = try await harness.run("status", environment: env)
            #expect(status.status == 0 && status.stdout.hasPrefix("COMPLIANCE-SYNC OK"), "\(status.all)")
        }
    }

    @Test func twoRunsOfOneJobNeverOverlap() async throws {
        let snapshot = try postgresSnapshot()
        let env = ["PG_TEST_STORE_PASSWORD": try setting("PG_TEST_STORE_PASSWORD")]
        try await withHarness({ $0.processingTime = 0.3 }, api: ["batch_size": 5], snapshot: snapshot) { harness in
            async let a = harness.run("sync", environment: env)
            async let b = harness.run("sync", environment: env)
            let results = try await [a, b]
            let stopped = results.filter { $0.status != 0 }
            #expect(stopped.count == 1, "\(results.map(\.all))")
            #expect(stopped.first?.status == 5, "a run that finds the job locked is skipped (exit 5), not failed")
            #expect(stopped.first?.stderr.contains("holds its lock") == true, "\(stopped.first?.all ?? "")")
            #expect(await harness.people().count == 28)
            #expect(await harness.stats()["rows_received"] == 28)

            // Told to wait, the second run waits for the first and then finds nothing to do.
            try harness.example.write(
                "people.csv",
                try harness.example.read("people.csv")
                    + "E9999,Ada,,King,ada.king@example.com,Analyst,Engineering,123-45-9999,2020-01-01\n")
            async let c = harness.run("sync", ["--wait-for-lock", "60s"], environment: env)
            async let d = harness.run("sync", ["--wait-for-lock", "60s"], environment: env)
            let waited = try await [c, d]
            #expect(waited.allSatisfy { $0.status == 0 }, "\(waited.map(\.all))")
            #expect(
                waited.filter { $0.stdout.contains("nothing to do, 0 imports sent") }.count == 1, "\(waited.map(\.all))"
            )
            #expect(await harness.stats()["rows_received"] == 29)
        }
    }

    @Test(arguments: ["after-journal:2", "after-submit:2", "after-commit:1"], [1, 4])
    func killedMidUploadThenRerunConverges(_ failpoint: String, inFlight: Int) async throws {
        let env = ["PG_TEST_STORE_PASSWORD": try setting("PG_TEST_STORE_PASSWORD")]
        try await withHarness(api: ["batch_size": 10, "max_in_flight": inFlight], snapshot: try postgresSnapshot()) {
            harness in
            let killed = try await harness.run(
                "sync", environment: env.merging(["COMPLIANCE_SYNC_FAILPOINT": failpoint]) { $1 })
            #expect(killed.status == 9 || killed.status == 137, "killed by SIGKILL: \(killed.all)")
            let rerun = try await harness.run("sync", environment: env)
            #expect(rerun.status == 0, "\(rerun.all)")
            #expect(await harness.actualPeople().active == (try harness.expectedPeople()))
            if inFlight == 1 {
                #expect(await harness.stats()["rows_received"] == 28, "nothing applied twice")
            } else {
                // An import submitted but not yet journaled with its id is unconfirmed: sent again.
                #expect(await harness.stats()["rows_received"] ?? 0 >= 28)
            }
            let third = try await harness.run("sync", environment: env)
            #expect(third.stdout.contains("nothing to do, 0 imports sent"), "\(third.all)")
        }
    }
}
