import AsyncHTTPClient
import ConnectorCore
import Foundation
import Logging
import NIOCore
import SyncCore

/// Posts a run's notifications to the job's webhooks (`notify:`): each that wants one of
/// the run's events gets one request, TLS verified, tried up to three times. A failure to
/// notify is logged and never changes the run's exit status.
enum Notifier {
    static func send(_ report: SyncReport, to webhooks: [Webhook], logger: Logger) async {
        let wanted = webhooks.map { ($0, $0.events(of: report)) }.filter { !$0.1.isEmpty }
        guard !wanted.isEmpty else { return }
        var configuration = HTTPClient.Configuration()
        configuration.timeout.connect = .seconds(5)
        configuration.redirectConfiguration = .disallow
        // A connection that fails (refused, TLS refused) fails its attempt at once; retries are ours,
        // with the backoff the log states, not AsyncHTTPClient's silent ones until the connect timeout.
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let host = ProcessInfo.processInfo.hostName
        for (webhook, events) in wanted {
            let body = NotificationBody.render(report, events: events, format: webhook.format, host: host)
            await post(body, to: webhook, client: client, logger: logger)
        }
        try? await client.shutdown()
    }

    private static func post(_ body: [UInt8], to webhook: Webhook, client: HTTPClient, logger: Logger) async {
        let url: Secret, host: String
        do {
            (url, host) = try webhook.resolvedURL()
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
        logger.warning("could not notify \(name): \(problem); the run's outcome stands")
    }
}
