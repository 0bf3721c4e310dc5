import ConnectorCore
import Foundation
import NetworkNames

/// What a `type: http` source reads and how, from its `source:` section: the request, its
/// authentication, how pages follow each other, where the records are in a page, and the
/// limits that make a half-read collection fail instead of looking like "everyone else left".
public struct HTTPSourceSettings: Sendable {
    /// The collection's URL, without the paging parameters (and with `query:` added).
    public var url: URL
    /// `GET`, or `POST` for report APIs that take a body.
    public var method: String = "GET"
    /// Headers sent with every page request (besides authentication's).
    public var headers: [(name: String, value: String)] = []
    /// The JSON body of a `POST`, sent with every page request.
    public var body: [UInt8]?
    /// How requests authenticate.
    public var authentication: HTTPAuthentication = .none
    /// How one page leads to the next.
    public var pagination: Pagination = Pagination()
    /// Where the list of records is in each page; `nil` when each page is the list itself.
    public var records: String?
    /// The (flattened) attribute that identifies a person.
    public var idAttribute: String
    /// Where a page says how many records the whole collection holds (`totalResults`, `@odata.count`).
    public var total: String?
    /// A response header that says the same (`X-Total-Count`).
    public var totalHeader: String?
    /// Certificate authorities to trust besides the system's.
    public var caFile: String?
    /// A client certificate (PEM) and its key, for APIs that require mutual TLS.
    public var clientCertificateFile: String?
    /// The client certificate's private key (PEM).
    public var clientKey: Secret?
    /// The HTTP proxy requests go through, if any.
    public var proxy: ProxySettings?
    /// The longest one request may take.
    public var requestTimeout = Duration.seconds(60)
    /// Tries per page when the server is busy (`429`, `503`) or a connection fails.
    public var maxAttempts = 5
    /// The longest single `Retry-After` waited for; a longer one fails the read, naming it.
    public var maxRetryAfter = Duration.seconds(120)
    /// The longest the read waits on busy answers in all.
    public var maxRetryWait = Duration.seconds(600)
    /// The most pages one read may take: a server that never stops fails the read.
    public var maxPages = 100_000
    /// The largest page body.
    public var maxPageBytes = 256 << 20
    /// The largest record, as JSON.
    public var maxRecordBytes = 16 << 20

    /// Settings for `url`, identified by `idAttribute`, with every other setting at its default.
    public init(url: URL, idAttribute: String) {
        self.url = url
        self.idAttribute = idAttribute
    }

    /// `url` with query parameters added after those it has (a `+` in a value sent as `%2B`, not a space).
    static func adding(_ items: [(name: String, value: String)], to url: URL) -> URL {
        guard !items.isEmpty, var parts = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return url }
        parts.queryItems = (parts.queryItems ?? []) + items.map { URLQueryItem(name: $0.name, value: $0.value) }
        parts.percentEncodedQuery = parts.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        return parts.url ?? url
    }

    /// `https://host/path` of a URL: never its query, which may carry an API key.
    static func shown(_ url: URL) -> String {
        var parts = URLComponents(url: url, resolvingAgainstBaseURL: false) ?? URLComponents()
        parts.query = nil
        parts.user = nil
        parts.password = nil
        parts.fragment = nil
        return parts.string ?? url.host ?? "the server"
    }
}

