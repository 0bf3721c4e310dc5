import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import SyncCore

/// One HTTP exchange with the API, and the retry policy of compliance-api.md:
/// `429` waits at least `Retry-After`; `500`, `502`, `503`, `504`, resets and
/// timeouts back off exponentially with jitter, up to `api.max_attempts` tries
/// and `api.max_backoff` between them; anything else is the caller's to judge.
struct HTTPTransport: Sendable {
    let settings: APISettings
    let client: HTTPClient
    let logger: Logger

    struct Reply: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]

        var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] }
        /// The API's `error` code and `message`, for messages (never a secret: the API does not echo them).
        var problem: String {
            let object = json
            let parts = [object?["error"] as? String, object?["message"] as? String].compactMap { $0 }
            return parts.isEmpty ? "HTTP \(status)" : parts.joined(separator: ": ")
        }
    }

    /// Sends a request, retrying transient failures.
    /// - Parameters:
    ///   - method: the HTTP method.
    ///   - path: the path under the base URL, with any query.
    ///   - headers: extra headers (the body's content type, the bearer token, an idempotency key).
    ///   - body: the body, sent unchanged on every attempt.
    ///   - authorize: called before each attempt for the `Authorization` value, if the call needs one.
    func send(
        _ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
        authorize: (@Sendable () async throws -> String)? = nil
    ) async throws -> Reply {
        let url = settings.url(path)
        var attempt = 0
        while true {
            attempt += 1
            var request = HTTPClientRequest(url: url)
            request.method = method
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            if let authorize { request.headers.replaceOrAdd(name: "Authorization", value: try await authorize()) }
            request.headers.add(name: "Accept", value: "application/json")
            request.headers.add(name: "User-Agent", value: "compliance-sync/0.1")
            if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
            var wait: Duration
            do {
                let response = try await client.execute(request, timeout: .seconds(settings.requestTimeout.components.seconds))
                let collected = try await response.body.collect(upTo: 16 << 20)
                let reply = Reply(status: Int(response.status.code), headers: response.headers,
                                  body: Array(buffer: collected))
                logger.debug("\(method.rawValue) \(path) -> \(reply.status)")
                switch reply.status {
                case 429:
                    let retryAfter = reply.headers.first(name: "Retry-After").flatMap(Double.init) ?? 1
                    wait = max(.seconds(retryAfter), backoff(attempt))
                case 500, 502, 503, 504:
                    wait = backoff(attempt)
                default:
                    return reply
                }
                guard attempt < settings.maxAttempts else {
                    throw SyncError(.api, "\(method.rawValue) \(url) still failed after \(attempt) attempts: \(reply.problem)",
                                    hint: "the API is rate limiting or unavailable; run again later (nothing is lost)")
                }
                logger.notice("\(method.rawValue) \(path) answered \(reply.status); retrying in \(wait)")
            } catch let error as SyncError {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                guard attempt < settings.maxAttempts else {
                    throw SyncError(.api, "cannot reach \(url) after \(attempt) attempts: \(error)",
                                    hint: "check api.base_url, the network and any proxy; run again (nothing is lost)")
                }
                wait = backoff(attempt)
                logger.notice("\(method.rawValue) \(path) failed (\(error)); retrying in \(wait)")
            }
            try await Task.sleep(for: wait)
        }
    }

    /// Exponential backoff with jitter: a random wait between half and all of 0.25 s × 2^(attempt-1), capped.
    func backoff(_ attempt: Int) -> Duration {
        let cap = settings.maxBackoff.seconds
        let full = min(cap, 0.25 * pow(2, Double(attempt - 1)))
        return .milliseconds(Int(full * Double.random(in: 0.5...1.0) * 1000))
    }
}
