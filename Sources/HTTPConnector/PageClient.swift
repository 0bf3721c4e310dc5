import AsyncHTTPClient
import ConnectorCore
import Foundation
import HTTPClientSupport
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// A page's answer: a success, whole, within the size limit.
struct FetchedPage: Sendable {
    var request: PageRequest
    var headers: HTTPHeaders
    var body: ByteBuffer
}

/// The HTTP side of a read: one client for every page and token request, authentication, and
/// the retry policy: `429` and `503` wait out `Retry-After` (at most `max_retry_after` each,
/// `max_retry_wait` in all), `500`, `502`, `504` and broken connections back off (a read is
/// safe to repeat); anything else that
/// is not a `2xx` fails the read, saying what the server said.
final class PageClient: Sendable {
    let settings: HTTPSourceSettings
    let client: HTTPClient
    let logger: Logger
    private let tokens: OAuthTokens?
    private let waited = Mutex<Duration>(.zero)

    init(settings: HTTPSourceSettings, logger: Logger) throws {
        self.settings = settings
        self.logger = logger
        var configuration: HTTPClient.Configuration
        if let file = settings.clientCertificateFile, let key = settings.clientKey {
            configuration = try HTTPClientSetup.configuration(
                proxy: settings.proxy, caFile: settings.caFile,
                clientCertificate: .init(certificateFile: file, key: key))
        } else {
            configuration = HTTPClientSetup.configuration(proxy: settings.proxy, caFile: settings.caFile)
        }
        configuration.timeout.connect = .seconds(10)
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        if case .oauth2(let credentials) = settings.authentication {
            tokens = OAuthTokens(credentials: credentials)
        } else {
            tokens = nil
        }
    }

    deinit {
        client.shutdown { _ in }
    }

    /// The page at `request`, tried again while the server is busy.
    /// - Throws: ``SyncError`` for an answer that is not a success, or a server that stays busy.
    func fetch(_ request: PageRequest) async throws -> FetchedPage {
        var attempt = 0
        var refreshedToken = false
        let where_ = "page \(request.number) of \(HTTPSourceSettings.shown(settings.url))"
        while true {
            attempt += 1
            var wait: Duration
            do {
                let response = try await client.execute(
                    try await prepared(request), timeout: .seconds(settings.requestTimeout.components.seconds))
                let status = Int(response.status.code)
                let body: ByteBuffer
                do {
                    body = try await response.body.collect(upTo: settings.maxPageBytes)
                } catch is NIOTooManyBytesError {
                    throw SyncError(
                        .source, "\(where_) is larger than source.max_page_bytes (\(settings.maxPageBytes) bytes)",
                        hint: "ask for smaller pages (pagination.page_size), or raise source.max_page_bytes")
                }
                logger.debug("\(settings.method) \(where_) -> \(status), \(body.readableBytes) bytes")
                switch status {
                case 200..<300:
                    return FetchedPage(request: request, headers: response.headers, body: body)
                case 401 where tokens != nil && !refreshedToken:
                    // A token can be revoked or expire early: fetch a new one once, then believe the 401.
                    refreshedToken = true
                    await tokens?.invalidate()
                    attempt -= 1
                    continue
                case 429, 503:
                    wait = backoff(attempt)
                    if let header = response.headers.first(name: "Retry-After") {
                        guard let seconds = RetryAfter.seconds(header) else {
                            wait = backoff(attempt)
                            break
                        }
                        guard seconds <= Double(settings.maxRetryAfter.components.seconds) else {
                            throw SyncError(
                                .source,
                                "\(where_) answered \(status) and asked to wait \(Int(min(seconds, 1e9))) seconds (Retry-After), longer than source.max_retry_after (\(settings.maxRetryAfter))",
                                hint:
                                    "the API is rate limiting or down for a while; nothing was sent. Run again later, or raise source.max_retry_after"
                            )
                        }
                        wait = .milliseconds(Int(seconds * 1000))
                    }
                case 500, 502, 504:
                    wait = backoff(attempt)
                case 300..<400:
                    throw SyncError(
                        .source,
                        "\(where_) answered \(status), redirecting to \(Self.shownLocation(response.headers.first(name: "Location"))); redirects are not followed (they could carry the credentials elsewhere)",
                        hint: "write the address it redirects to in source.url")
                default:
                    throw refusal(status: status, body: body, where: where_)
                }
                guard attempt < settings.maxAttempts else {
                    throw SyncError(
                        .source, "\(where_) still answered \(status) after \(attempt) attempts",
                        hint:
                            "the API is rate limiting or unavailable; nothing was sent. Run again later, or raise source.max_attempts"
                    )
                }
                try spend(wait, status: status, where: where_)
                logger.notice("\(where_) answered \(status); trying again in \(wait)")
            } catch let error as SyncError {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                if NetworkErrors.isClientCertificateRequired(error) {
                    throw SyncError(
                        .source, "\(settings.url.host ?? "the server") asks for a client certificate (mutual TLS)",
                        hint: settings.clientCertificateFile == nil
                            ? "set source.client_certificate_file and source.client_key_file (or _env, _credential)"
                            : "it refused \(settings.clientCertificateFile!): check that its CA is the one the API expects",
                        underlying: error)
                }
                if NetworkErrors.isUntrustedCertificate(error) {
                    throw SyncError(
                        .source, "TLS with \(settings.url.host ?? "the server") failed: its certificate is not trusted",
                        hint: settings.caFile.map { "source.ca_file (\($0)) does not hold the CA that issued it" }
                            ?? "if the API uses a private CA, or a proxy inspects TLS, give its CA certificate as source.ca_file",
                        underlying: error)
                }
                guard attempt < settings.maxAttempts else {
                    throw SyncError(
                        .source, "cannot read \(where_) after \(attempt) attempts: \(NetworkErrors.said(error))",
                        hint: "check source.url, the network and any proxy; nothing was sent", underlying: error)
                }
                wait = backoff(attempt)
                try spend(wait, status: nil, where: where_)
                logger.notice("\(where_) failed: \(NetworkErrors.said(error)); trying again in \(wait)")
            }
            try await Task.sleep(for: wait)
        }
    }

