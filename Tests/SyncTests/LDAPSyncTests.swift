import ComplianceSimulator
import Foundation
import TestSupport
import Testing

/// LDAP → plan → sync into the simulator → change an entry with ldapmodify → sync sends exactly that change.
@Suite(.enabled(if: TestServers.ldap, Comment(rawValue: TestServers.why))) struct LDAPSyncTests {
    let environment = ProcessInfo.processInfo.environment

    @Test func directoryToSimulatorAndOneChange() async throws {
        guard let url = environment["LDAP_TEST_URL"], let base = environment["LDAP_TEST_BASE"],
            let adminDN = environment["LDAP_TEST_ADMIN_DN"], let adminPassword = environment["LDAP_TEST_ADMIN_PASSWORD"]
        else {
            Issue.record("LDAP_TEST_* is not set: run scripts/test, which starts the test directory")
            return
        }
        try await withSimulator(.forClient("ldap-job", secret: "ldap-job-secret")) { simulator in
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ldap-sync-\(UUID())")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let job = folder.appendingPathComponent("directory.yml").path
            try """
            api:
              base_url: \(simulator.baseURL)
              client_id: ldap-job
              client_secret_env: LDAP_JOB_SECRET
              batch_size: 1000
            source:
              type: ldap
              url: \(url)
              base_dn: \(base)
              filter: (objectClass=inetOrgPerson)
              page_size: 250
            mapping:
              first_name: givenName
              last_name: sn
              email: { attribute: mail, transform: [first, lowercase] }
              employee_id: employeeNumber
              job_title: title
            removals:
              max_percent: 5
            """.write(toFile: job, atomically: true, encoding: .utf8)
            let env = ["LDAP_JOB_SECRET": "ldap-job-secret"]
            let people = Int(environment["LDAP_TEST_PEOPLE"] ?? "0")!
            // As scripts/gen-directory.py writes them.
            let withoutMail = (0..<people).filter { $0 % 53 == 3 && $0 % 61 != 4 }.count

            let (summary, _) = try await planSummary(job, environment: env)
            #expect(summary?["creates"] == people - withoutMail)
            #expect(summary?["invalid"] == withoutMail)

            let first = try await runCLI(["sync", "--config", job], environment: env)
            #expect(first.status == 0, "\(first.all)")
            #expect(await simulator.simulator.people().count == people - withoutMail)

            // A title of its own, so the test also holds against a directory an earlier run changed.
            let title = "Director of Everything \(UInt32.random(in: 0...UInt32.max))"
            let change = folder.appendingPathComponent("change.ldif")
            try """
            dn: uid=u000010,\(base)
            changetype: modify
            replace: title
            title: \(title)

            """.write(to: change, atomically: true, encoding: .utf8)
            // Waited for without blocking a thread of the pool the other tests share.
            let modify = try await runProcess(
                "/usr/bin/ldapmodify", ["-x", "-H", url, "-D", adminDN, "-w", adminPassword, "-f", change.path])
            #expect(modify.status == 0, "\(modify.all)")

            let before = await simulator.simulator.stats()
            let second = try await runCLI(["sync", "--config", job], environment: env)
            #expect(second.status == 0, "\(second.all)")
            #expect(second.stdout.contains("created 0, updated 1, terminated 0"))
            let after = await simulator.simulator.stats()
            #expect(after["rows_received"]! - before["rows_received"]! == 1)
            #expect(after["imports_created"]! - before["imports_created"]! == 1)
            let person = await simulator.simulator.people().first { $0["employee_id"] == "E000010" }
            #expect(person?["job_title"] == title)
        }
    }
}
