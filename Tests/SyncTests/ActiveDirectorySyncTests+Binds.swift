import ComplianceSimulator
import Foundation
import TestSupport
import Testing

/// The example job against the same DC (in the serialized suite,
/// which one test freezes the DC in).
extension ActiveDirectorySyncTests {
    /// examples/active-directory, unchanged but for where the DC is (its address and CA), where the
    /// password and the API are: the domain's enabled staff in the cleared group, nothing left over.
    @Test func theExampleJobSyncsTheDomain() async throws {
        try await withDomain { domain, simulator, _, env in
            let example = try ExampleCopy("active-directory")
            try example.editJob("active-directory.yml") { config in
                config["api"] = [
                    "base_url": simulator.baseURL, "client_id": "ad-job", "client_secret_env": "AD_JOB_SECRET",
                ]
                var source = config.section("source")
                source["url"] = domain.url
                source["ca_file"] = domain.ca
                source["bind_password_file"] = nil
                source["bind_password_env"] = "AD_BIND_PASSWORD"
                config["source"] = source
            }
            let path = example.path("active-directory.yml")
            let sync = try await runCLI(["sync", "--config", path], environment: env)
            #expect(sync.status == 0, "\(sync.all)")
            let enabled = domain.users - domain.users / 10
            #expect(sync.stdout.contains("created \(enabled), updated 0, terminated 0"), "\(sync.stdout)")
            let again = try await planSummary(path, environment: env).0
            #expect(again?["creates"] == 0 && again?["updates"] == 0 && again?["removals"] == 0)
        }
    }
}
