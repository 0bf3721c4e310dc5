import Foundation

/// A webhook endpoint on a free loopback port (Python's http.server): it keeps every body it
/// gets, and answers 503 to the first `failing` requests, then 200.
public final class WebhookReceiver {
    public let port: Int
    private let folder: URL
    private let process: Process

    public init(failing: Int = 0) async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("webhook-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        port = try freePort()
        let script = """
            import sys, http.server, socketserver
            port, folder, failing = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
            seen = [0]
            class Hook(http.server.BaseHTTPRequestHandler):
                def do_POST(self):
                    body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                    seen[0] += 1
                    if seen[0] <= failing:
                        self.send_response(503); self.end_headers(); return
                    with open(folder + "/bodies", "ab") as f:
                        f.write(body + b"\\n")
                    self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
                def log_message(self, *args): pass
            class Server(http.server.HTTPServer):
                # HTTPServer's own bind looks up the host's name (getfqdn), which can wait 30 s for DNS.
                def server_bind(self): socketserver.TCPServer.server_bind(self)
            Server(("127.0.0.1", port), Hook).serve_forever()
            """
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", script, String(port), folder.path, String(failing)]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<200 where !canConnect(port: port) { try await Task.sleep(for: .milliseconds(25)) }
    }

    /// The URL to post to; its path stands for the secret part of a real webhook URL.
    public var url: String { "http://127.0.0.1:\(port)/hooks/T0-secret-path-X9" }

    /// The bodies received, in order, each parsed as a JSON object.
    public var bodies: [[String: Any]] {
        let text = (try? String(contentsOf: folder.appendingPathComponent("bodies"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    /// The raw text of every body received.
    public var rawBodies: String {
        (try? String(contentsOf: folder.appendingPathComponent("bodies"), encoding: .utf8)) ?? ""
    }

    public func stop() {
        killAndReap(process)
        try? FileManager.default.removeItem(at: folder)
    }
}
