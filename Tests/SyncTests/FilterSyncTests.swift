import ComplianceSimulator
import Foundation
import TestSupport
import Testing

/// `include:` and `exclude:` through real connectors: a filter tests attributes the mapping never
/// names, so each source must fetch them (a CSV column it would skip, an LDAP attribute it would not
/// request, a column a query returns), and a filter on an attribute no record carries stops the run.
@Suite struct FilterSyncTests {
    /// Writes the quick start's CSV with a `status` column: `terminated` for the ids given, else `active`.
    static func addStatus(_ harness: SyncHarness, terminated: Set<String>) throws {
        if !FileManager.default.fileExists(atPath: harness.example.path("people.orig")) {
            try harness.example.write("people.orig", try harness.example.read("people.csv"))
        }
        let lines = try harness.example.read("people.orig").split(separator: "\n").map(String.init)
        var out = [lines[0] + ",status"]
        for line in lines.dropFirst() {
            let id = String(line.prefix { $0 != "," })
            out.append(line + "," + (terminated.contains(id) ? "terminated" : "active"))
        }
        try harness.example.write("people.csv", out.joined(separator: "\n") + "\n")
    }

    /// Sets the quick start's source filter.
    static func filter(_ harness: SyncHarness, _ filter: [String: Any]) throws {
        try harness.example.editJob("quickstart.yml") { job in
            job["source"] = job.section("source").merging(filter) { $1 }
        }
    }

    @Test func csvExcludeOnAColumnTheMappingNeverNames() async throws {
        try await withHarness { harness in
            let everyone = try harness.expectedPeople()
            try Self.addStatus(harness, terminated: ["E1003", "E1004"])
            try Self.filter(harness, ["exclude": ["attribute": "status", "equals": "terminated"]])
            let (summary, plan) = try await planSummary(
                harness.example.path("quickstart.yml"),
                environment: ["COMPLIANCE_CLIENT_SECRET": SyncHarness.secret])
            #expect(summary?["creates"] == everyone.count - 2, "\(plan.all)")
            let first = try await harness.run("sync")
            #expect(first.status == 0, "\(first.all)")
            let active = await harness.actualPeople().active
            #expect(active.count == everyone.count - 2 && active["E1003"] == nil && active["E1004"] == nil)

            // A leaver marked in HR's column is terminated by the next run.
            try Self.addStatus(harness, terminated: ["E1003", "E1004", "E1005"])
            let second = try await harness.run("sync")
            #expect(second.status == 0, "\(second.all)")
            #expect(second.stdout.contains("created 0, updated 0, terminated 1"), "\(second.all)")
            #expect(await harness.actualPeople().terminated["E1005"] != nil)
        }
    }

    /// The example of docs/configuration.md, as written there but for the column names of the quick start.
    @Test func csvTheDocumentedExample() async throws {
        try await withHarness { harness in
            let everyone = try harness.expectedPeople()
            try Self.addStatus(harness, terminated: ["E1003"])
            try Self.filter(
                harness,
                [
                    "include": ["attribute": "status", "in": ["active", "on_leave"]],
                    "exclude": [
                        ["attribute": "email", "matches": "@svc\\.example\\.com$"],
                        ["attribute": "$id", "equals": "E1004"],
                    ],
                ])
            let (summary, plan) = try await planSummary(
                harness.example.path("quickstart.yml"),
                environment: ["COMPLIANCE_CLIENT_SECRET": SyncHarness.secret])
            #expect(summary?["creates"] == everyone.count - 2, "\(plan.all)")
        }
    }

    @Test func aFilterOnAnAttributeNoRecordCarriesStopsTheRun() async throws {
        try await withHarness { harness in
            try Self.addStatus(harness, terminated: ["E1003"])
            try Self.filter(harness, ["exclude": ["attribute": "employment_status", "equals": "terminated"]])
            for command in ["plan", "validate", "sync"] {
                let run = try await harness.run(command)
                #expect(run.status == 2, "\(command): \(run.all)")
                #expect(run.stderr.contains("quickstart.yml:"), "names the file and line: \(run.stderr)")
                #expect(run.stderr.contains("`employment_status`") && run.stderr.contains("nothing was sent"))
            }
            #expect(await harness.stats()["imports_created"] == 0)

            // Said to be possibly absent, the filter leaves out no one.
            try Self.filter(
                harness, ["exclude": ["attribute": "employment_status", "equals": "terminated", "optional": true]])
            let sync = try await harness.run("sync")
            #expect(sync.status == 0, "\(sync.all)")
            #expect(await harness.actualPeople().active.count == (try harness.expectedPeople().count))
        }
    }

    /// A joined CSV whose filter tests a column the mapping never reads: each member fetches its own.
    @Test func aJoinedSourceFetchesWhatItsFilterTests() async throws {
        try await withHarness { harness in
            try harness.example.write(
                "badges.csv",
                "badge,number,site,state\nB1,E1001,North,revoked\nB2,E1002,South,valid\n")
            try harness.example.editJob("quickstart.yml") { job in
                var hr = job.section("source")
                hr["primary"] = true
                let badges: [String: Any] = [
                    "type": "csv", "path": "badges.csv", "id": "badge",
                    "join": ["attribute": "number", "to": "employee_number"],
                    "exclude": ["attribute": "state", "equals": "revoked"],
                ]
                job["source"] = nil
                job["sources"] = ["hr": hr, "badges": badges]
                var mapping = job.section("mapping")
                mapping["job_title"] = ["coalesce": ["badges.site", "title"]]
                job["mapping"] = mapping
            }
            let sync = try await harness.run("sync")
            #expect(sync.status == 0, "\(sync.all)")
            let people = await harness.actualPeople().active
            #expect(people["E1002"]?["job_title"] == "South")
            #expect(people["E1001"]?["job_title"] == (try harness.expectedPeople())["E1001"]?["job_title"])

            // The member's filter misspelt: the run stops, naming the member's filter.
            try harness.example.editJob("quickstart.yml") { job in
                var sources = job.section("sources")
                var badges = sources.section("badges")
                badges["exclude"] = ["attribute": "status", "equals": "revoked"]
                sources["badges"] = badges
                job["sources"] = sources
            }
            let misspelt = try await harness.run("plan")
            #expect(misspelt.status == 2, "\(misspelt.all)")
            #expect(misspelt.stderr.contains("`status`") && misspelt.stderr.contains("(badges)"), "\(misspelt.stderr)")
        }
    }
}

