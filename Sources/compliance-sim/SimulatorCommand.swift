import ArgumentParser
import ComplianceSimulator
import Foundation

/// `compliance-sim`: a local Compliance import API for tests, demos and offline work.
@main
struct SimulatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compliance-sim",
        abstract: "Serve a local simulation of the Compliance import API (docs/compliance-api.md).",
        discussion: """
            Besides the API it answers GET /sim/people (the people it holds), GET /sim/stats \
            (counters) and POST /sim/revoke (revoke every access token). Listens on loopback.
            """)

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free one).") var port = 8080
    @Option(name: .customLong("tls-cert"), help: "Serve HTTPS with this PEM certificate (chain); needs --tls-key.")
    var tlsCertificate: String?
    @Option(name: .customLong("tls-key"), help: "The PEM private key of --tls-cert.") var tlsKey: String?
    @Option(name: .customLong("client"), help: "Accepted client credentials as ID:SECRET (repeatable).")
    var clients: [String] = ["demo-client:demo-secret"]
    @Option(
        name: .customLong("client-without-imports"), help: "A client id whose user lacks the Imports permission (403).")
    var clientsWithoutImports: [String] = []
    @Option(help: "Access token lifetime in seconds.") var tokenLifetime: Double = 3600
    @Option(help: "Refresh token lifetime in seconds.") var refreshLifetime: Double = 86400
    @Option(help: "Rows allowed per import request.") var maxRows = 1000
    @Option(help: "Seconds an import takes from queued to completed.") var processingTime: Double = 0.05
    @Option(help: "Every Nth request gets 429 with Retry-After (0: never).") var rateLimitEvery = 0
    @Option(help: "The Retry-After of those answers: seconds, an HTTP date, or any text (to test clients).")
    var retryAfter = "1"
    @Option(help: "Every Nth request gets 503 (0: never).") var unavailableEvery = 0
    @Option(help: "Share of requests, 0 to 1, that get a random 5xx.") var errorRate = 0.0
    @Option(help: "Seconds added to every answer.") var latency: Double = 0
    @Option(help: "Every Nth import is applied but its answer never comes (0: never).") var dropAnswerEvery = 0
    @Option(help: "Every Nth import fails as a whole (0: never).") var failImportEvery = 0
    @Option(help: "Refuse every refresh-token grant with this status (400 or 401), not invalid_grant.")
    var refuseRefreshWith: Int?
    @Option(help: "The token endpoint answers 307 to this URL (to test that clients never follow it).")
    var tokenRedirect: String?
    @Option(help: "The first N imports report row errors that name no row of the request.")
    var unmappableErrorsFirst = 0
    @Option(
        name: .customLong("facility"), help: "A facility id that exists in the account (repeatable; default 1 to 20).")
    var facilities: [String] = []
    @Flag(help: "Allow listening on a non-loopback address.") var allowRemote = false

    func run() async throws {
        guard allowRemote || ["127.0.0.1", "::1", "localhost"].contains(host) else {
            throw ValidationError("refusing to listen on \(host): the simulator is for loopback (use --allow-remote)")
        }
        var configuration = SimulatorConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.tlsCertificate = tlsCertificate
        configuration.tlsKey = tlsKey
        configuration.clients = [:]
        for client in clients {
            let parts = client.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--client takes ID:SECRET") }
            configuration.clients[parts[0]] = parts[1]
        }
        configuration.clientsWithoutImports = Set(clientsWithoutImports)
        configuration.tokenLifetime = tokenLifetime
        configuration.refreshLifetime = refreshLifetime
        configuration.maxRows = maxRows
        configuration.processingTime = processingTime
        configuration.rateLimitEvery = rateLimitEvery
        if let seconds = Int(retryAfter) {
            configuration.retryAfter = seconds
        } else {
            configuration.retryAfterText = retryAfter
        }
        configuration.tokenRedirect = tokenRedirect
        configuration.refuseRefreshWith = refuseRefreshWith
        configuration.unmappableErrorsFirst = unmappableErrorsFirst
        configuration.unavailableEvery = unavailableEvery
        configuration.errorRate = errorRate
        configuration.latency = latency
        configuration.dropAnswerEvery = dropAnswerEvery
        configuration.failImportEvery = failImportEvery
        if !facilities.isEmpty { configuration.facilities = Set(facilities) }
        let origin = "\(tlsCertificate == nil ? "http" : "https")://\(host)"
        try await ComplianceSimulator(configuration: configuration).run { port in
            FileHandle.standardOutput.write(Data("compliance-sim listening on \(origin):\(port)\n".utf8))
        }
    }
}
