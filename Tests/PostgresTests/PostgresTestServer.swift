import ConnectorCore
import Foundation
import PostgresClient
import SyncCore

/// The private PostgreSQL that scripts/test starts (scripts/pg-test-server):
/// database `hr` with examples/postgres-hr and generated employees, database `sync` for snapshots.
enum PostgresTestServer {
    static let environment = ProcessInfo.processInfo.environment

    static func setting(_ name: String) throws -> String {
        guard let value = environment[name] else {
            throw SyncError(
                .configuration, "\(name) is not set", hint: "run scripts/test, which starts the test database")
        }
        return value
    }

    /// The read-only HR login.
    static func reader() throws -> PostgresSettings {
        try PostgresSettings(conninfo: setting("PG_TEST_READER"), password: Secret(setting("PG_TEST_READER_PASSWORD")))
    }

    /// The snapshot store's login.
    static func store() throws -> PostgresSettings {
        try PostgresSettings(conninfo: setting("PG_TEST_STORE"), password: Secret(setting("PG_TEST_STORE_PASSWORD")))
    }

    /// Runs SQL as the superuser through psql and returns its unaligned output.
    @discardableResult
    static func admin(_ sql: String, database: String = "hr") throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        let conninfo = try setting("PG_TEST_ADMIN").replacingOccurrences(of: "dbname=hr", with: "dbname=\(database)")
        process.arguments = ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", conninfo, "-c", sql]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw SyncError(.source, "psql failed (\(process.terminationStatus)) running: \(sql)")
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
