import ConnectorCore
import Foundation
import Logging
import SyncCore
import TestSupport
import Testing

@testable import PostgresClient

/// Config reading and the TLS policy; no server needed.
@Suite struct PostgresSettingsTests {
    /// A section read from YAML-like pairs, and the warnings logged while reading it.
    func settings(_ pairs: [(String, String)]) throws -> (PostgresSettings, [String]) {
        let location = ConfigLocation(file: "job.yml", line: 3, column: 3)
        let node = ConfigNode(
            .mapping(pairs.map { ($0.0, ConfigNode(.scalar($0.1), location: location, path: "source.\($0.0)")) }),
            location: location, path: "source")
        let recorder = LogRecorder()
        let settings = try PostgresSettings(section: try node.section(), folder: "/etc/job", logger: recorder.logger)
        return (settings, recorder.warnings)
    }

    @Test func aRemoteServerGetsVerifiedTLSByDefault() throws {
        let (remote, warnings) = try settings([("conninfo", "host=hr-db.example.com dbname=hr user=sync")])
        #expect(remote.sslMode == "verify-full")
        #expect(warnings.isEmpty)
        #expect(remote.description == "postgres hr-db.example.com/hr as sync")
        let (uri, _) = try settings([("conninfo", "postgresql://sync@10.1.2.3:5433/hr")])
        #expect(uri.sslMode == "verify-full")
        #expect(uri.description == "postgres 10.1.2.3:5433/hr as sync")
    }

    @Test func loopbackAndSocketsNeedNoTLS() throws {
        for conninfo in ["host=127.0.0.1 dbname=hr", "host=localhost", "host=/var/run/postgresql", "dbname=hr"] {
            let (local, warnings) = try settings([("conninfo", conninfo)])
            #expect(local.sslMode == nil, "\(conninfo)")
            #expect(warnings.isEmpty)
        }
    }

    @Test func aWeakerModeMustBeWrittenAndIsWarnedAbout() throws {
        let (weak, warnings) = try settings([("conninfo", "host=hr-db.example.com"), ("sslmode", "require")])
        #expect(weak.sslMode == "require")
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("source.sslmode is require") == true)
        let (inline, inlineWarnings) = try settings([("conninfo", "host=hr-db.example.com sslmode=disable")])
        #expect(inline.sslMode == nil)
        #expect(inlineWarnings.first?.contains("may not be encrypted") == true)
    }

    @Test func aPasswordInTheConnectionStringIsRefused() throws {
        for conninfo in ["host=db password=hunter2-Secret", "postgresql://sync:hunter2-Secret@db/hr"] {
            #expect {
                _ = try settings([("conninfo", conninfo)])
            } throws: { error in
                let text = String(describing: error)
                return text.contains("job.yml:3:3") && text.contains("holds a password") && !text.contains("hunter2")
            }
        }
        #expect {
            _ = try settings([("conninfo", "host=db dbname='unterminated")])
        } throws: { String(describing: $0).contains("cannot be read") }
    }

    /// A `service=` connection string is resolved through the service file before the TLS policy decides.
    @Test func aServiceIsResolvedBeforeTheTLSPolicyDecides() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pgservice-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("pg_service.conf").path
        try """
        # HR's database
        [hr]
        host = hr-db.corp.example.com
        dbname=hr

        [local]
        host=/var/run/postgresql
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let environment = ["PGSERVICEFILE": file]
        let hr = try PostgresSettings.parse("service=hr user=sync").resolvingService(environment: environment)
        #expect(hr.hosts(environment: environment) == ["hr-db.corp.example.com"])
        #expect(hr.options["dbname"] == "hr" && hr.options["user"] == "sync")
        let own = try PostgresSettings.parse("service=hr host=127.0.0.1").resolvingService(environment: environment)
        #expect(own.hosts(environment: environment) == ["127.0.0.1"], "the string's own options win")
        let local = try PostgresSettings.parse("service=local").resolvingService(environment: environment)
        #expect(local.hosts(environment: environment) == ["/var/run/postgresql"])
        let byEnvironment = try PostgresSettings.parse("dbname=x")
            .resolvingService(environment: environment.merging(["PGSERVICE": "hr"]) { $1 })
        #expect(byEnvironment.hosts(environment: environment) == ["hr-db.corp.example.com"])
        #expect(ServiceFile.options(of: "nope", environment: environment) == nil)
    }
}
