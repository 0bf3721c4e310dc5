import ComplianceSimulator
import Foundation
import TestSupport
import Testing

/// `compliance-sync init`: a job file for each kind of source that loads as written, one that
/// `validate` passes once pointed at real data, and never an existing file overwritten unasked.
@Suite struct InitCommandTests {
    static func folder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("init-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test(arguments: ["csv", "ldap", "ad", "postgres", "http", "exec"])
    func theJobFileLoadsAsWritten(kind: String) async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("\(kind).yml").path
        let made = try await runCLI(["init", "--source", kind, "--output", path])
        #expect(made.status == 0, "\(made.all)")
        #expect(made.stdout.contains("compliance-sync validate --config \(path)"))
        // The secrets it names live under /etc/compliance-sync: put stand-ins here instead.
        var text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix("# A compliance-sync job: people from "))
        text = text.replacingOccurrences(of: "/etc/compliance-sync/", with: folder.path + "/")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        for secret in ["client-secret", "ldap-password", "ad-password", "hr-db-password"] {
            try "stand-in\n".write(
                toFile: folder.appendingPathComponent(secret).path, atomically: true, encoding: .utf8)
            chmod(folder.appendingPathComponent(secret).path, 0o600)
        }
        // A plan loads every setting and builds the source before it reaches for it.
        let env = ["COMPLIANCE_CLIENT_ID": "demo", "SCIM_TOKEN": "t"]
        let plan = try await runCLI(["plan", "--config", path, "--log-level", "debug"], environment: env)
        // No source is reachable here; what matters is that no setting was refused.
        #expect(!plan.stderr.contains("unknown key"), "\(plan.stderr)")
        #expect(plan.status != 2, "a configuration error: \(plan.stderr)")
    }

    @Test func aCSVJobValidatesOncePointedAtItsFileAndTheAPI() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("job.yml").path
        #expect(try await runCLI(["init", "--source", "csv"], in: folder).status == 0)
        try "employee_number,first_name,last_name,email\nE1,Ada,Lovelace,Ada@Example.com\n".write(
            toFile: folder.appendingPathComponent("people.csv").path, atomically: true, encoding: .utf8)
        try await withSimulator(.forClient("init-job", secret: "init-Secret-1")) { simulator in
            let text = try String(contentsOfFile: path, encoding: .utf8)
                .replacingOccurrences(of: "https://api.threatswitch.com", with: simulator.baseURL)
                .replacingOccurrences(
                    of: "client_secret_file: /etc/compliance-sync/client-secret", with: "client_secret_env: INIT_SECRET"
                )
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let env = ["COMPLIANCE_CLIENT_ID": "init-job", "INIT_SECRET": "init-Secret-1"]
            let validate = try await runCLI(["validate", "--config", path], environment: env)
            #expect(validate.status == 0, "\(validate.all)")
            #expect(validate.stdout.contains("1 records, 0 invalid"), "\(validate.stdout)")
        }
    }

    @Test func anExistingFileIsKeptUnlessForced() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("job.yml").path
        try "# mine\n".write(toFile: path, atomically: true, encoding: .utf8)
        let refused = try await runCLI(["init", "--source", "ldap", "--output", path])
        #expect(refused.status == 2 && refused.stderr.contains("exists; nothing was written"), "\(refused.all)")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "# mine\n")
        let forced = try await runCLI(["init", "--source", "ldap", "--output", path, "--force"])
        #expect(forced.status == 0, "\(forced.all)")
        #expect(try String(contentsOfFile: path, encoding: .utf8).contains("type: ldap"))
        let printed = try await runCLI(["init", "--source", "ad", "--output", "-"])
        #expect(printed.stdout.contains("id: objectGUID"))
        let unknown = try await runCLI(["init", "--source", "oracle"])
        #expect(unknown.status == 2 && unknown.stderr.contains("csv, ldap, ad, postgres, http, exec"), "\(unknown.all)")
    }
}
