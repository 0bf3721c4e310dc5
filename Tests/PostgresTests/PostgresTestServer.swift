import ConnectorCore
import Foundation
import PostgresClient
import SyncCore
import TestSupport

/// The private PostgreSQL that scripts/test starts (scripts/pg-test-server):
/// database `hr` with examples/postgres-hr and generated employees, database `sync` for snapshots.
enum PostgresTestServer {
    static let environment = ProcessInfo.processInfo.environment

    static func setting(_ name: String) throws -> String { try TestServers.setting(name) }

    /// The read-only HR login.
    static func reader() throws -> PostgresSettings {
        try PostgresSettings(conninfo: setting("PG_TEST_READER"), password: Secret(setting("PG_TEST_READER_PASSWORD")))
    }

    /// The snapshot store's login.
    static func store() throws -> PostgresSettings {
        try PostgresSettings(conninfo: setting("PG_TEST_STORE"), password: Secret(setting("PG_TEST_STORE_PASSWORD")))
    }

    /// Runs SQL as the superuser through psql and returns its unaligned output. Waits without
    /// blocking a thread of the shared pool (`Process.waitUntilExit` spins one, starving the other
    /// tests' tasks on a 2-core machine).
    @discardableResult
    static func admin(_ sql: String, database: String = "hr") async throws -> String {
        let conninfo = try setting("PG_TEST_ADMIN").replacingOccurrences(of: "dbname=hr", with: "dbname=\(database)")
        let result = try await runProcess(
            "/usr/bin/psql", ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", conninfo, "-c", sql])
        guard result.status == 0 else {
            throw SyncError(.source, "psql failed (\(result.status)) running: \(sql): \(result.stderr)")
        }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
