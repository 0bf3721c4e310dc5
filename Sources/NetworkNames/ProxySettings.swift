import ConnectorCore
import Foundation

/// The HTTP proxy a job reaches a service through (the API, a webhook, an HTTP source):
/// `proxy` in the job's section (with `proxy_user` and `proxy_password_env`/`_file`/`_credential`),
/// else `https_proxy`/`HTTPS_PROXY` from the environment (`http_proxy` for an `http://` URL),
/// unless the host is in the section's `no_proxy` or `NO_PROXY`. HTTPS goes through it with
/// CONNECT, still verified end to end.
public struct ProxySettings: Sendable, CustomStringConvertible {
    /// The proxy's host.
    public var host: String
    /// The proxy's port.
    public var port: Int
    /// The user to authenticate as (Basic), if any.
    public var user: String?
    /// The user's password.
    public var password: Secret?
    /// Where the proxy was named, for messages: `api.proxy`, `source.proxy` or an environment variable.
    public var origin: String

    /// `proxy.example.com:3128 (from HTTPS_PROXY)`; never the password.
    public var description: String { "\(host):\(port) (from \(origin))" }

    /// Parses a proxy URL such as `http://user:password@proxy.example.com:3128`.
    /// - Returns: the proxy, or `nil` when the text is not an `http://` URL with a host.
    public static func parse(_ text: String, origin: String, defaultPort: Int = 1080) -> ProxySettings? {
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
    ///   - configured: the section's `proxy`, already parsed; `nil` when not set.
    ///   - noProxy: the section's `no_proxy` entries, added to the environment's `NO_PROXY`.
    /// - Throws: ``SyncError`` when the environment names a proxy that cannot be used (a SOCKS or
    ///   `https://` proxy, a URL without a host): going around it would not be what the machine says.
    public static func effective(
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
                    hint: "compliance-sync goes through HTTP CONNECT proxies only: set \(name) to "
                        + "http://host:port, set `proxy:` in the job file, or add \(target.host ?? "the host") to NO_PROXY"
                )
            }
            return proxy
        }
        return nil
    }

    /// Whether a `NO_PROXY` list names a host: `*`, the host itself, or a domain it is in
    /// (`example.com` and `.example.com` both cover `api.example.com`), with an optional `:port`.
    public static func excludes(_ entries: [String], host: String, port: Int?) -> Bool {
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

extension ProxySettings {
    /// A section's `proxy` with its `proxy_user` and `proxy_password_env`/`_file`/`_credential`, if set.
    /// - Throws: ``SyncError`` naming the key for a proxy URL that is not `http://host:port`, a password
    ///   written into the URL, or a user or password without a proxy.
    public static func configured(in section: ConfigSection, folder: String) throws -> ProxySettings? {
        let user = try section.string("proxy_user")
        let password = try section.secret("proxy_password", relativeTo: folder)
        guard let node = section.node("proxy") else {
            if user != nil || password != nil {
                throw SyncError.config(
                    "`\(section.path("proxy_user"))` and `proxy_password` need `\(section.path("proxy"))`",
                    at: section.node.location)
            }
            return nil
        }
        guard var proxy = ProxySettings.parse(try node.text(), origin: node.path), proxy.user == nil,
            URLComponents(string: try node.text())?.port != nil
        else {
            throw node.error(
                "must be an http:// proxy URL with a port and no password, such as http://proxy.example.com:3128",
                hint: "write the user as `proxy_user` and the password as `proxy_password_env` or `proxy_password_file`"
            )
        }
        proxy.user = user
        proxy.password = try password?.resolve()
        if password != nil && user == nil {
            throw SyncError.config(
                "`\(section.path("proxy_password"))` needs `\(section.path("proxy_user"))`", at: node.location)
        }
        return proxy
    }

    /// A section's `no_proxy` entries (a list, or one comma-separated value).
    public static func exclusions(in section: ConfigSection) throws -> [String] {
        try section.strings("no_proxy")?.flatMap { $0.split(separator: ",").map(String.init) } ?? []
    }
}
