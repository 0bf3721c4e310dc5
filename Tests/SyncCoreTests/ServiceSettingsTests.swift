import ConnectorCore
import Foundation
import NetworkNames
import TestSupport
import Testing

@testable import JobConfig
@testable import SyncCore

/// What a job reads from the service manager and the network around it: systemd credentials,
/// the state folder, and proxies.
@Suite struct ServiceSettingsTests {
    @Test func aSystemdCredentialIsReadFromTheCredentialsFolder() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("credentials-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "s3cret-From-systemd\n".write(
            to: folder.appendingPathComponent("client-secret"), atomically: true, encoding: .utf8)
        let secret = try SecretReference.credential("client-secret").resolve(environment: [
            "CREDENTIALS_DIRECTORY": folder.path
        ])
        #expect(secret.value == "s3cret-From-systemd")

        let outside = #expect(throws: SyncError.self) {
            try SecretReference.credential("client-secret").resolve(environment: [:])
        }
        #expect(outside?.message.contains("CREDENTIALS_DIRECTORY is not set") == true)
        #expect(outside?.hint?.contains("LoadCredential=client-secret") == true)
        let missing = #expect(throws: SyncError.self) {
            try SecretReference.credential("other").resolve(environment: ["CREDENTIALS_DIRECTORY": folder.path])
        }
        #expect(missing?.message.contains("cannot read the systemd credential other") == true)
        #expect(missing?.message.contains("s3cret") == false)
    }

    /// A secret file others may read draws a warning; a Kubernetes secret volume's key does not: a
    /// link to `..data/KEY`, mode 0440, its group the pod's fsGroup, which is the job's own group.
    @Test func aSecretFileOthersMayReadIsWarnedAboutButNotAKubernetesSecretKey() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("secret-volume-\(UUID())")
        let data = folder.appendingPathComponent("..2026_12_07_01_00_00.123")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "s3cret-From-kubelet\n".write(
            to: data.appendingPathComponent("client-secret"), atomically: true, encoding: .utf8)
        chmod(data.appendingPathComponent("client-secret").path, 0o440)
        chown(data.appendingPathComponent("client-secret").path, getuid(), getegid())
        try FileManager.default.createSymbolicLink(
            atPath: folder.appendingPathComponent("..data").path, withDestinationPath: data.lastPathComponent)
        try FileManager.default.createSymbolicLink(
            atPath: folder.appendingPathComponent("client-secret").path, withDestinationPath: "..data/client-secret")

        let mounted = LogRecorder()
        let secret = try SecretReference.file(folder.appendingPathComponent("client-secret").path)
            .resolve(logger: mounted.logger)
        #expect(secret.value == "s3cret-From-kubelet")
        #expect(mounted.warnings.isEmpty, "\(mounted.warnings)")

        let open = folder.appendingPathComponent("open-secret").path
        try "s3cret-Anyone\n".write(toFile: open, atomically: true, encoding: .utf8)
        chmod(open, 0o644)
        let warned = LogRecorder()
        _ = try SecretReference.file(open).resolve(logger: warned.logger)
        #expect(
            warned.warnings == [
                "the secret file \(open) may be read by other users (mode 644); run `chmod 600 \(open)`"
            ])
        #expect(!warned.messages.joined().contains("s3cret"))
    }

    @Test func theStateFolderHoldsTheSnapshotUnlessTheJobSaysOtherwise() {
        #expect(
            SnapshotSettings.defaultPath(job: "hr", folder: "/etc/compliance-sync", environment: [:])
                == "/etc/compliance-sync/.state/hr.snapshot")
        #expect(
            SnapshotSettings.defaultPath(
                job: "hr", folder: "/etc/compliance-sync", environment: ["STATE_DIRECTORY": "/var/lib/compliance-sync"])
                == "/var/lib/compliance-sync/hr.snapshot")
        #expect(
            SnapshotSettings.defaultPath(
                job: "hr", folder: "/etc/x", environment: ["STATE_DIRECTORY": "/var/lib/a:/var/lib/b"])
                == "/var/lib/a/hr.snapshot")
    }

    @Test func proxyURLs() throws {
        let full = try #require(ProxySettings.parse("http://me:p%40ss@proxy.example.com:3128", origin: "HTTPS_PROXY"))
        #expect(full.host == "proxy.example.com" && full.port == 3128 && full.user == "me")
        #expect(full.password?.value == "p@ss")
        #expect(!"\(full)".contains("p@ss"), "a proxy prints without its password")
        #expect(ProxySettings.parse("proxy.example.com:8080", origin: "x")?.port == 8080)
        #expect(ProxySettings.parse("http://proxy.example.com", origin: "x")?.port == 1080, "curl's default")
        #expect(ProxySettings.parse("https://proxy.example.com:443", origin: "x") == nil, "CONNECT proxies only")
        #expect(ProxySettings.parse("socks5://proxy:1080", origin: "x") == nil)
        #expect(ProxySettings.parse("", origin: "x") == nil)
    }

    @Test(arguments: [
        ("*", "api.example.com", 443, true),
        ("example.com", "api.example.com", 443, true),
        (".example.com", "api.example.com", 443, true),
        ("example.com", "example.com", 443, true),
        ("ample.com", "api.example.com", 443, false),
        ("api.example.com:443", "api.example.com", 443, true),
        ("api.example.com:8443", "api.example.com", 443, false),
        (" localhost , 127.0.0.1", "127.0.0.1", 8080, true),
        ("[::1]", "::1", 443, true),
        ("", "api.example.com", 443, false),
    ])
    func noProxy(_ list: String, _ host: String, _ port: Int, _ excluded: Bool) {
        #expect(ProxySettings.excludes(list.split(separator: ",").map(String.init), host: host, port: port) == excluded)
    }

    @Test func theJobsProxyComesBeforeTheEnvironmentsAndNoProxyBeforeBoth() throws {
        let api = URL(string: "https://api.threatswitch.com")!
        let configured = ProxySettings.parse("http://job-proxy:3128", origin: "api.proxy")
        let environment = ["HTTPS_PROXY": "http://env-proxy:8080", "NO_PROXY": "internal.example.com"]
        #expect(
            try ProxySettings.effective(for: api, configured: configured, noProxy: [], environment: environment)?.host
                == "job-proxy")
        #expect(
            try ProxySettings.effective(for: api, configured: nil, noProxy: [], environment: environment)?.description
                == "env-proxy:8080 (from HTTPS_PROXY)")
        #expect(
            try ProxySettings.effective(
                for: api, configured: configured, noProxy: ["threatswitch.com"], environment: [:])
                == nil)
        #expect(
            try ProxySettings.effective(
                for: URL(string: "http://127.0.0.1:8080")!, configured: nil, noProxy: [], environment: environment)
                == nil, "HTTPS_PROXY is for https:// only")
    }

    /// A proxy the machine names but we cannot use is an error, never a reason to go around it.
    @Test(arguments: ["socks5://corp-proxy:1080", "https://corp-proxy:443", "http://:8080"])
    func anUnusableEnvironmentProxyFailsClosed(_ value: String) {
        let error = #expect(throws: SyncError.self) {
            try ProxySettings.effective(
                for: URL(string: "https://api.threatswitch.com")!, configured: nil, noProxy: [],
                environment: ["HTTPS_PROXY": value])
        }
        #expect(error?.message.contains("HTTPS_PROXY does not name an http:// proxy") == true)
        #expect(error?.message.contains(value) == false, "the value may hold a password")
    }
}
