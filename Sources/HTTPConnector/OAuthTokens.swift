import AsyncHTTPClient
import ConnectorCore
import Foundation
import HTTPClientSupport
import NIOCore

/// Access tokens from an OAuth 2.0 token endpoint with the client credentials grant (RFC 6749,
/// section 4.4): fetched on first use, fetched again a little before they expire, shared by
/// every page request. The client secret and the tokens are never logged.
actor OAuthTokens {
    private let credentials: HTTPAuthentication.ClientCredentials
    private var current: (token: String, expires: ContinuousClock.Instant)?

    init(credentials: HTTPAuthentication.ClientCredentials) {
        self.credentials = credentials
    }

    /// A token valid for at least the next minute (or a tenth of its life, if shorter).
    func token(using pages: PageClient) async throws -> String {
        if let current, current.expires > .now { return current.token }
        let (token, lifetime) = try await fetch(using: pages)
        let margin = min(60, lifetime / 10)
        current = (token, .now + .seconds(max(1, lifetime - margin)))
        return token
    }

    /// Forgets the token, after the API refused it.
    func invalidate() { current = nil }

    private func fetch(using pages: PageClient) async throws -> (String, Int) {
        var form: [(String, String)] = [("grant_type", "client_credentials")]
        if !credentials.scopes.isEmpty { form.append(("scope", credentials.scopes.joined(separator: " "))) }
        form += credentials.parameters.map { ($0.name, $0.value) }
        var request = HTTPClientRequest(url: credentials.tokenURL.absoluteString)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        if credentials.basicClientAuth {
            let pair = "\(Self.encoded(credentials.clientID)):\(Self.encoded(credentials.clientSecret.value))"
            request.headers.add(name: "Authorization", value: "Basic \(Data(pair.utf8).base64EncodedString())")
        } else {
            form += [("client_id", credentials.clientID), ("client_secret", credentials.clientSecret.value)]
        }
        request.body = .bytes(
            ByteBuffer(string: form.map { "\(Self.encoded($0))=\(Self.encoded($1))" }.joined(separator: "&")))
        let shown = HTTPSourceSettings.shown(credentials.tokenURL)
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await pages.client.execute(request, timeout: .seconds(30))
            body = try await response.body.collect(upTo: 1 << 20)
        } catch {
            throw SyncError(
                .source, "cannot reach the token endpoint \(shown): \(NetworkErrors.said(error))",
                hint: "check source.auth.token_url, the network and any proxy; nothing was sent")
        }
        let status = Int(response.status.code)
        guard (200..<300).contains(status) else {
            let said = PageClient.problem(in: body).map { ": \($0)" } ?? ""
            throw SyncError(
                .source, "the token endpoint \(shown) answered \(status)\(said) for client id \(credentials.clientID)",
                hint: status == 400 || status == 401
                    ? "check source.auth.client_id, the client secret, the scopes and client_auth (form or basic)"
                    : "check source.auth.token_url")
        }
        let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
        guard let token = object?["access_token"] as? String, !token.isEmpty else {
            throw SyncError(
                .source, "the token endpoint \(shown) answered without an access_token",
                hint: "check source.auth.token_url: it must be the OAuth 2.0 token endpoint")
        }
        if let type = object?["token_type"] as? String, type.lowercased() != "bearer" {
            throw SyncError(
                .source, "the token endpoint \(shown) gave a token of type \(type), not a bearer token",
                hint: "only bearer tokens are supported")
        }
        let lifetime = object?["expires_in"].flatMap(JSONValues.text).flatMap(Double.init).map { Int($0) } ?? 3600
        return (token, max(1, lifetime))
    }

    private static func encoded(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
