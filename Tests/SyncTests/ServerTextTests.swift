import ComplianceSimulator
import Foundation
import TestSupport
import Testing

/// A source server's own words about an error may quote a person's values (PostgreSQL's message
/// for a bad value, a duplicate key's DETAIL): they never leave the host in a webhook, the run
/// history or `status`; they are shown on this host at debug level.
@Suite(.enabled(if: TestServers.postgres, Comment(rawValue: TestServers.why))) struct ServerTextTests {
    @Test func aDatabaseErrorQuotingAValueStaysOnTheHost() async throws {
        let (reader, ca, password) = (
            try TestServers.setting("PG_TEST_READER"), try TestServers.setting("PG_TEST_CA"),
            try TestServers.setting("PG_TEST_READER_PASSWORD")
        )
        let receiver = try await WebhookReceiver()
        defer { receiver.stop() }
        var configuration = SimulatorConfiguration()
        configuration.port = 0
        configuration.clients = ["text-job": "text-job-secret"]
        try await withSimulator(configuration) { simulator in
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("server-text-\(UUID())")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let job = folder.appendingPathComponent("hr.yml").path
            // A person's value, as PostgreSQL would quote it in "invalid input syntax for type integer".
            let marker = "Zq9-person-value"
            try """
            api: { base_url: \(simulator.baseURL), client_id: text-job, client_secret_env: SECRET }
            source:
              type: postgres
              conninfo: \(reader)
              password_env: HR_DB_PASSWORD
              sslrootcert: \(ca)
              id: employee_id
              query: SELECT employee_id, given_name, family_name, work_email, (given_name || '\(marker)')::int AS n FROM hr.employees
            mapping:
              first_name: given_name
              last_name: family_name
              email: work_email
            notify: [{ url_env: HOOK_URL, on: [failure] }]
            """.write(toFile: job, atomically: true, encoding: .utf8)
            let env = ["SECRET": "text-job-secret", "HR_DB_PASSWORD": password, "HOOK_URL": receiver.url]
            let sync = try await runCLI(["sync", "--config", job], environment: env)
            #expect(sync.status == 1, "\(sync.all)")
            #expect(sync.stderr.contains("SQLSTATE 22P02"), "what failed is said: \(sync.stderr)")
            #expect(!sync.all.contains(marker), "\(sync.all)")
            #expect(receiver.bodies.count == 1 && !receiver.rawBodies.contains(marker), "\(receiver.rawBodies)")
            for command in ["history", "status"] {
                let shown = try await runCLI([command, "--config", job, "--format", "json"], environment: env)
                #expect(!shown.all.contains(marker) && shown.all.contains("22P02"), "\(command): \(shown.all)")
            }
            let debug = try await runCLI(["plan", "--config", job, "--log-level", "debug"], environment: env)
            #expect(debug.status == 1 && debug.stderr.contains(marker), "on this host, at debug level: \(debug.all)")
        }
    }
}