extension HTTPSourceSettings {
    /// Reads a `source:` section of `type: http`.
    /// - Throws: ``SyncError`` naming the key for any setting that is missing or wrong.
    init(section: ConfigSection, folder: String, environment: [String: String]) throws {
        let urlNode = section.node("url")
        guard let urlNode else {
            throw SyncError.config(
                "`\(section.path("url"))` is required", at: section.node.location,
                hint: "the collection's address, such as https://api.example.com/v1/users")
        }
        var url = try Self.webURL(urlNode)
        let id = try section.requiredString("id", hint: "name the attribute that identifies a person, e.g. `id: id`")
        self.init(url: url, idAttribute: id)
        method = try section.choice("method", ["GET", "POST"]) ?? method
        if let query = try section.section("query") {
            let items = try query.keys.map { (name: $0, value: try query.node($0)?.text() ?? "") }
            try query.finish()
            url = Self.adding(items, to: url)
            self.url = url
        }
        if let headers = try section.section("headers") {
            for key in headers.keys {
                if ["authorization", "proxy-authorization"].contains(key.lowercased()) {
                    throw headers.node(key)!.error(
                        "would put a secret in the job file",
                        hint:
                            "use `auth:` (bearer, basic, api_key or oauth2), whose secrets come from *_env, *_file or *_credential"
                    )
                }
                self.headers.append((key, try headers.node(key)?.text() ?? ""))
            }
            try headers.finish()
        }
        if let bodyNode = section.node("body") {
            guard method == "POST" else { throw bodyNode.error("is sent only with `method: POST`") }
            body = Array(try JSONSerialization.data(withJSONObject: Self.json(bodyNode), options: [.sortedKeys]))
        }
        authentication = try HTTPAuthentication(section: section.section("auth"), folder: folder)
        pagination = try Pagination(section: section.section("pagination"))
        records = try section.string("records")
        total = try section.string("total") ?? (pagination.kind == .scim ? "totalResults" : nil)
        totalHeader = try section.string("total_header")
        caFile = try section.path("ca_file", relativeTo: folder)
        if let caFile,
            !(FileManager.default.contents(atPath: caFile).map { String(decoding: $0, as: UTF8.self) }?
                .contains("-----BEGIN CERTIFICATE-----") ?? false)
        {
            throw section.node("ca_file")!.error(
                "cannot read certificates from \(caFile)",
                hint: "give a readable PEM file of one or more CA certificates (-----BEGIN CERTIFICATE-----)")
        }
        clientCertificateFile = try section.path("client_certificate_file", relativeTo: folder)
        let keyReference = try section.secret("client_key", relativeTo: folder)
        if (clientCertificateFile == nil) != (keyReference == nil) {
            throw SyncError.config(
                "`\(section.path("client_certificate_file"))` and `client_key_file` (or `_env`, `_credential`, `_secret`) go together",
                at: section.node.location, hint: "mutual TLS needs the certificate and its private key")
        }
        clientKey = try keyReference?.resolve(environment: environment)
        let configuredProxy = try ProxySettings.configured(in: section, folder: folder)
        proxy = try ProxySettings.effective(
            for: url, configured: configuredProxy, noProxy: try ProxySettings.exclusions(in: section),
            environment: environment)
        requestTimeout = try section.duration("request_timeout") ?? requestTimeout
        maxAttempts = try section.int("max_attempts", in: 1...100) ?? maxAttempts
        maxRetryAfter = try section.duration("max_retry_after") ?? maxRetryAfter
        maxRetryWait = try section.duration("max_retry_wait") ?? maxRetryWait
        maxPages = try section.int("max_pages", in: 1...10_000_000) ?? maxPages
        maxPageBytes = try section.int("max_page_bytes", in: 1024...(1 << 40)) ?? maxPageBytes
        maxRecordBytes = try section.int("max_record_bytes", in: 64...(1 << 40)) ?? maxRecordBytes
    }

    /// An `https://` URL, or `http://` to this machine only: a secret or a person's record never
    /// crosses a network in clear.
    static func webURL(_ node: ConfigNode) throws -> URL {
        let text = try node.text()
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty,
            scheme == "https" || scheme == "http"
        else {
            throw node.error("must be an https:// URL such as https://api.example.com/v1/users, not \"\(text)\"")
        }
        if scheme == "http" && !Hosts.isLoopback(host) {
            throw node.error(
                "uses plain http:// to a host that is not this machine",
                hint: "use https://; plain http is allowed only to 127.0.0.1, ::1 or localhost (a local test server)")
        }
        return url
    }

    /// A YAML value as JSON: mappings as objects, lists as arrays; plain `true`/`false` as booleans,
    /// whole and decimal numbers as numbers, anything else as text.
    static func json(_ node: ConfigNode) throws -> Any {
        switch node.value {
        case .null: return NSNull()
        case .sequence(let items): return try items.map(json)
        case .mapping(let pairs):
            var object: [String: Any] = [:]
            for (key, value) in pairs { object[key] = try json(value) }
            return object
        case .scalar(let text):
            if text == "true" { return true }
            if text == "false" { return false }
            if let whole = Int(text) { return whole }
            if let number = Double(text), text.contains(".") { return number }
            return text
        }
    }
}
