import Foundation

/// scripts/recorded-api-server on a free loopback port, answering with a folder of recorded pages
/// (`Tests/Fixtures/http/NAME` or any folder holding a routes.json). Stopped by ``stop()``.
public final class RecordedAPIServer: Sendable {
    /// `http://127.0.0.1:PORT` (or `https://` with TLS).
    public let base: String
    /// The requests answered, one JSON object a line (method, path, query, status).
    public let log: String
    private let process: Process

    /// Starts the server.
    /// - Parameters:
    ///   - folder: a fixture's name under Tests/Fixtures/http, or a folder's absolute path.
    ///   - latency: seconds to wait before each answer.
    ///   - tls: the server's certificate and key, and a CA its clients' certificates must come from.
    public init(
        _ folder: String, latency: Double = 0, tls: (certificate: String, key: String, clientCA: String?)? = nil
    ) async throws {
        let path =
            folder.hasPrefix("/") ? folder : repositoryRoot.appendingPathComponent("Tests/Fixtures/http/\(folder)").path
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("recorded-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let portFile = scratch.appendingPathComponent("port").path
        log = scratch.appendingPathComponent("requests.log").path
        var arguments = [
            repositoryRoot.appendingPathComponent("scripts/recorded-api-server").path, path, "--port-file", portFile,
            "--latency", String(latency), "--log", log,
        ]
        if let tls {
            arguments += ["--tls-cert", tls.certificate, "--tls-key", tls.key]
            if let ca = tls.clientCA { arguments += ["--client-ca", ca] }
        }
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        try process.run()
        for _ in 0..<200 {
            if let port = try? String(contentsOfFile: portFile, encoding: .utf8) {
                base = "\(tls == nil ? "http" : "https")://127.0.0.1:\(port)"
                return
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        killAndReap(process)
        throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: portFile])
    }

    /// The requests answered so far: method, path, query and status of each.
    public func requests() -> [[String: Any]] {
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    /// Stops the server.
    public func stop() async {
        killAndReap(process)
        try? FileManager.default.removeItem(atPath: (log as NSString).deletingLastPathComponent)
    }
}

/// Runs `body` with a ``RecordedAPIServer`` and stops it afterwards, whether `body` returns or throws.
public func withRecordedAPI<Result>(
    _ folder: String, latency: Double = 0, tls: (certificate: String, key: String, clientCA: String?)? = nil,
    _ body: (RecordedAPIServer) async throws -> Result
) async throws -> Result {
    let server = try await RecordedAPIServer(folder, latency: latency, tls: tls)
    return try await scoped(server, stop: { await $0.stop() }, body)
}
