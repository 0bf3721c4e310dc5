import ConnectorCore
import Foundation
import Logging
import PostgresClient
import PostgresSnapshotStore
import SnapshotStoreTestKit
import TestSupport
import Testing

@testable import JobConfig
@testable import SyncCore

/// The PostgreSQL snapshot store against a real server (database `sync` of scripts/pg-test-server).
@Suite(.enabled(if: TestServers.postgres, Comment(rawValue: TestServers.why))) struct PostgresSnapshotStoreTests {
    let logger = Logger(label: "test")

    /// Settings for a job of its own, so that tests do not meet.
    func settings(job: String = "t\(UInt32.random(in: 0...UInt32.max))", wait: Duration = .zero) throws
        -> SnapshotSettings
    {
        var settings = try SnapshotSettings(
            yaml: """
                type: postgres
                job: \(job)
                conninfo: \(PostgresTestServer.setting("PG_TEST_STORE"))
                password_env: PG_TEST_STORE_PASSWORD
                """)
        settings.lockWait = wait
        return settings
    }

    func update(_ id: String, _ n: UInt64, terminated: String? = nil) -> SnapshotUpdate {
        SnapshotUpdate(
            sourceID: id, fingerprint: Fingerprint(high: n, low: ~n),
            fields: ["email": "\(id)@example.com", "ssn": "hmac:abc"], terminatedAt: terminated)
    }

    func tableExists(_ name: String) async throws -> Bool {
        try await PostgresTestServer.admin(
            "SELECT to_regclass('compliance_sync.\"\(name)\"') IS NOT NULL", database: "sync")
            == "t"
    }

    /// The contract every store keeps (SnapshotStoreTestKit), each case on a job of its own.
    @Test func keepsTheStoreContract() async throws {
        let logger = logger
        let job = JobName()
        try await SnapshotStoreConformance(
            store: {
                let settings = try settings()
                job.set(settings)
                return try await PostgresSnapshotStore.openForWriting(settings, logger: logger)
            },
            again: { try await PostgresSnapshotStore.openForWriting(job.get()!, logger: logger) }
        ).verify()
    }

    @Test func planCreatesNothing() async throws {
        let settings = try settings()
        let reader = try await PostgresSnapshotStore.openForReading(settings, logger: logger)
        #expect(reader is EmptySnapshot)
        #expect(try await reader.index().count == 0)
        #expect(try await !tableExists("people_\(settings.job)"))
    }

    @Test func writesReadBackAndSurviveReopening() async throws {
        let settings = try settings()
        var key: Data
        do {
            let store = try await PostgresSnapshotStore.openForWriting(settings, logger: logger)
            key = store.key.bytes
            let odd = "quote\" back\\slash, comma {brace} ünï 名"
            try await store.commit([
                update("b", 2), update("a", 1), update(odd, 3), update("Z", 4, terminated: "2026-01-01 00:00:00 UTC"),
            ])
            try await store.setMissing(["a"], since: Date(timeIntervalSince1970: 1_800_000_000))
            try await store.commit([update("a", 5)], resolving: nil)
            try await store.setMissing(["b"], since: Date(timeIntervalSince1970: 1_800_000_100.5))
        }
        #expect(try await tableExists("people_\(settings.job)"))
        let reader = try await PostgresSnapshotStore.openForReading(settings, logger: logger)
        #expect(reader.key.bytes == key)
        let index = try await reader.index()
        #expect(index.ids == ["Z", "a", "b", "quote\" back\\slash, comma {brace} ünï 名"])
        #expect(index["a"] == SnapshotEntry(fingerprint: Fingerprint(high: 5, low: ~5)))
        #expect(index["b"]?.missingSince == Date(timeIntervalSince1970: 1_800_000_100.5))
        #expect(index["Z"]?.terminated == true)
        let people = try await reader.people(["Z", "b", "nobody", "quote\" back\\slash, comma {brace} ünï 名"])
        #expect(people.count == 3)
        #expect(people["Z"]?.terminatedAt == "2026-01-01 00:00:00 UTC")
        #expect(people["b"]?.fields == ["email": "b@example.com", "ssn": "hmac:abc"])
        #expect(people["b"]?.missingSince == Date(timeIntervalSince1970: 1_800_000_100.5))
    }

    @Test func oneRunAtATimePerJob() async throws {
        let settings = try settings()
        var first: PostgresSnapshotStore? = try await PostgresSnapshotStore.openForWriting(settings, logger: logger)
        await #expect {
            _ = try await PostgresSnapshotStore.openForWriting(settings, logger: logger)
        } throws: { error in
            let text = String(describing: error)
            return text.contains("another run of job \(settings.job) holds its lock")
                && text.contains("compliance-sync ")
                && text.contains("--wait-for-lock")
        }
        let started = Date()
        await #expect {
            _ = try await PostgresSnapshotStore.openForWriting(
                try self.settings(job: settings.job, wait: .seconds(1)), logger: logger)
        } throws: { String(describing: $0).contains("after waiting 1.0 seconds") }
        #expect(Date().timeIntervalSince(started) >= 0.9)
        // Another job is not held up.
        _ = try await PostgresSnapshotStore.openForWriting(try self.settings(), logger: logger)

        // A waiting run proceeds when the first lets go.
        let waiting = Task {
            try await PostgresSnapshotStore.openForWriting(
                try self.settings(job: settings.job, wait: .seconds(30)), logger: logger)
        }
        try await Task.sleep(for: .milliseconds(300))
        // Let go of the first store, and so of its lock (kept to here without handing it to `#expect`,
        // whose captured operands may outlive the check).
        withExtendedLifetime(first) {}
        first = nil
        let second = try await waiting.value
        #expect(second.description.contains(settings.job))
    }

    @Test func firstRunsOfSeveralJobsAtOnce() async throws {
        let schema = "cs_\(UInt32.random(in: 0...UInt32.max))"
        let conninfo = try PostgresTestServer.setting("PG_TEST_STORE")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for job in 0..<6 {
                group.addTask {
                    let settings = try SnapshotSettings(
                        yaml: """
                            type: postgres
                            job: job\(job)
                            schema: \(schema)
                            conninfo: \(conninfo)
                            password_env: PG_TEST_STORE_PASSWORD
                            """)
                    let store = try await PostgresSnapshotStore.openForWriting(settings, logger: Logger(label: "test"))
                    try await store.commit([
                        SnapshotUpdate(sourceID: "a", fingerprint: Fingerprint(high: 1, low: 2), fields: [:])
                    ])
                }
            }
            try await group.waitForAll()
        }
        #expect(try await PostgresTestServer.admin("SELECT count(*) FROM \(schema).jobs", database: "sync") == "6")
    }

    @Test func theKeyMayLiveInAFileSharedByTheHosts() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pg-key-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var settings = try settings()
        settings.keyPath = folder.appendingPathComponent("job.key").path
        settings.keyFileGiven = true
        let key = try await PostgresSnapshotStore.openForWriting(settings, logger: logger).key
        let mode = try FileManager.default.attributesOfItem(atPath: settings.keyPath)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(
            try await PostgresTestServer.admin(
                "SELECT hmac_key IS NULL FROM compliance_sync.jobs WHERE job = '\(settings.job)'", database: "sync")
                == "t")
        #expect(try await PostgresSnapshotStore.openForReading(settings, logger: logger).key.bytes == key.bytes)

        var missing = settings
        missing.keyPath = folder.appendingPathComponent("missing.key").path
        await #expect {
            _ = try await PostgresSnapshotStore.openForReading(missing, logger: logger)
        } throws: { String(describing: $0).contains("was written with the key \(missing.keyPath), which is missing") }
        try SnapshotKey.random().bytes.write(to: folder.appendingPathComponent("other.key"))
        chmod(folder.appendingPathComponent("other.key").path, 0o600)
        var otherFile = settings
        otherFile.keyPath = folder.appendingPathComponent("other.key").path
        await #expect {
            _ = try await PostgresSnapshotStore.openForWriting(otherFile, logger: logger)
        } throws: { String(describing: $0).contains("is not the one job \(settings.job)'s snapshot was written with") }
    }

    /// A database dump alone must not let anyone recover SSNs: new snapshots keep their key in a file.
    @Test func newSnapshotsKeepTheirKeyOutOfTheDatabase() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pg-default-key-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        var settings = try settings()
        settings.keyPath = folder.appendingPathComponent(".state/\(settings.job).snapshot.key").path
        #expect(!settings.keyFileGiven)
        let key = try await PostgresSnapshotStore.openForWriting(settings, logger: logger).key
        #expect(
            try await PostgresTestServer.admin(
                "SELECT hmac_key IS NULL FROM compliance_sync.jobs WHERE job = '\(settings.job)'", database: "sync")
                == "t")
        #expect(try Data(contentsOf: URL(fileURLWithPath: settings.keyPath)) == key.bytes)
        #expect(try FileManager.default.attributesOfItem(atPath: settings.keyPath)[.posixPermissions] as? Int == 0o600)

        // A snapshot of an earlier version, its key in the database, still opens, with a warning.
        let hex = key.bytes.map { String(format: "%02x", $0) }.joined()
        try await PostgresTestServer.admin(
            "UPDATE compliance_sync.jobs SET hmac_key = decode('\(hex)', 'hex') WHERE job = '\(settings.job)'",
            database: "sync")
        try FileManager.default.removeItem(atPath: settings.keyPath)
        let recorder = LogRecorder()
        let reopened = try await PostgresSnapshotStore.openForReading(settings, logger: recorder.logger)
        #expect(reopened.key.bytes == key.bytes)
        #expect(recorder.messages.contains { $0.contains("is kept in the database") && $0.contains("recover SSNs") })
    }

    @Test func aNewerSchemaIsRefused() async throws {
        let settings = try settings()
        _ = try await PostgresSnapshotStore.openForWriting(settings, logger: logger)
        try await PostgresTestServer.admin(
            "UPDATE compliance_sync.jobs SET schema_version = 99 WHERE job = '\(settings.job)'", database: "sync")
        await #expect {
            _ = try await PostgresSnapshotStore.openForReading(settings, logger: logger)
        } throws: { String(describing: $0).contains("schema version 99, newer than this build's 1") }
    }

    @Test func unknownSettingsAndUnsafeJobNamesAreErrors() async throws {
        var settings = try settings()
        settings.job = "nightly; drop"
        await #expect {
            _ = try await PostgresSnapshotStore.openForWriting(settings, logger: logger)
        } throws: { String(describing: $0).contains("cannot name tables after the job") }
        let typo = try SnapshotSettings(yaml: "type: postgres\nconninfo: host=127.0.0.1\nschemaa: x\n")
        await #expect {
            _ = try await PostgresSnapshotStore.openForReading(typo, logger: logger)
        } throws: { String(describing: $0).contains("unknown key `snapshot.schemaa`") }
    }
}

extension SnapshotSettings {
    /// Settings from the text of a `snapshot:` section.
    init(yaml: String) throws {
        let location = ConfigLocation(file: "job.yml", line: 1, column: 1)
        let pairs = yaml.split(separator: "\n").map { line -> (key: String, node: ConfigNode) in
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            return (parts[0], ConfigNode(.scalar(parts[1]), location: location, path: "snapshot.\(parts[0])"))
        }
        let node = ConfigNode(.mapping(pairs), location: location, path: "snapshot")
        try self.init(section: try node.section(), defaultJob: "job", folder: "/tmp")
    }
}

/// The settings of the store a conformance case made last.
final class JobName: @unchecked Sendable {
    private let lock = NSLock()
    private var settings: SnapshotSettings?
    func set(_ value: SnapshotSettings) { lock.withLock { settings = value } }
    func get() -> SnapshotSettings? { lock.withLock { settings } }
}
