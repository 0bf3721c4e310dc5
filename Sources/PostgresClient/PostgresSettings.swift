import CLibPQ
import ConnectorCore
import Foundation
import Logging

/// How to reach a PostgreSQL server: the part of a config section that the
/// PostgreSQL source and the PostgreSQL snapshot store share.
///
/// Settings: `conninfo` (a libpq connection string or URI; libpq's environment
/// variables, service file and `.pgpass` keep working), `password_env` /
/// `password_file`, `sslmode`, `sslrootcert`. A password written inside
/// `conninfo` is refused. For a server that is not on this machine, TLS with
/// the server's certificate verified (`sslmode=verify-full`) is the default;
/// anything weaker must be written out and is warned about on every run.
public struct PostgresSettings: Sendable, CustomStringConvertible {
    /// The connection string or URI, without a password.
    public var conninfo: String
    /// The password, when it is not left to `.pgpass` or `PGPASSWORD`.
    public var password: Secret?
    /// libpq's `sslmode`, when written or chosen by the TLS policy.
    public var sslMode: String?
    /// CA certificates that sign the server's certificate.
    public var sslRootCert: String?
    /// Where the server is, for messages: `host:port/dbname as user`, never a password.
    public var description: String
    /// How the connection names itself in `pg_stat_activity` (unless `conninfo` says otherwise).
    public var applicationName = "compliance-sync"

