import ConnectorCore
import Foundation
import NetworkNames
import SyncCore

/// How to reach the Compliance import API (`api:` in the config).
/// Every path, field and limit of compliance-api.md is here, with its default.
public struct APISettings: Sendable {
    /// Body format of token requests.
    public enum TokenFormat: String, Sendable { case json, form }
    /// Body format of import requests.
    public enum ImportFormat: String, Sendable { case json, csv }

    /// The API's root, such as `https://api.threatswitch.com`.
    public var baseURL: URL
    /// The OAuth client id (not a secret).
    public var clientID: String?
    /// Where the client secret is.
    public var clientSecret: SecretReference?
    /// The token endpoint's path.
    public var tokenPath = "/v1/auth/token"
    /// The imports endpoint's path; an import's status is `imports_path/{id}`.
    public var importsPath = "/v1/imports"
    /// The `import_type` sent with every import.
    public var importType = "users"
    /// JSON (default) or form-encoded token requests.
    public var tokenFormat = TokenFormat.json
    /// JSON (default) or CSV import bodies.
    public var format = ImportFormat.json
    /// Rows per import request.
    public var batchSize = 500
    /// Imports submitted and being polled at once; 1 sends one at a time.
    public var maxInFlight = 4
    /// The API's own limit of rows per request; `batch_size` may not exceed it.
    public var maxRowsPerRequest = 1000
    /// How long one HTTP request may take.
    public var requestTimeout = Duration.seconds(30)
    /// Attempts per request before giving up on transient failures.
    public var maxAttempts = 6
    /// The longest wait between attempts.
    public var maxBackoff = Duration.seconds(30)
    /// The longest `Retry-After` to honour; a longer one fails the run, naming the wait.
    public var maxRetryAfter = Duration.seconds(300)
    /// The longest a run waits in all on `429`s that say when to come back (`Retry-After`): such
    /// waits do not spend ``maxAttempts``, which are for errors; past this total the run fails.
    public var maxRateLimitWait = Duration.seconds(900)
    /// The longest time to wait for one import to finish.
    public var importTimeout = Duration.seconds(600)
    /// The import fields and their rules.
    public var fields = FieldCatalog()
    /// The HTTP proxy requests go through, if any (see ``ProxySettings``).
    public var proxy: ProxySettings?
    /// `api.proxy` as written, and the `api.no_proxy` entries: webhooks go through the same proxy
    /// unless their host is excluded (``proxy(for:environment:)``).
    var configuredProxy: ProxySettings?, noProxy: [String] = []
    /// A PEM file of certificate authorities to trust besides the system's (`api.ca_file`):
    /// a TLS-inspecting proxy's, or a private CA's. Certificates are verified either way.
    public var caFile: String?

    /// The API's defaults, at `https://api.threatswitch.com`.
    public init(baseURL: URL = URL(string: "https://api.threatswitch.com")!) {
        self.baseURL = baseURL
    }

    init(
        section: ConfigSection?, folder: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws {
        self.init()
        guard let section else {
            proxy = try ProxySettings.effective(for: baseURL, configured: nil, noProxy: [], environment: environment)
            return
        }
        if let node = section.node("base_url") {
            let text = try node.text()
            guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), url.host != nil,
                scheme == "https" || scheme == "http"
            else { throw node.error("must be an http(s) URL such as https://api.threatswitch.com") }
            if scheme == "http" && !Hosts.isLoopback(url.host ?? "") {
                throw node.error(
                    "uses plain http:// to a host that is not loopback",
                    hint: "use https://; plain http is allowed only to 127.0.0.1, ::1 or localhost (the simulator)")
            }
            baseURL = url
        }
        if let id = try section.string("client_id") {
            clientID = id
        }
        if let variable = try section.string("client_id_env") {
            clientID = try SecretReference.environment(variable).resolve().value
        }
        clientSecret = try section.secret("client_secret", relativeTo: folder)
        tokenPath = try section.string("token_path") ?? tokenPath
        importsPath = try section.string("imports_path") ?? importsPath
        importType = try section.string("import_type") ?? importType
        tokenFormat = try section.choice("token_format", ["json", "form"]).flatMap(TokenFormat.init) ?? tokenFormat
        format = try section.choice("format", ["json", "csv"]).flatMap(ImportFormat.init) ?? format
        maxRowsPerRequest = try section.int("max_rows_per_request", in: 1...1_000_000) ?? maxRowsPerRequest
        batchSize = try section.int("batch_size", in: 1...maxRowsPerRequest) ?? batchSize
        maxInFlight = try section.int("max_in_flight", in: 1...32) ?? maxInFlight
        requestTimeout = try section.duration("request_timeout") ?? requestTimeout
        maxAttempts = try section.int("max_attempts", in: 1...100) ?? maxAttempts
        maxBackoff = try section.duration("max_backoff") ?? maxBackoff
        importTimeout = try section.duration("import_timeout") ?? importTimeout
        maxRetryAfter = try section.duration("max_retry_after") ?? maxRetryAfter
        maxRateLimitWait = try section.duration("max_rate_limit_wait") ?? maxRateLimitWait
        fields = try FieldCatalog(section: section.section("fields"))
        noProxy = try ProxySettings.exclusions(in: section)
        configuredProxy = try ProxySettings.configured(in: section, folder: folder)
        proxy = try ProxySettings.effective(
            for: baseURL, configured: configuredProxy, noProxy: noProxy, environment: environment)
        if let path = try section.path("ca_file", relativeTo: folder) {
            guard let text = FileManager.default.contents(atPath: path).map({ String(decoding: $0, as: UTF8.self) }),
                text.contains("-----BEGIN CERTIFICATE-----")
            else {
                throw section.node("ca_file")!.error(
                    "cannot read certificates from \(path)",
                    hint: "give a readable PEM file of one or more CA certificates (-----BEGIN CERTIFICATE-----)")
            }
            caFile = path
        }
        try section.finish()
    }

    /// The proxy for another URL the job posts to (a webhook's): `api.proxy`, or the environment's,
    /// unless `api.no_proxy` or `NO_PROXY` excludes its host.
    /// - Throws: ``SyncError`` for an environment proxy that cannot be used, as for the API.
    public func proxy(for url: URL, environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> ProxySettings?
    {
        try ProxySettings.effective(for: url, configured: configuredProxy, noProxy: noProxy, environment: environment)
    }

    /// The full URL of an API path (which may carry a query), under ``baseURL``.
    public func url(_ path: String) -> String {
        var base = baseURL.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        return base + path
    }
}