    /// The request with its method, headers, body and credentials.
    private func prepared(_ page: PageRequest) async throws -> HTTPClientRequest {
        var url = page.url
        var request = HTTPClientRequest(url: "")
        request.method = settings.method == "POST" ? .POST : .GET
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "compliance-sync")
        for (name, value) in settings.headers { request.headers.replaceOrAdd(name: name, value: value) }
        if let body = settings.body {
            request.headers.replaceOrAdd(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        switch settings.authentication {
        case .none: break
        case .basic(let username, let password):
            let pair = Data("\(username.value):\(password?.value ?? "")".utf8).base64EncodedString()
            request.headers.replaceOrAdd(name: "Authorization", value: "Basic \(pair)")
        case .bearer(let token):
            request.headers.replaceOrAdd(name: "Authorization", value: "Bearer \(token.value)")
        case .apiKey(let key):
            if let header = key.header {
                request.headers.replaceOrAdd(name: header, value: key.prefix + key.key.value)
            } else if let name = key.query {
                url = HTTPSourceSettings.adding([(name, key.key.value)], to: url)
            }
        case .oauth2:
            let token = try await tokens!.token(using: self)
            request.headers.replaceOrAdd(name: "Authorization", value: "Bearer \(token)")
        }
        request.url = url.absoluteString
        return request
    }

    /// Counts a wait against `max_retry_wait`.
    private func spend(_ wait: Duration, status: Int?, where place: String) throws {
        let allowed = waited.withLock { total in
            guard total + wait <= settings.maxRetryWait else { return false }
            total += wait
            return true
        }
        guard allowed else {
            throw SyncError(
                .source,
                "\(place) \(status.map { "still answered \($0)" } ?? "still failed") after waiting source.max_retry_wait (\(settings.maxRetryWait)) in all",
                hint:
                    "the API is rate limiting or unavailable; nothing was sent. Run again later, or raise source.max_retry_wait"
            )
        }
    }

    /// Exponential backoff with jitter: between half and all of 0.5 s × 2^(attempt-1), at most 30 s.
    private func backoff(_ attempt: Int) -> Duration {
        let full = min(30, 0.5 * pow(2, Double(attempt - 1)))
        return .milliseconds(Int(full * Double.random(in: 0.5...1.0) * 1000))
    }

    /// A refusal in words: the status and what the server said in its error fields, never more
    /// than a line of it (an error page could echo anything).
    private func refusal(status: Int, body: ByteBuffer, where place: String) -> SyncError {
        let said = Self.problem(in: body).map { ": \($0)" } ?? ""
        let hint: String
        switch status {
        case 401: hint = "the server refused the credentials: check source.auth and where its secret comes from"
        case 403:
            hint = "the account may not read this collection: give it the read rights the API's documentation names"
        case 404: hint = "check source.url (and any tenant or report name in it)"
        default:
            hint = "nothing was sent; check source.url and the request settings, or run again if the server is failing"
        }
        return SyncError(.source, "\(place) answered \(status)\(said)", hint: hint)
    }

    /// The error message of a JSON error body (`error_description`, `message`, `detail`, `error`), cut to a line.
    static func problem(in body: ByteBuffer) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
        else { return nil }
        let nested = object["error"] as? [String: Any]
        let candidates: [Any?] = [
            object["error_description"], object["message"], object["detail"], nested?["message"], object["error"],
        ]
        guard let text = candidates.lazy.compactMap({ $0.flatMap(JSONValues.text) }).first else { return nil }
        let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? text
        return line.count > 200 ? String(line.prefix(200)) + "…" : line
    }

    private static func shownLocation(_ location: String?) -> String {
        guard let location, let url = URL(string: location) else { return "nowhere" }
        return HTTPSourceSettings.shown(url)
    }
}
