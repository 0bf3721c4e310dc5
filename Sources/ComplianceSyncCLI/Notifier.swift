import AsyncHTTPClient
import ComplianceAPI
import ConnectorCore
import Foundation
import HTTPClientSupport
import JobConfig
import Logging
import NIOCore
import SyncCore
import SyncOutput

/// Posts a run's notifications to the job's webhooks (`notify:`): each that wants one of
/// the run's events gets one request, TLS verified, tried up to three times. A failure to
/// notify is logged and never changes the run's exit status.
enum Notifier {
    /// Tells each webhook that wants one of the run's events.
    static func send(_ report: SyncReport, to webhooks: [Webhook], api: APISettings, logger: Logger) async {
        let host = ProcessInfo.processInfo.hostName
        let bodies = webhooks.compactMap { webhook in
            let events = webhook.events(of: report)
            return events.isEmpty
                ? nil : (webhook, NotificationBody.render(report, events: events, format: webhook.format, host: host))
        }
        await post(bodies, api: api, logger: logger)
    }

    /// Tells each webhook that wants `stale` that the job is (`status --notify`).
    static func send(stale status: JobStatus, to webhooks: [Webhook], api: APISettings, logger: Logger) async {
        let host = ProcessInfo.processInfo.hostName
        let bodies = webhooks.filter { $0.events.contains(.stale) }.map {
            ($0, NotificationBody.render(stale: status, format: $0.format, host: host))
        }
        await post(bodies, api: api, logger: logger)
    }

    private static func post(_ bodies: [(Webhook, [UInt8])], api: APISettings, logger: Logger) async {
        for (webhook, body) in bodies {
            await post(body, to: webhook, api: api, logger: logger)
        }
    }

    /// An HTTP client for one webhook: through `api.proxy` (or the environment's) unless its host
    /// is excluded, trusting `api.ca_file` too (a TLS-inspecting proxy's CA is needed on every
    /// path out), never following a redirect.
    private static func client(for url: URL, api: APISettings) throws -> HTTPClient {
        let configuration = HTTPClientSetup.configuration(proxy: try api.proxy(for: url), caFile: api.caFile)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    private static func post(_ body: [UInt8], to webhook: Webhook, api: APISettings, logger: Logger) async {
        let url: Secret, host: String, client: HTTPClient
        do {
            (url, host) = try webhook.resolvedURL()
            client = try Self.client(for: URL(string: url.value)!, api: api)
        } catch {
            logger.warning("could not notify \(webhook.name): \(error); the run's outcome stands")
            return
        }
        let name = "\(webhook.name) (\(host))"
        var problem = ""
        for attempt in 1...3 {
            do {
                var request = HTTPClientRequest(url: url.value)
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "application/json")
                request.headers.add(name: "User-Agent", value: "compliance-sync/\(ComplianceSyncVersion.current)")
                request.body = .bytes(ByteBuffer(bytes: body))
                let response = try await client.execute(request, timeout: .seconds(10))
                _ = try? await response.body.collect(upTo: 1 << 16)
                let status = Int(response.status.code)
                if (200..<300).contains(status) {
                    logger.info("notified \(name)")
                    try? await client.shutdown()
                    return
                }
                problem = "it answered \(status)"
                // A refusal that another try cannot mend (a revoked hook, a bad body).
                if status < 500 && status != 429 { break }
            } catch {
                problem = "\(error)"
            }
            if attempt < 3 { try? await Task.sleep(for: .seconds(attempt)) }
        }
        try? await client.shutdown()
        logger.warning("could not notify \(name): \(problem); the run's outcome stands")
    }
}
