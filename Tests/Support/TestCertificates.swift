import Foundation

/// Certificate authorities and a server certificate made with openssl for one test: the
/// simulator serves `server` (for 127.0.0.1 and localhost, issued by `ca`); `otherCA` issued nothing
/// this server shows. Removed with the value.
public final class TestCertificates: Sendable {
    public let folder: URL
    /// The CA that issued the server's certificate (PEM).
    public var ca: String { path("ca.pem") }
    /// A CA that did not.
    public var otherCA: String { path("other-ca.pem") }
    /// The server's certificate and key (PEM).
    public var serverCertificate: String { path("server.pem") }
    public var serverKey: String { path("server.key") }
    /// A certificate for the same key, issued by `ca`, that names only `api.example.invalid`.
    public var wrongNameCertificate: String { path("wrong-name.pem") }
    /// The common names written into the certificates, for checking messages.
    public static let serverName = "compliance-sim test server"
    public static let caName = "compliance-sync Test CA"

    public init() async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("certificates-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (name, subject) in [("ca", Self.caName), ("other-ca", "Some Other CA")] {
            try await openssl([
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                "-subj", "/CN=\(subject)",
                "-keyout", path("\(name).key"), "-out", path("\(name).pem"),
            ])
        }
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\n".write(
            toFile: path("san.ext"), atomically: true, encoding: .utf8)
        try await openssl([
            "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj",
            "/CN=\(Self.serverName)", "-keyout", serverKey,
            "-out", path("server.csr"),
        ])
        try await openssl([
            "x509", "-req", "-in", path("server.csr"), "-CA", ca, "-CAkey", path("ca.key"), "-CAcreateserial",
            "-days", "2", "-extfile", path("san.ext"), "-out", serverCertificate,
        ])
        try "subjectAltName=DNS:api.example.invalid\n".write(
            toFile: path("wrong-name.ext"), atomically: true, encoding: .utf8)
        try await openssl([
            "x509", "-req", "-in", path("server.csr"), "-CA", ca, "-CAkey", path("ca.key"), "-CAcreateserial",
            "-days", "2", "-extfile", path("wrong-name.ext"), "-out", wrongNameCertificate,
        ])
    }

    deinit { try? FileManager.default.removeItem(at: folder) }

    /// Issues a client certificate from `ca` (for mutual TLS): the certificate's and the key's PEM files.
    public func clientCertificate(named name: String = "compliance-sync client") async throws
        -> (certificate: String, key: String)
    {
        let base = "client-\(UUID().uuidString.prefix(8))"
        try await openssl([
            "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=\(name)",
            "-keyout", path("\(base).key"), "-out", path("\(base).csr"),
        ])
        try await openssl([
            "x509", "-req", "-in", path("\(base).csr"), "-CA", ca, "-CAkey", path("ca.key"), "-CAcreateserial",
            "-days", "2", "-out", path("\(base).pem"),
        ])
        return (path("\(base).pem"), path("\(base).key"))
    }

    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    private func openssl(_ arguments: [String]) async throws {
        let result = try await runProcess("/usr/bin/openssl", arguments)
        guard result.status == 0 else { throw CocoaError(.executableLoad, userInfo: ["openssl": result.all]) }
    }
}

/// A tinyproxy (Debian's `tinyproxy`) on a free loopback port, with Basic authentication when a
/// user is given, for the length of a test: an enterprise's HTTP CONNECT proxy.
public final class TinyProxy {
    public static let path = "/usr/bin/tinyproxy"
    public let port: Int
    private let folder: URL
    private let process: Process

    /// Starts the proxy.
    /// - Parameter credentials: a user and password the proxy demands, if any.
    public init(credentials: (user: String, password: String)? = nil) async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("tinyproxy-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: folder.path)
        port = try freePort()
        var config = """
            Port \(port)
            Listen 127.0.0.1
            Timeout 30
            Allow 127.0.0.1
            MaxClients 20
            LogLevel Connect
            LogFile "\(folder.path)/tinyproxy.log"

            """
        if getuid() == 0 { config += "User nobody\nGroup nogroup\n" }
        if let credentials { config += "BasicAuth \(credentials.user) \(credentials.password)\n" }
        try config.write(to: folder.appendingPathComponent("tinyproxy.conf"), atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.path)
        process.arguments = ["-d", "-c", folder.appendingPathComponent("tinyproxy.conf").path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<200 {
            if canConnect(port: port) { return }
            try await Task.sleep(for: .milliseconds(25))
        }
        process.terminate()
        throw CocoaError(.executableLoad, userInfo: ["tinyproxy": "did not listen on \(port)"])
    }

    /// What the proxy logged (its CONNECT lines show what went through it).
    public var log: String {
        (try? String(contentsOf: folder.appendingPathComponent("tinyproxy.log"), encoding: .utf8)) ?? ""
    }

    /// Stops the proxy and removes its folder.
    public func stop() {
        // tinyproxy may take its time over SIGTERM; a test proxy holds nothing worth a clean exit.
        killAndReap(process)
        try? FileManager.default.removeItem(at: folder)
    }
}

/// A TCP port nobody listens on now.
public func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
        }
    }
    guard bound else { throw CocoaError(.fileWriteUnknown) }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Whether something accepts TCP connections on a loopback port.
func canConnect(port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
    }
}

/// Stops a helper process at once (SIGKILL) and reaps it.
func killAndReap(_ process: Process) {
    kill(process.processIdentifier, SIGKILL)
    var status: Int32 = 0
    _ = waitpid(process.processIdentifier, &status, 0)
}
