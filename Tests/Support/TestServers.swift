import Foundation

/// Which of the servers that scripts/test starts (slapd, PostgreSQL, a Samba AD DC) and builds it
/// makes (the connector examples) are here. Plain `swift test` skips the suites
/// that need one, saying so; scripts/test sets `COMPLIANCE_SYNC_TEST_SERVERS=required`,
/// so there every suite runs, and a missing server fails instead of skipping.
public enum TestServers {
    private static let environment = ProcessInfo.processInfo.environment
    private static let required = environment["COMPLIANCE_SYNC_TEST_SERVERS"] == "required"

    /// The test directory (scripts/ldap-test-server).
    public static let ldap = required || environment["LDAP_TEST_URL"] != nil
    /// The test database (scripts/pg-test-server).
    public static let postgres = required || environment["PG_TEST_STORE"] != nil
    /// The Samba Active Directory domain controller (scripts/samba-test-server).
    public static let samba = required || environment["COMPLIANCE_SYNC_AD_URL"] != nil
    /// The SCIM server from PyPI (scripts/scim-test-server).
    public static let scim = required || environment["SCIM_TEST_URL"] != nil
    /// Debian's headless Chromium, which scripts/setup installs, for the HTML pages.
    public static let chromium = required || FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium")
    /// The connector examples built by scripts/build-examples.
    public static let examples = required || environment["CUSTOM_SYNC_BINARY"] != nil
    /// Debian's tinyproxy, which scripts/setup installs, for the proxy tests.
    public static let tinyproxy = required || FileManager.default.isExecutableFile(atPath: "/usr/bin/tinyproxy")
    /// Debian's python3-prometheus-client, whose parser reads the metrics files.
    public static let prometheusParser =
        required || FileManager.default.fileExists(atPath: "/usr/lib/python3/dist-packages/prometheus_client")
    /// kubernetes-validate from PyPI, which scripts/test installs (scripts/kubernetes-validate).
    public static let kubernetesValidate =
        required
        || FileManager.default.fileExists(atPath: repositoryRoot.appendingPathComponent(".build-k8s/venv").path)
    /// Why a suite was skipped.
    public static let why = "needs the servers scripts/test starts: run scripts/test"

    /// A setting scripts/test exports for the servers it starts (`LDAP_TEST_URL`, `PG_TEST_STORE`, …).
    /// - Throws: ``Unset`` when it is not set: the suite was run without scripts/test.
    public static func setting(_ name: String) throws -> String {
        guard let value = environment[name] else { throw Unset(name: name) }
        return value
    }

    /// A setting the servers' script did not export.
    public struct Unset: Error, CustomStringConvertible {
        /// The variable's name.
        public var name: String
        public var description: String { "\(name) is not set: run scripts/test, which starts the test servers" }
    }
}
