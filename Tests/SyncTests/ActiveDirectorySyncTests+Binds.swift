import ComplianceSimulator
import Foundation
import TestSupport
import Testing

/// How an AD admin's job binds, and the example job, against the same DC (in the serialized suite,
/// which one test freezes the DC in).
extension ActiveDirectorySyncTests {
    /// The `bind:` lines of a Kerberos bind as the sync account, with the keytab the DC exported.
    func kerberosBind(keytab: String? = nil, principal: String? = nil) throws -> [String] {
        [
            "bind:", "  mechanism: gssapi",
            "  keytab: \(try keytab ?? TestServers.setting("COMPLIANCE_SYNC_AD_KEYTAB"))",
            "  principal: \(try principal ?? TestServers.setting("COMPLIANCE_SYNC_AD_PRINCIPAL"))",
        ]
    }

    /// Kerberos (SASL GSSAPI) with a keytab and no password anywhere: over LDAPS, and over plain
    /// `ldap://`, where Kerberos seals the traffic itself. The ticket lives in the run's memory: the
    /// user's own credentials cache is neither read nor written.
    @Test func kerberosWithAKeytabBindsWithNoPassword() async throws {
        try await withDomain { domain, simulator, folder, env in
            let ou = try await domain.addOU("k\(UInt32.random(in: 0...UInt32.max))", users: ["", "", ""])
            let cache = folder.appendingPathComponent("krb5cc").path
            var kerberos = env
            kerberos["AD_BIND_PASSWORD"] = nil
            kerberos["KRB5_CONFIG"] = try TestServers.setting("COMPLIANCE_SYNC_AD_KRB5_CONFIG")
            kerberos["KRB5CCNAME"] = "FILE:\(cache)"
            let plain = domain.url.replacingOccurrences(of: "ldaps://", with: "ldap://")
            for url in [domain.url, plain] {
                let path = try job(
                    in: folder, domain: domain, simulator: simulator, url: url, base: ou, bind: try kerberosBind())
                let (summary, plan) = try await planSummary(path, environment: kerberos)
                #expect(summary?["creates"] == 3, "\(url): \(plan.all)")
            }
            #expect(!FileManager.default.fileExists(atPath: cache), "no ticket written to the user's cache")
        }
    }

    /// A principal the keytab has no key for, and a keytab that is not there, fail the bind before any
    /// read, each naming what to fix.
    @Test func aKerberosBindThatCannotLogInSaysWhy() async throws {
        try await withDomain { domain, simulator, folder, env in
            var kerberos = env
            kerberos["KRB5_CONFIG"] = try TestServers.setting("COMPLIANCE_SYNC_AD_KRB5_CONFIG")
            for (bind, expected) in [
                (try kerberosBind(principal: "nobody@CORP.EXAMPLE.COM"), "nobody@CORP.EXAMPLE.COM"),
                (try kerberosBind(keytab: folder.appendingPathComponent("absent.keytab").path), "absent.keytab"),
            ] {
                let path = try job(in: folder, domain: domain, simulator: simulator, base: domain.base, bind: bind)
                let plan = try await runCLI(["plan", "--config", path], environment: kerberos)
                #expect(plan.status != 0)
                #expect(plan.stderr.contains(expected) && plan.stderr.contains("source.bind"), "\(plan.stderr)")
            }
        }
    }

    /// A simple bind by the account's DN over StartTLS on `ldap://` (the example binds by DN over LDAPS,
    /// the other tests by UPN).
    @Test func aSimpleBindByDNOverStartTLS() async throws {
        try await withDomain { domain, simulator, folder, env in
            let ou = try await domain.addOU("s\(UInt32.random(in: 0...UInt32.max))", users: ["", ""])
            let path = try job(
                in: folder, domain: domain, simulator: simulator,
                url: domain.url.replacingOccurrences(of: "ldaps://", with: "ldap://"), base: ou,
                bind: [
                    "bind_dn: \"\(try TestServers.setting("COMPLIANCE_SYNC_AD_BIND_DN"))\"",
                    "bind_password_env: AD_BIND_PASSWORD", "start_tls: true",
                ])
            let (summary, plan) = try await planSummary(path, environment: env)
            #expect(summary?["creates"] == 2, "\(plan.all)")
            // TLS is really in play: a CA that did not sign the DC's certificate fails the StartTLS.
            let job = try String(contentsOfFile: path, encoding: .utf8)
            try job.replacingOccurrences(of: domain.ca, with: "/etc/ssl/certs/ca-certificates.crt")
                .write(toFile: path, atomically: true, encoding: .utf8)
            let refused = try await runCLI(["plan", "--config", path], environment: env)
            #expect(refused.status != 0 && refused.stderr.contains("start TLS"), "\(refused.stderr)")
        }
    }

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