/// The same through the test directory and the test database.
@Suite(.enabled(if: TestServers.ldap && TestServers.postgres, Comment(rawValue: TestServers.why)))
struct ServerFilterSyncTests {
    let environment = ProcessInfo.processInfo.environment

    func setting(_ name: String) throws -> String { try TestServers.setting(name) }

    func folder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("filter-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    var simulator: SimulatorConfiguration {
        .forClient("filter-job", secret: "filter-job-secret")
    }

    /// An LDAP `exclude:` and `include:` on `title`, which this mapping does not read.
    @Test func ldapFiltersOnAnAttributeTheMappingNeverNames() async throws {
        let (url, base) = (try setting("LDAP_TEST_URL"), try setting("LDAP_TEST_BASE"))
        let people = Int(try setting("LDAP_TEST_PEOPLE"))!
        try await withSimulator(simulator) { simulator in
            let folder = try folder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let job = folder.appendingPathComponent("directory.yml").path
            func write(_ filter: String) throws {
                try """
                api: { base_url: \(simulator.baseURL), client_id: filter-job, client_secret_env: SECRET, batch_size: 1000 }
                source:
                  type: ldap
                  url: \(url)
                  base_dn: \(base)
                  filter: (objectClass=inetOrgPerson)
                \(filter)
                mapping:
                  first_name: givenName
                  last_name: sn
                  email: { attribute: mail, transform: [first, lowercase] }
                  employee_id: employeeNumber
                removals: { max_percent: 100 }
                """.write(toFile: job, atomically: true, encoding: .utf8)
            }
            let env = ["SECRET": "filter-job-secret"]
            // As scripts/gen-directory.py writes them: titles `Engineer 0` to `Engineer 6`, some without mail.
            // (LDAPSyncTests retitles u000010, an `Engineer 3`: these filters are blind to it either way.)
            let withMail = (0..<people).filter { !($0 % 53 == 3 && $0 % 61 != 4) }
            try write("  exclude: { attribute: title, equals: Engineer 4 }")
            let (excluded, _) = try await planSummary(job, environment: env)
            #expect(excluded?["creates"] == withMail.filter { $0 % 7 != 4 }.count)
            try write("  include: { attribute: title, in: [Engineer 1, Engineer 2] }")
            let (included, _) = try await planSummary(job, environment: env)
            #expect(included?["creates"] == withMail.filter { $0 % 7 == 1 || $0 % 7 == 2 }.count)
            try write("  exclude: { attribute: employeeType, equals: contractor }")
            let missing = try await runCLI(["plan", "--config", job], environment: env)
            #expect(missing.status == 2 && missing.stderr.contains("`employeeType`"), "\(missing.all)")
        }
    }

    /// A query that returns every employee with its status, and `include:` on that column.
    @Test func postgresIncludeOnAColumnTheMappingNeverNames() async throws {
        let (reader, ca, password) = (
            try setting("PG_TEST_READER"), try setting("PG_TEST_CA"), try setting("PG_TEST_READER_PASSWORD")
        )
        try await withSimulator(simulator) { simulator in
            let folder = try folder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let job = folder.appendingPathComponent("hr.yml").path
            try """
            api: { base_url: \(simulator.baseURL), client_id: filter-job, client_secret_env: SECRET, batch_size: 1000 }
            source:
              type: postgres
              conninfo: \(reader)
              password_env: HR_DB_PASSWORD
              sslrootcert: \(ca)
              id: employee_id
              query: |
                SELECT employee_id, given_name, family_name, work_email, status::text AS status FROM hr.employees
              include: { attribute: status, in: [active, on_leave] }
            mapping:
              first_name: given_name
              last_name: family_name
              email: { attribute: work_email, transform: [trim, lowercase] }
              employee_id: employee_id
            """.write(toFile: job, atomically: true, encoding: .utf8)
            let env = ["SECRET": "filter-job-secret", "HR_DB_PASSWORD": password]
            let admin = try setting("PG_TEST_ADMIN")
            let count = try await runProcess(
                "/usr/bin/psql",
                [
                    "-X", "-q", "-A", "-t", admin, "-c",
                    "SELECT count(*) FROM hr.employees WHERE status <> 'terminated' AND work_email IS NOT NULL",
                ])
            let expected = Int(count.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            #expect(expected != nil && expected! > 0, "\(count.all)")
            let (summary, plan) = try await planSummary(job, environment: env)
            #expect(summary?["creates"] == expected, "\(plan.all)")
            let terminated = try await runProcess(
                "/usr/bin/psql",
                ["-X", "-q", "-A", "-t", admin, "-c", "SELECT count(*) FROM hr.employees WHERE status = 'terminated'"])
            #expect(summary?["filtered"] == Int(terminated.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
    }
}
