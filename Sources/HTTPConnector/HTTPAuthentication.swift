import ConnectorCore
import Foundation

/// How a page request proves who is asking (`source.auth`). Every secret comes from
/// `*_env`, `*_file`, `*_credential` or `*_secret`, never from the job file, and is never logged.
public enum HTTPAuthentication: Sendable {
    /// No credentials (`type: none`, the default).
    case none
    /// HTTP Basic (`type: basic`): a user and password, or an API key as the user (BambooHR).
    case basic(username: Secret, password: Secret?)
    /// A bearer token (`type: bearer`).
    case bearer(Secret)
    /// An API key in a header or a query parameter (`type: api_key`).
    case apiKey(ApiKey)
    /// OAuth 2.0 client credentials (`type: oauth2`): a token fetched from the token URL and
    /// fetched again before it expires.
    case oauth2(ClientCredentials)

    /// Where an API key goes.
    public struct ApiKey: Sendable {
        /// The header that carries it (`X-API-Key`), or `nil` for a query parameter.
        public var header: String?
        /// The query parameter that carries it (`api_key`), or `nil` for a header.
        public var query: String?
        /// Text written before the key in the header, such as `Token `.
        public var prefix: String
        /// The key.
        public var key: Secret
    }

    /// An OAuth 2.0 client of the token endpoint (RFC 6749, section 4.4).
    public struct ClientCredentials: Sendable {
        /// The token endpoint.
        public var tokenURL: URL
        /// The client's id.
        public var clientID: String
        /// The client's secret.
        public var clientSecret: Secret
        /// The scopes asked for, sent space-separated (`https://graph.microsoft.com/.default`).
        public var scopes: [String]
        /// Whether the client authenticates with HTTP Basic (`client_auth: basic`) rather than in the form.
        public var basicClientAuth: Bool
        /// Further form fields some providers ask for (`audience`, `resource`).
        public var parameters: [(name: String, value: String)]
    }

    init(section: ConfigSection?, folder: String) throws {
        guard let section else {
            self = .none
            return
        }
        let kind = try section.choice("type", ["none", "basic", "bearer", "api_key", "oauth2"]) ?? "none"
        func required(_ name: String, _ what: String) throws -> Secret {
            guard let reference = try section.secret(name, relativeTo: folder) else {
                throw SyncError.config(
                    "`\(section.path("type")): \(kind)` needs \(what)", at: section.node.location,
                    hint: "write `\(name)_env: VARIABLE`, `\(name)_file: /path/to/file`, `\(name)_credential: NAME` "
                        + "or `\(name)_secret: NAME` (a secrets command)")
            }
            return try reference.resolve()
        }
        switch kind {
        case "basic":
            let username: Secret
            if section.has("username") {
                username = Secret(try section.requiredString("username"))
            } else {
                username = try required("username", "a user (`username:`) or an API key as the user")
            }
            self = .basic(username: username, password: try section.secret("password", relativeTo: folder)?.resolve())
        case "bearer":
            self = .bearer(try required("token", "the token"))
        case "api_key":
            let header = try section.string("header"), query = try section.string("query")
            guard (header == nil) != (query == nil) else {
                throw SyncError.config(
                    "`\(section.path("type")): api_key` needs one of `header:` or `query:`", at: section.node.location,
                    hint: "the header (X-API-Key) or the query parameter (api_key) that carries the key")
            }
            self = .apiKey(
                ApiKey(
                    header: header, query: query, prefix: try section.string("prefix") ?? "",
                    key: try required("key", "the key")))
        case "oauth2":
            guard let tokenNode = section.node("token_url") else {
                throw SyncError.config(
                    "`\(section.path("token_url"))` is required for OAuth 2.0", at: section.node.location,
                    hint:
                        "the provider's token endpoint, such as https://login.microsoftonline.com/TENANT/oauth2/v2.0/token"
                )
            }
            let clientID: String
            if let reference = try section.string("client_id_env") {
                clientID = try SecretReference.environment(reference).resolve().value
            } else {
                clientID = try section.requiredString("client_id", hint: "the application (client) id")
            }
            let parameters = try section.section("token_parameters")
            self = .oauth2(
                ClientCredentials(
                    tokenURL: try HTTPSourceSettings.webURL(tokenNode), clientID: clientID,
                    clientSecret: try required("client_secret", "the client secret"),
                    scopes: try section.strings("scopes") ?? [],
                    basicClientAuth: try section.choice("client_auth", ["form", "basic"]) == "basic",
                    parameters: try parameters?.keys.map { (name: $0, value: try parameters?.string($0) ?? "") } ?? []))
            try parameters?.finish()
        default:
            self = .none
        }
        try section.finish()
    }
}
