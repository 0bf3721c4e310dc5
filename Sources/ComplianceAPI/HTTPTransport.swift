import AsyncHTTPClient
import ConnectorCore
import Foundation
import HTTPClientSupport
import JobConfig
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import SyncCore
import Synchronization

/// One HTTP exchange with the API, and the retry policy of compliance-api.md:
/// `429` waits at least `Retry-After`; `500`, `502`, `503`, `504`, resets and
/// timeouts back off exponentially with jitter, up to `api.max_attempts` tries
/// and `api.max_backoff` between them; anything else is the caller's to judge.
struct HTTPTransport: Sendable {
    let settings: APISettings
    let client: HTTPClient
    let logger: Logger
    /// Requests tried again, for the run's metrics.
    let retries = RetryCount()
    /// A `429`'s wait, shared by every request of the client: imports in flight slow down together.
    let rateLimit = RateLimitPause()

    struct Reply: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]
        /// Whether an earlier attempt of this request may have reached the API and been applied
        /// (it timed out, the connection broke, or the API answered 5xx): a refusal now may hide
        /// an applied request, so it cannot be read as "nothing applied".
        var mayHaveApplied = false

        var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] }
        /// The API's `error` code and `message`, for messages (never a secret: the API does not echo them).
        var problem: String {
            let reply = WireReply.decode(WireReply.Problem.self, from: body)
            let parts = [reply?.error, reply?.message].compactMap { $0 }
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
        var mayHaveApplied = false
        while true {
            attempt += 1
            if let pause = rateLimit.remaining() { try await Task.sleep(for: pause) }
            var request = HTTPClientRequest(url: url)
            request.method = method
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            if let authorize { request.headers.replaceOrAdd(name: "Authorization", value: try await authorize()) }
            request.headers.add(name: "Accept", value: "application/json")
            request.headers.add(name: "User-Agent", value: "compliance-sync/\(ComplianceSyncVersion.current)")
            if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
            var wait: Duration
            do {
                let response = try await client.execute(
                    request, timeout: .seconds(settings.requestTimeout.components.seconds))
                let collected = try await response.body.collect(upTo: 16 << 20)
                let reply = Reply(
                    status: Int(response.status.code), headers: response.headers,
                    body: Array(buffer: collected), mayHaveApplied: mayHaveApplied)
                logger.debug("\(method.rawValue) \(path) -> \(reply.status)")
                switch reply.status {
                case 300..<400:
                    let location = reply.headers.first(name: "Location") ?? "nowhere"
                    throw SyncError(
                        .api,
                        "\(method.rawValue) \(url) answered \(reply.status), redirecting to \(location); "
                            + "redirects are never followed (a request could carry the client secret elsewhere)",
                        hint: "set api.base_url (and api.token_path, api.imports_path) to the API's real address")
                case 429:
                    wait = backoff(attempt)
                    if let retryAfter = RetryAfter.seconds(reply.headers.first(name: "Retry-After")) {
                        guard retryAfter <= settings.maxRetryAfter.seconds else {
                            throw SyncError(
                                .api,
                                "\(method.rawValue) \(url) asked to wait \(Int(retryAfter)) seconds (Retry-After), "
                                    + "longer than api.max_retry_after (\(settings.maxRetryAfter))",
                                hint: "the API is rate limiting; run again later, or raise api.max_retry_after")
                        }
                        wait = max(.milliseconds(Int(retryAfter * 1000)), wait)
                        // Told when to come back: a pause, not a failure; bounded by the run's total instead.
                        guard rateLimit.spend(wait, within: settings.maxRateLimitWait) else {
                            throw SyncError(
                                .api,
                                "\(method.rawValue) \(url) is still rate limited after waiting "
                                    + "api.max_rate_limit_wait (\(settings.maxRateLimitWait)) in all",
                                hint: "the API is rate limiting hard; run again later (nothing is lost), "
                                    + "lower api.max_in_flight, or raise api.max_rate_limit_wait")
                        }
                        attempt -= 1
                    }
                    rateLimit.extend(by: wait)
                case 500, 502, 503, 504:
                    wait = backoff(attempt)
                    mayHaveApplied = true
                default:
                    return reply
                }
                guard attempt < settings.maxAttempts else {
                    throw SyncError(
                        .api, "\(method.rawValue) \(url) still failed after \(attempt) attempts: \(reply.problem)",
                        hint: "the API is rate limiting or unavailable; run again later (nothing is lost)")
                }
                wait = max(wait, rateLimit.remaining() ?? .zero)
                logger.notice("\(method.rawValue) \(path) answered \(reply.status); retrying in \(Self.spoken(wait))")
            } catch let error as SyncError {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                if let refusal = await refusal(error, url: url) { throw refusal }
                mayHaveApplied = true
                guard attempt < settings.maxAttempts else {
                    throw SyncError(
                        .api, "cannot reach \(url) after \(attempt) attempts: \(NetworkErrors.said(error))",
                        hint: "check api.base_url, the network and any proxy; run again (nothing is lost)",
                        underlying: error)
                }
                wait = max(backoff(attempt), rateLimit.remaining() ?? .zero)
                logger.notice(
                    "\(method.rawValue) \(path) failed: \(NetworkErrors.said(error)); retrying in \(Self.spoken(wait))")
            }
            retries.count.add(1, ordering: .relaxed)
            try await Task.sleep(for: wait)
        }
    }

    /// An error that no retry can mend, said as what to do: a certificate this machine does
    /// not trust (naming the certificate shown), or a proxy that refuses us. `nil` for others.
    func refusal(_ error: any Error, url: String) async -> SyncError? {
        let through = settings.proxy.map { " through the proxy \($0)" } ?? ""
        if let error = error as? HTTPClientError, error == .proxyAuthenticationRequired {
            return SyncError(
                .api, "the proxy \(settings.proxy?.description ?? "") asks for a user and password (407)",
                hint: "set api.proxy_user and api.proxy_password_file (or put them in the proxy URL)")
        }
        let host = settings.baseURL.host ?? ""
        let wrongName = (error as? NIOSSLExtraError) == .failedToValidateHostname
        guard wrongName || NetworkErrors.isUntrustedCertificate(error) else {
            guard case NIOSSLError.handshakeFailed = error else { return nil }  // others may be transient
            return SyncError(
                .api, "the TLS handshake with \(host)\(through) failed: \(error)",
                hint: "check api.base_url, and that any proxy in between passes TLS through", underlying: error)
        }
        let shown = await CertificateProbe.names(host: host, port: settings.baseURL.port ?? 443, proxy: settings.proxy)
        let certificate =
            shown.map { "the certificate for \"\($0.subject)\" issued by \"\($0.issuer)\"" } ?? "a certificate"
        if wrongName {
            return SyncError(
                .api, "TLS with \(host)\(through) failed: it showed \(certificate), which does not name \(host)",
                hint: "set api.base_url to a name the API's certificate carries", underlying: error)
        }
        return SyncError(
            .api, "TLS with \(host)\(through) failed: it showed \(certificate), which is not trusted",
            hint: settings.caFile.map {
                "api.ca_file (\($0)) does not hold the CA that issued it; check base_url and ca_file"
            } ?? "if a proxy inspects TLS, or the API uses a private CA, give its CA certificate as api.ca_file",
            underlying: error)
    }

    /// A wait as people say it: `0.17 seconds`, `12 seconds`.
    static func spoken(_ wait: Duration) -> String {
        let seconds = Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18
        return seconds < 10 ? String(format: "%.2f seconds", seconds) : "\(Int(seconds.rounded())) seconds"
    }

    /// Exponential backoff with jitter: a random wait between half and all of 0.25 s × 2^(attempt-1), capped.
    func backoff(_ attempt: Int) -> Duration {
        let cap = settings.maxBackoff.seconds
        let full = min(cap, 0.25 * pow(2, Double(attempt - 1)))
        return .milliseconds(Int(full * Double.random(in: 0.5...1.0) * 1000))
    }
}

/// Until when every request of a client waits, after a `429`; and how long `429`s that said when
/// to come back have made it wait in all.
final class RateLimitPause: Sendable {
    private let until = Mutex<ContinuousClock.Instant?>(nil)
    private let spent = Mutex<Duration>(.zero)

    /// Counts a wait against the client's total; `false` when it would pass `limit`.
    func spend(_ wait: Duration, within limit: Duration) -> Bool {
        spent.withLock { spent in
            guard spent + wait <= limit else { return false }
            spent += wait
            return true
        }
    }

    /// Makes every request wait at least `wait` from now (a longer pause already set stands).
    func extend(by wait: Duration) {
        let end = ContinuousClock.now + wait
        until.withLock { $0 = max($0 ?? end, end) }
    }

    /// How long a request must still wait; `nil` when it need not.
    func remaining() -> Duration? {
        until.withLock { end in
            guard let end, end > ContinuousClock.now else { return nil }
            return end - ContinuousClock.now
        }
    }
}

/// How many requests a client tried again, shared by its copies of the transport.
final class RetryCount: Sendable {
    let count = Atomic<Int>(0)
}
