import ComplianceSimulator
import Foundation
import TestSupport
import Testing

/// What `new-connector Acme` writes, run as docs/writing-a-connector.md says: the program
/// (`acme-connector`, built by scripts/build-examples) and the job file beside it, with this
/// build of compliance-sync, against the simulator. Two syncs: everyone created, then one
/// change and one leaver.
@Suite(.enabled(if: TestServers.examples, Comment(rawValue: TestServers.why)))
struct ScaffoldedConnectorTests {
    static let secret = "scaffold-Secret-2290"

    /// The export the skeleton reads: an array of objects, one of them nested.
    static func export(_ people: [(id: String, last: String)]) throws -> String {
        let list = people.map { person in
            [
                "id": person.id, "first_name": "Zoë", "last_name": person.last,
                "email": " \(person.id)@Example.com ", "manager": ["id": "A1"],
            ] as [String: Any]
        }
        return String(decoding: try JSONSerialization.data(withJSONObject: list), as: UTF8.self)
    }

    @Test func theWrittenProgramAndJobSyncTwice() async throws {
        let written = try TestServers.setting("ACME_CONNECTOR_FOLDER")
        let program = try TestServers.setting("ACME_CONNECTOR_BINARY")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("acme-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        // The job as written, the program where the job expects the release build.
        let release = folder.appendingPathComponent(".build/release")
        try FileManager.default.createDirectory(at: release, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: release.appendingPathComponent("acme-connector").path, withDestinationPath: program)
        let job = folder.appendingPathComponent("acme.yml").path
        try FileManager.default.copyItem(atPath: written + "/acme.yml", toPath: job)
        let people = (1...40).map { (id: "A\($0)", last: "Person \($0)") }
        let exportPath = folder.appendingPathComponent("people.json").path
        try Self.export(people).write(toFile: exportPath, atomically: true, encoding: .utf8)

        try await withSimulator(.forClient("acme-client", secret: Self.secret)) { simulator in
            let env = [
                "COMPLIANCE_URL": simulator.baseURL, "COMPLIANCE_CLIENT_ID": "acme-client",
                "COMPLIANCE_CLIENT_SECRET": Self.secret,
            ]
            let validate = try await runCLI(["validate", "--config", job], environment: env)
            #expect(validate.status == 0, "\(validate.all)")
            let first = try await runCLI(["sync", "--config", job], environment: env)
            #expect(first.status == 0, "\(first.all)")
            #expect(first.stdout.contains("created 40, updated 0, terminated 0"), "\(first.all)")
            let a3 = await simulator.simulator.people().first { $0["employee_id"] == "A3" }
            #expect(a3?["email"] == "a3@example.com" && a3?["last_name"] == "Person 3")

            var changed = people.filter { $0.id != "A7" }
            changed[2].last = "Renamed"
            try Self.export(changed).write(toFile: exportPath, atomically: true, encoding: .utf8)
            let second = try await runCLI(["sync", "--config", job], environment: env)
            #expect(second.status == 0, "\(second.all)")
            #expect(second.stdout.contains("created 0, updated 1, terminated 1"), "\(second.all)")
            let after = await simulator.simulator.people()
            #expect(after.first { $0["employee_id"] == "A3" }?["last_name"] == "Renamed")
            #expect(after.first { $0["employee_id"] == "A7" }?["terminated_at"] != nil)
        }
    }
}