    /// The TLS modes libpq knows, weakest first.
    static let sslModes = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]

    /// Settings for a connection string; no TLS policy applied.
    public init(conninfo: String, password: Secret? = nil, sslMode: String? = nil, sslRootCert: String? = nil) throws {
        self.conninfo = conninfo
        self.password = password
        self.sslMode = sslMode
        self.sslRootCert = sslRootCert
        description = try Self.parse(conninfo).description
    }

    /// Reads `conninfo`, `password_env`/`password_file`, `sslmode` and `sslrootcert`
    /// from a section and applies the TLS policy.
    /// - Parameters:
    ///   - section: the `source:` or `snapshot:` section.
    ///   - folder: the folder relative paths resolve against.
    ///   - logger: where a weak TLS setting is warned about.
    /// - Throws: ``SyncError`` for a password in `conninfo`, a malformed `conninfo` or an unknown `sslmode`.
    public init(section: ConfigSection, folder: String, logger: Logger) throws {
        let conninfoNode = section.node("conninfo")
        let conninfo = try conninfoNode?.text() ?? ""
        let parsed: ParsedConninfo
        do {
            parsed = try Self.parse(conninfo)
        } catch let error as SyncError {
            throw (conninfoNode ?? section.node).error(error.message, hint: error.hint)
        }
        if parsed.hasPassword {
            throw (conninfoNode ?? section.node).error(
                "holds a password",
                hint: "remove it from the connection string and use `password_env`, `password_file` or ~/.pgpass")
        }
        try self.init(
            conninfo: conninfo,
            password: try section.secret("password", relativeTo: folder)?.resolve(),
            sslMode: try section.choice("sslmode", Self.sslModes),
            sslRootCert: try section.path("sslrootcert", relativeTo: folder))
        let environment = ProcessInfo.processInfo.environment
        // What a `service=` names counts as if written here: its host decides the TLS policy too.
        let effective = parsed.resolvingService(environment: environment)
        let written = sslMode ?? effective.options["sslmode"] ?? environment["PGSSLMODE"]
        let hosts = effective.hosts(environment: environment)
        let remote = hosts.filter { !Self.isLocal($0) }
        if written == nil && !remote.isEmpty {
            sslMode = "verify-full"
        } else if let written, !remote.isEmpty, written != "verify-full" {
            let risk =
                Self.sslModes.firstIndex(of: written) ?? 0 < 3
                ? "the connection may not be encrypted" : "the server's identity is not fully verified"
            logger.warning("\(section.path("sslmode")) is \(written) for \(remote.joined(separator: ", ")): \(risk)")
        }
    }

    /// The keywords and values for `PQconnectdbParams`: defaults, then the
    /// connection string, then the settings written beside it, each overriding the one before.
    var keywords: [(String, String)] {
        // Defaults first, so that the connection string can override them; an unreachable host fails in
        // 10 s rather than after the operating system's TCP timeout.
        var pairs = [("application_name", applicationName), ("connect_timeout", "10"), ("dbname", conninfo)]
        if let password { pairs.append(("password", password.value)) }
        if let sslMode { pairs.append(("sslmode", sslMode)) }
        if let sslRootCert { pairs.append(("sslrootcert", sslRootCert)) }
        pairs.append(("client_encoding", "UTF8"))
        return pairs
    }

    /// Whether a host names this machine: a Unix socket folder, `localhost` or a loopback address.
    static func isLocal(_ host: String) -> Bool {
        host.isEmpty || host.hasPrefix("/") || host.hasPrefix("@") || host == "localhost" || host == "::1"
            || host.hasPrefix("127.")
    }

    /// A connection string taken apart by libpq itself.
    struct ParsedConninfo: CustomStringConvertible {
        var options: [String: String]
        var hasPassword: Bool { options["password"] != nil }

        /// The hosts connected to, from the string or libpq's environment; empty for the default socket.
        func hosts(environment: [String: String]) -> [String] {
            let list =
                options["hostaddr"] ?? options["host"] ?? environment["PGHOSTADDR"] ?? environment["PGHOST"] ?? ""
            return list.split(separator: ",", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
        }

        /// The options with those of the connection service they name (`service=`, or `PGSERVICE`)
        /// filled in, as libpq would read them from the service file; the string's own options win.
        func resolvingService(environment: [String: String]) -> ParsedConninfo {
            guard let name = options["service"] ?? environment["PGSERVICE"],
                let service = ServiceFile.options(of: name, environment: environment)
            else { return self }
            return ParsedConninfo(options: service.merging(options) { _, own in own })
        }

        var description: String {
            let environment = ProcessInfo.processInfo.environment
            let host = options["host"] ?? options["hostaddr"] ?? environment["PGHOST"] ?? "local socket"
            let port = options["port"] ?? environment["PGPORT"]
            let database = options["dbname"] ?? environment["PGDATABASE"]
            let user = options["user"] ?? environment["PGUSER"]
            var text = "postgres " + host + (port.map { ":\($0)" } ?? "")
            if let service = options["service"] ?? environment["PGSERVICE"] { text += " service \(service)" }
            if let database { text += "/\(database)" }
            if let user { text += " as \(user)" }
            return text
        }
    }

    /// Parses a connection string or URI with `PQconninfoParse`.
    static func parse(_ conninfo: String) throws -> ParsedConninfo {
        var message: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &message) else {
            let reason = message.map { String(cString: $0).trimmingCharacters(in: .whitespacesAndNewlines) }
            if let message { PQfreemem(message) }
            throw SyncError(
                .configuration, "the connection string cannot be read: \(reason ?? "out of memory")",
                hint: "write key=value pairs (host=db.example.com dbname=hr user=sync) or a postgresql:// URI")
        }
        defer { PQconninfoFree(options) }
        var values: [String: String] = [:]
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val { values[String(cString: keyword)] = String(cString: value) }
            option += 1
        }
        return ParsedConninfo(options: values)
    }
}

/// libpq's connection service file (`pg_service.conf`): the user's
/// (`PGSERVICEFILE`, or `~/.pg_service.conf`) first, then the system's
/// (`PGSYSCONFDIR/pg_service.conf`; Debian's libpq looks in `/etc/postgresql-common`).
enum ServiceFile {
    /// The settings of service `name`, or `nil` when no service file defines it.
    static func options(of name: String, environment: [String: String]) -> [String: String]? {
        let user = environment["PGSERVICEFILE"] ?? environment["HOME"].map { $0 + "/.pg_service.conf" }
        let system = (environment["PGSYSCONFDIR"] ?? "/etc/postgresql-common") + "/pg_service.conf"
        for path in [user, system].compactMap({ $0 }) {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
            if let found = section(name, in: text) { return found }
        }
        return nil
    }

    /// The `key=value` lines of `[name]` in an INI-style text.
    static func section(_ name: String, in text: String) -> [String: String]? {
        var current: String?
        var found: [String: String]?
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                current = String(line.dropFirst().dropLast())
                if current == name && found == nil { found = [:] }
                continue
            }
            guard current == name, let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            found?[key] = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        }
        return found
    }
}
