import ConnectorCore
import Foundation
import SyncCore

/// The HTTP proxy the API is reached through: `api.proxy` (with `proxy_user` and
/// `proxy_password_env`/`_file`/`_credential`), else `https_proxy`/`HTTPS_PROXY` from the
/// environment (`http_proxy` for an `http://` base URL), unless the API's host is in
/// `api.no_proxy` or `NO_PROXY`. HTTPS goes through it with CONNECT, still verified end to end.
public struct ProxySettings: Sendable, CustomStringConvertible {
    /// The proxy's host.
    public var host: String
    /// The proxy's port.
    public var port: Int
    /// The user to authenticate as (Basic), if any.
    public var user: String?
    /// The user's password.
    public var password: Secret?
    /// Where the proxy was named, for messages: `api.proxy` or an environment variable.
    public var origin: String

    /// `proxy.example.com:3128 (from HTTPS_PROXY)`; never the password.
    public var description: String { "\(host):\(port) (from \(origin))" }

    /// Parses a proxy URL such as `http://user:password@proxy.example.com:3128`.
    /// - Returns: the proxy, or `nil` when the text is not an `http://` URL with a host.
    static func parse(_ text: String, origin: String, defaultPort: Int = 1080) -> ProxySettings? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let withScheme = trimmed.contains("://") ? trimmed : "http://" + trimmed
        guard let url = URLComponents(string: withScheme), url.scheme?.lowercased() == "http",
            let host = url.host, !host.isEmpty, url.path.isEmpty || url.path == "/"
        else { return nil }
        var proxy = ProxySettings(host: host, port: url.port ?? defaultPort, origin: origin)
        if let user = url.user?.removingPercentEncoding, !user.isEmpty {
            proxy.user = user
            proxy.password = url.password.flatMap { $0.removingPercentEncoding }.map(Secret.init)
        }
        return proxy
    }

    /// The proxy for an API at `target`, by the job's settings and then the environment.
    /// - Parameters:
    ///   - configured: `api.proxy`, already parsed; `nil` when not set.
    ///   - noProxy: `api.no_proxy` entries, added to the environment's `NO_PROXY`.
    /// - Throws: ``SyncError`` when the environment names a proxy that cannot be used (a SOCKS or
    ///   `https://` proxy, a URL without a host): going around it would not be what the machine says.
    static func effective(
        for target: URL, configured: ProxySettings?, noProxy: [String], environment: [String: String]
    ) throws -> ProxySettings? {
        let exclusions =
            noProxy + (environment["no_proxy"] ?? environment["NO_PROXY"] ?? "").split(separator: ",").map(String.init)
        let https = target.scheme?.lowercased() == "https"
        if let host = target.host, Self.excludes(exclusions, host: host, port: target.port ?? (https ? 443 : 80)) {
            return nil
        }
        if let configured { return configured }
        let names = https ? ["https_proxy", "HTTPS_PROXY"] : ["http_proxy"]
        for name in names {
            guard let text = environment[name], !text.isEmpty else { continue }
            guard let proxy = parse(text, origin: name) else {
                throw SyncError(
                    .configuration,
                    "the environment variable \(name) does not name an http:// proxy with a host (its value is not shown: it may hold a password)",
                    hint: "compliance-sync reaches the API through HTTP CONNECT proxies only: set \(name) to "
                        + "http://host:port, set api.proxy, or add the API's host to NO_PROXY")
            }
            return proxy
        }
        return nil
    }

    /// Whether a `NO_PROXY` list names a host: `*`, the host itself, or a domain it is in
    /// (`example.com` and `.example.com` both cover `api.example.com`), with an optional `:port`.
    static func excludes(_ entries: [String], host: String, port: Int?) -> Bool {
        let host = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        for raw in entries {
            var entry = raw.trimmingCharacters(in: .whitespaces).lowercased()
            if entry.isEmpty { continue }
            if entry == "*" { return true }
            if let colon = entry.lastIndex(of: ":"), !entry.hasPrefix("["), entry.filter({ $0 == ":" }).count == 1 {
                guard let wanted = Int(entry[entry.index(after: colon)...]), wanted == port else { continue }
                entry = String(entry[..<colon])
            }
            entry = entry.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            let domain = entry.hasPrefix(".") ? String(entry.dropFirst()) : entry
            if host == domain || host.hasSuffix("." + domain) { return true }
        }
        return false
    }
}
