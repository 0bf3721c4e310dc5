import ConnectorCore
import Foundation
import Logging
import NIOHTTP1
import SyncCore

/// OAuth 2.0 client-credentials tokens for the API: fetched once, shared by
/// every caller, refreshed ahead of expiry with the (rotating) refresh token,
/// and fetched anew with the client credentials when the refresh token is dead.
/// Concurrent callers that need a new token wait for one refresh together.
actor TokenManager {
    private let transport: HTTPTransport
    private let clientID: String
    private let secret: Secret
    private var current: Token?
    private var pending: Task<Token, any Error>?

    struct Token: Sendable {
        var access: String
        var expires: Date
        var lifetime: TimeInterval
        var refresh: String?
        var refreshExpires: Date?
    }

    init(transport: HTTPTransport, clientID: String, secret: Secret) {
        self.transport = transport
        self.clientID = clientID
        self.secret = secret
    }

    /// A valid access token, fetching or refreshing one if needed.
    func accessToken() async throws -> String {
        if let current, current.expires.timeIntervalSinceNow > margin(current) { return current.access }
        if let pending { return try await pending.value.access }
        let task = Task { try await self.obtain() }
        pending = task
        do {
            let token = try await task.value
            current = token
            pending = nil
            return token.access
        } catch {
            pending = nil
            throw error
        }
    }

    /// Forgets an access token the API called invalid, so the next call gets a new one.
    func invalidate(_ access: String) {
        if current?.access == access { current?.expires = .distantPast }
    }

    /// Refresh when less than a tenth of the lifetime (at most a minute, at least five seconds) is left.
    private func margin(_ token: Token) -> TimeInterval {
        max(5, min(60, token.lifetime / 10))
    }

    private func obtain() async throws -> Token {
        if let refresh = current?.refresh, (current?.refreshExpires ?? .distantFuture) > Date() {
            // Any refusal of a refresh (400 or 401, whatever its error code) falls back to the client credentials.
            switch try await request(["grant_type": "refresh_token", "refresh_token": refresh], refreshing: true) {
            case .token(let token): return token
            case .invalidGrant: transport.logger.info("the refresh token was refused; using the client credentials")
            }
        }
        switch try await request(["grant_type": "client_credentials"]) {
        case .token(let token): return token
        case .invalidGrant:
            throw SyncError(
                .api, "the token endpoint refused the client credentials grant (invalid_grant)",
                hint: "check api.client_id and the client secret")
        }
    }

    private enum Answer { case token(Token), invalidGrant }

    private func request(_ grant: [String: String], refreshing: Bool = false) async throws -> Answer {
        let settings = transport.settings
        var fields = grant
        fields["client_id"] = clientID
        fields["client_secret"] = secret.value
        let body: [UInt8]
        let contentType: String
        switch settings.tokenFormat {
        case .json:
            body = Array(try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]))
            contentType = "application/json"
        case .form:
            body = Array(
                fields.sorted { $0.key < $1.key }.map { "\(formEncode($0.key))=\(formEncode($0.value))" }
                    .joined(separator: "&").utf8)
            contentType = "application/x-www-form-urlencoded"
        }
        let reply = try await transport.send(
            .POST, settings.tokenPath, headers: [("Content-Type", contentType)], body: body)
        let url = settings.url(settings.tokenPath)
        switch reply.status {
        case 200..<300:
            guard let token = WireReply.decode(WireReply.Token.self, from: reply.body), token.expiresIn.isFinite else {
                throw SyncError(
                    .api, "the token endpoint \(url) answered without an access_token and expires_in",
                    hint: "check api.base_url and api.token_path")
            }
            return .token(
                Token(
                    access: token.accessToken, expires: Date().addingTimeInterval(token.expiresIn),
                    lifetime: token.expiresIn, refresh: token.refreshToken,
                    refreshExpires: token.refreshTokenExpiresIn.map { Date().addingTimeInterval($0) }))
        case 400
        where refreshing || WireReply.decode(WireReply.Problem.self, from: reply.body)?.error == "invalid_grant",
            401 where refreshing:
            return .invalidGrant
        case 401:
            throw SyncError(
                .api, "the API refused the client credentials for client id \(clientID) (\(reply.problem))",
                hint: "check api.client_id and the client secret; a secret is shown once when created "
                    + "under Administration > Integrations")
        case 403:
            throw SyncError(
                .api, "the credentials' user may not use the API (\(reply.problem))",
                hint: "give the user tied to the credentials the \"API Access\" right")
        default:
            throw SyncError(
                .api, "the token endpoint \(url) answered \(reply.status): \(reply.problem)",
                hint: "check api.base_url, api.token_path and api.token_format")
        }
    }

    private func formEncode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
