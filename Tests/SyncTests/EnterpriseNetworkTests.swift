import ComplianceSimulator
import Foundation
import TestSupport
import Testing

/// The API reached as in an enterprise network: over HTTPS from a private CA (`api.ca_file`), and
/// through an HTTP CONNECT proxy (Debian's tinyproxy) named by `api.proxy` or `HTTPS_PROXY`.
@Suite(.serialized, .enabled(if: TestServers.tinyproxy, "needs tinyproxy: run scripts/test"))
struct EnterpriseNetworkTests {
    /// Runs `body` with certificates made for this test and a harness whose simulator serves HTTPS.
    func withTLSHarness(
        api: (TestCertificates) -> [String: Any], _ body: (SyncHarness, TestCertificates) async throws -> Void
    ) async throws {
        let certificates = try await TestCertificates()
        try await withHarness(
            {
                $0.tlsCertificate = certificates.serverCertificate
                $0.tlsKey = certificates.serverKey
            }, api: api(certificates)
        ) { harness in try await body(harness, certificates) }
    }

    @Test func theRightCAIsTrustedAndTLSStaysVerified() async throws {
        try await withTLSHarness(api: { ["ca_file": $0.ca] }) { harness, _ in
            #expect(harness.simulator.baseURL.hasPrefix("https://"))
            let result = try await harness.run("sync")
            #expect(result.status == 0, "\(result.all)")
            #expect(await harness.actualPeople().active == (try harness.expectedPeople()))
        }
    }

