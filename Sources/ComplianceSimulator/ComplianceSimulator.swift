import FileConnector
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import Synchronization

/// A local server that plays the Compliance import API of compliance-api.md,
/// for tests, demos and integrators working offline, with fault injection.
///
/// Besides the API it answers `GET /sim/people` (the people it holds) and
/// `GET /sim/stats` (request and byte counters), and `POST /sim/revoke`
/// revokes every access token.
public final class ComplianceSimulator: Sendable {
    let state: SimulatorState
    private let configuration: SimulatorConfiguration
    private let logger: Logger
    private let boundPort = PortBox()

    /// Creates a simulator; call ``run()`` or ``start()`` to serve.
    public init(configuration: SimulatorConfiguration = SimulatorConfiguration(), logger: Logger? = nil) {
        self.configuration = configuration
        state = SimulatorState(configuration: configuration)
        var fallback = Logger(label: "compliance-sim")
        fallback.logLevel = .warning
        self.logger = logger ?? fallback
    }

    /// The port it listens on, once running.
    public var port: Int? { boundPort.value }

    /// Serves until the task is cancelled or the process gets SIGINT/SIGTERM.
    public func run(onRunning: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let app = try makeApplication(onRunning: onRunning)
        let group = ServiceGroup(
            configuration: .init(
                services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// Starts serving in the background and returns once the port is known.
    /// - Returns: a handle whose `stop()` ends the server.
    public func start() async throws -> RunningSimulator {
        let app = try makeApplication(onRunning: { _ in })
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task { try await group.run() }
        for _ in 0..<500 where port == nil { try await Task.sleep(for: .milliseconds(10)) }
        guard let port else {
            task.cancel()
            throw SimulatorError(message: "the simulator did not start on \(configuration.host):\(configuration.port)")
        }
        return RunningSimulator(
            port: port, group: group, task: task, simulator: self, isTLS: configuration.tlsCertificate != nil)
    }

    /// The people the account holds, sorted by email.
    public func people() async -> [[String: String]] { await state.people() }

    /// Changes people as an administrator would in the web application (an e-mail corrected by hand),
    /// with the importer's matching and rules but no import.
    /// - Returns: the rule each refused row broke, if any.
    @discardableResult
    public func administer(_ rows: [[String: String?]]) async -> [String] { await state.administer(rows) }

    /// Makes the import status endpoint answer `code` from now on, for one import or (`nil`) every
    /// one; a `nil` code answers as it should.
    public func answerImportStatus(with code: Int?, forImport id: String? = nil) async {
        await state.answerImportStatus(with: code, forImport: id)
    }

    /// Revokes every access token (the next call gets `401 invalid_token`), and
    /// every refresh token too if asked (the next refresh gets `invalid_grant`).
    public func revokeTokens(includingRefreshTokens: Bool = false) async {
        await state.revokeTokens(includingRefreshTokens: includingRefreshTokens)
    }

    /// Request and byte counters.
    public func stats() async -> [String: Int] {
        let s = await state.stats
        return [
            "requests": s.requests, "token_requests": s.tokenRequests, "refresh_grants": s.refreshGrants,
            "invalid_grants": s.invalidGrants, "import_requests": s.importRequests,
            "imports_created": s.importsCreated, "status_requests": s.statusRequests, "rows_received": s.rowsReceived,
            "import_bytes_received": s.importBytesReceived, "faults_injected": s.faultsInjected,
            "redirects": s.redirects, "refused_refreshes": s.refusedRefreshes,
            "ignored_retry_after": s.ignoredRetryAfter,
        ]
    }

    private func makeApplication(onRunning: @escaping @Sendable (Int) -> Void) throws -> some Service {
        let router = Router()
        let api = APIRoutes(state: state, configuration: configuration)
        router.post(RouterPath(configuration.tokenPath)) { request, context in
            try await api.token(request, context)
        }
        router.post(RouterPath(configuration.importsPath)) { request, context in
            try await api.submit(request, context)
        }
        router.get(RouterPath(configuration.importsPath + "/:id")) { request, context in
            try await api.status(request, context)
        }
        router.get("/sim/people") { _, _ in
            try APIRoutes.json(.ok, ["people": await self.people()])
        }
        router.get("/sim/stats") { _, _ in
            try APIRoutes.json(.ok, await self.stats())
        }
        router.post("/sim/revoke") { _, _ in
            await self.revokeTokens()
            return try APIRoutes.json(.ok, ["revoked": true])
        }
        let boundPort = self.boundPort
        return Application(
            router: router, server: try serverBuilder(),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "compliance-sim"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                boundPort.set(port)
                onRunning(port)
            },
            logger: logger)
    }
}

extension ComplianceSimulator {
    /// HTTP/1.1, over TLS when the configuration names a certificate and key.
    fileprivate func serverBuilder() throws -> HTTPServerBuilder {
        guard let certificate = configuration.tlsCertificate else { return .http1() }
        guard let key = configuration.tlsKey else {
            throw SimulatorError(message: "--tls-cert needs --tls-key, the certificate's private key")
        }
        do {
            let tls = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
            return try .tls(.http1(), tlsConfiguration: tls)
        } catch {
            throw SimulatorError(message: "cannot serve TLS with \(certificate) and \(key): \(error)")
        }
    }
}

/// A simulator serving in the background.
public struct RunningSimulator: Sendable {
    /// The port it listens on.
    public let port: Int
    let group: ServiceGroup
    let task: Task<Void, any Error>
    /// The simulator, for its people and counters.
    public let simulator: ComplianceSimulator
    /// Whether it serves HTTPS.
    public let isTLS: Bool

    /// Its base URL, `http://127.0.0.1:PORT` (`https://` with TLS).
    public var baseURL: String { "\(isTLS ? "https" : "http")://127.0.0.1:\(port)" }

    /// Stops serving.
    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}

/// The simulator could not do what was asked.
public struct SimulatorError: Error, CustomStringConvertible {
    /// What went wrong.
    public var message: String
    public var description: String { message }
}

final class PortBox: Sendable {
    private let port = Mutex<Int?>(nil)
    var value: Int? { port.withLock { $0 } }
    func set(_ value: Int) { port.withLock { $0 = value } }
}