    @Test func anotherCAIsRefusedNamingTheCertificate() async throws {
        try await withTLSHarness(api: { ["ca_file": $0.otherCA] }) { harness, _ in
            let result = try await harness.run("sync")
            #expect(result.status == 1, "\(result.all)")
            #expect(
                result.stderr.contains(
                    "it showed the certificate for \"\(TestCertificates.serverName)\" issued by \"\(TestCertificates.caName)\", which is not trusted"
                ), "\(result.stderr)")
            #expect(result.stderr.contains("api.ca_file"), "says what to do")
            #expect(await harness.stats()["import_requests"] == 0)
        }
    }

    /// A TLS-inspecting proxy's certificate is named too: the probe looks through the CONNECT tunnel.
    @Test func anotherCAThroughAProxyIsNamedThroughTheTunnel() async throws {
        let proxy = try await TinyProxy()
        defer { proxy.stop() }
        try await withTLSHarness(api: { ["ca_file": $0.otherCA, "proxy": "http://127.0.0.1:\(proxy.port)"] }) {
            harness, _ in
            let result = try await harness.run("sync")
            #expect(result.status == 1, "\(result.all)")
            #expect(
                result.stderr.contains("through the proxy 127.0.0.1:\(proxy.port) (from api.proxy)"), "\(result.stderr)"
            )
            #expect(
                result.stderr.contains("it showed the certificate for \"\(TestCertificates.serverName)\""),
                "\(result.stderr)")
        }
    }

    @Test func aCertificateForAnotherNameIsNamedAsSuch() async throws {
        let certificates = try await TestCertificates()
        try await withHarness(
            {
                $0.tlsCertificate = certificates.wrongNameCertificate
                $0.tlsKey = certificates.serverKey
            }, api: ["ca_file": certificates.ca]
        ) { harness in
            let result = try await harness.run("sync")
            #expect(result.status == 1, "\(result.all)")
            #expect(result.stderr.contains("which does not name 127.0.0.1"), "\(result.stderr)")
            #expect(result.stderr.contains("set api.base_url to a name"), "\(result.stderr)")
        }
    }

    @Test func withoutTheCAnoCertificateIsTrusted() async throws {
        try await withTLSHarness(api: { _ in [:] }) { harness, _ in
            let result = try await harness.run("plan")
            #expect(result.status == 0, "plan never calls the API")
            let sync = try await harness.run("sync")
            #expect(sync.status == 1)
            #expect(sync.stderr.contains("give its CA certificate as api.ca_file"), "\(sync.stderr)")
        }
    }

    @Test func throughAnAuthenticatingProxyNamedInTheJob() async throws {
        let proxy = try await TinyProxy(credentials: ("sync", "proxy-Pass-81"))
        defer { proxy.stop() }
        try await withTLSHarness(api: {
            [
                "ca_file": $0.ca, "proxy": "http://127.0.0.1:\(proxy.port)", "proxy_user": "sync",
                "proxy_password_env": "PROXY_PASSWORD",
            ]
        }) { harness, _ in
            let result = try await harness.run("sync", environment: ["PROXY_PASSWORD": "proxy-Pass-81"])
            #expect(result.status == 0, "\(result.all)")
            #expect(proxy.log.contains("CONNECT"), "the requests went through the proxy: \(proxy.log)")
            #expect(!result.all.contains("proxy-Pass-81"))
            #expect(await harness.actualPeople().active == (try harness.expectedPeople()))
        }
    }

    @Test func aProxyThatWantsAPasswordSaysSo() async throws {
        let proxy = try await TinyProxy(credentials: ("sync", "proxy-Pass-81"))
        defer { proxy.stop() }
        try await withTLSHarness(api: { ["ca_file": $0.ca] }) { harness, _ in
            let result = try await harness.run(
                "sync", environment: ["HTTPS_PROXY": "http://127.0.0.1:\(proxy.port)"])
            #expect(result.status == 1, "\(result.all)")
            #expect(result.stderr.contains("asks for a user and password (407)"), "\(result.stderr)")
            #expect(result.stderr.contains("from HTTPS_PROXY"), "\(result.stderr)")
        }
    }

    @Test func theEnvironmentsProxyAndNoProxy() async throws {
        let proxy = try await TinyProxy()
        defer { proxy.stop() }
        try await withTLSHarness(api: { ["ca_file": $0.ca] }) { harness, _ in
            let through = try await harness.run(
                "sync", environment: ["https_proxy": "http://127.0.0.1:\(proxy.port)"])
            #expect(through.status == 0, "\(through.all)")
            #expect(proxy.log.contains("CONNECT"), "\(proxy.log)")
        }
        // NO_PROXY names the API's host: the dead proxy is never tried.
        try await withTLSHarness(api: { ["ca_file": $0.ca] }) { harness, _ in
            let direct = try await harness.run(
                "sync",
                environment: ["HTTPS_PROXY": "http://127.0.0.1:\(try freePort())", "NO_PROXY": "localhost,127.0.0.1"])
            #expect(direct.status == 0, "\(direct.all)")
        }
    }

    @Test func webhooksGoThroughTheJobsProxy() async throws {
        let proxy = try await TinyProxy(credentials: ("sync", "proxy-Pass-82"))
        defer { proxy.stop() }
        let receiver = try await WebhookReceiver()
        defer { receiver.stop() }
        try await withHarness(api: [
            "proxy": "http://127.0.0.1:\(proxy.port)", "proxy_user": "sync", "proxy_password_env": "PROXY_PASSWORD",
        ]) { harness in
            try harness.example.editJob("quickstart.yml") {
                $0["notify"] = [["url_env": "HOOK_URL", "on": "removals"]]
            }
            let environment = ["PROXY_PASSWORD": "proxy-Pass-82", "HOOK_URL": receiver.url]
            #expect(try await harness.run("sync", environment: environment).status == 0)
            let csv = try harness.example.read("people.csv").split(separator: "\n")
            try harness.example.write("people.csv", csv.dropLast().joined(separator: "\n") + "\n")
            let result = try await harness.run("sync", environment: environment)
            #expect(result.status == 0, "\(result.all)")
            #expect(receiver.bodies.count == 1, "\(result.all)")
            #expect(
                proxy.log.contains("CONNECT 127.0.0.1:\(receiver.port) "),
                "the webhook went through the proxy: \(proxy.log)")
            #expect(!result.all.contains("proxy-Pass-82") && !result.all.contains("T0-secret-path-X9"))
        }
        // A webhook whose host api.no_proxy names goes direct: here past a proxy that is not there.
        try await withHarness(api: ["proxy": "http://127.0.0.1:\(try freePort())", "no_proxy": ["127.0.0.1"]]) {
            harness in
            try harness.example.editJob("quickstart.yml") {
                $0["notify"] = [["url_env": "HOOK_URL", "on": "removals"]]
            }
            let environment = ["HOOK_URL": receiver.url]
            #expect(try await harness.run("sync", environment: environment).status == 0)
            let csv = try harness.example.read("people.csv").split(separator: "\n")
            try harness.example.write("people.csv", csv.dropLast().joined(separator: "\n") + "\n")
            #expect(try await harness.run("sync", environment: environment).status == 0)
            #expect(receiver.bodies.count == 2)
        }
    }

    @Test func aWrongCAFileIsAConfigurationError() async throws {
        try await withTLSHarness(api: { ["ca_file": $0.serverKey + ".missing"] }) { harness, _ in
            let result = try await harness.run("validate")
            #expect(result.status == 2, "\(result.all)")
            #expect(result.stderr.contains("cannot read certificates from"), "\(result.stderr)")
        }
    }
}
