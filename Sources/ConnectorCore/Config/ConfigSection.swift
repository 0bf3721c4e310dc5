import Foundation

/// Reads one mapping of the config, remembering which keys were used, so that
/// ``finish()`` can report any key nobody asked for (a typo) by name and line.
public final class ConfigSection {
    /// The mapping node this section reads.
    public let node: ConfigNode
    private let pairs: [(key: String, node: ConfigNode)]
    private var used: Set<String> = []

    init(node: ConfigNode, pairs: [(key: String, node: ConfigNode)]) {
        self.node = node
        self.pairs = pairs
    }

    /// The keys present, in file order.
    public var keys: [String] { pairs.map(\.key) }

    /// The node under `key`, or `nil` when absent or written as null.
    public func node(_ key: String) -> ConfigNode? {
        used.insert(key)
        guard let node = pairs.first(where: { $0.key == key })?.node else { return nil }
        if case .null = node.value { return nil }
        return node
    }

    /// Whether `key` is present.
    public func has(_ key: String) -> Bool { pairs.contains { $0.key == key } }

    /// A nested section, or `nil` when absent.
    public func section(_ key: String) throws -> ConfigSection? {
        try node(key)?.section()
    }

    /// Text under `key`, or `nil`.
    public func string(_ key: String) throws -> String? {
        try node(key)?.text()
    }

    /// Text under `key`, which must be present and not empty.
    public func requiredString(_ key: String, hint: String? = nil) throws -> String {
        guard let text = try string(key), !text.isEmpty else {
            throw SyncError.config("`\(path(key))` is required", at: node.location, hint: hint)
        }
        return text
    }

    /// One value or a list of values under `key`, or `nil`.
    public func strings(_ key: String) throws -> [String]? {
        try node(key)?.texts()
    }

    /// A whole number under `key` within `range`, or `nil`.
    public func int(_ key: String, in range: ClosedRange<Int> = Int.min...Int.max) throws -> Int? {
        guard let item = node(key) else { return nil }
        guard let value = Int(try item.text()), range.contains(value) else {
            throw item.error("must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// A number under `key` within `range`, or `nil`.
    public func double(_ key: String, in range: ClosedRange<Double>) throws -> Double? {
        guard let item = node(key) else { return nil }
        guard let value = Double(try item.text()), range.contains(value) else {
            throw item.error("must be a number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// `true`/`false` (also `yes`/`no`, `on`/`off`) under `key`, or `nil`.
    public func bool(_ key: String) throws -> Bool? {
        guard let item = node(key) else { return nil }
        switch try item.text().lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw item.error("must be true or false")
        }
    }

    /// One of `choices` under `key`, or `nil`.
    public func choice(_ key: String, _ choices: [String]) throws -> String? {
        guard let item = node(key) else { return nil }
        let text = try item.text()
        guard choices.contains(text) else {
            throw item.error("must be one of \(choices.joined(separator: ", ")), not \"\(text)\"")
        }
        return text
    }

    /// A duration such as `90s`, `15m`, `72h` or `7d` under `key`, or `nil`.
    public func duration(_ key: String) throws -> Duration? {
        guard let item = node(key) else { return nil }
        guard let value = Duration(configText: try item.text()) else {
            throw item.error("must be a duration such as 90s, 15m, 72h or 7d, at most 3650d")
        }
        return value
    }

    /// A file path under `key`, resolved against the config file's folder; or `nil`.
    public func path(_ key: String, relativeTo folder: String) throws -> String? {
        guard let text = try string(key) else { return nil }
        return ConfigPaths.resolve(text, relativeTo: folder)
    }

    /// A secret written as `NAME_env` (an environment variable), `NAME_file` (a file),
    /// `NAME_credential` (a systemd credential) or `NAME_secret` (a name the job's secrets command answers for).
    ///
    /// Writing the secret itself under `NAME` is refused: secrets never sit in config files.
    /// - Returns: where to read the secret from, or `nil` when none of the keys is present.
    public func secret(_ name: String, relativeTo folder: String) throws -> SecretReference? {
        if let literal = pairs.first(where: { $0.key == name }) {
            used.insert(name)
            throw literal.node.error(
                "holds a secret in the config file",
                hint:
                    "remove it and write `\(name)_env: VARIABLE`, `\(name)_file: /path/to/file`, `\(name)_credential: NAME` or `\(name)_secret: NAME` (a secrets command) instead"
            )
        }
        let given: [SecretReference] = [
            try string("\(name)_env").map(SecretReference.environment),
            try path("\(name)_file", relativeTo: folder).map(SecretReference.file),
            try credential("\(name)_credential").map(SecretReference.credential),
            try string("\(name)_secret").map(SecretReference.store),
        ].compactMap { $0 }
        guard given.count <= 1 else {
            throw SyncError.config(
                "more than one of `\(path(name))_env`, `_file`, `_credential` and `_secret` is set", at: node.location,
                hint: "keep one of them")
        }
        return given.first
    }

    /// A systemd credential's name: a file name, no folder.
    private func credential(_ key: String) throws -> String? {
        guard let name = try string(key) else { return nil }
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
            throw self.node(key)!.error(
                "must name a credential of the unit, such as client-secret (LoadCredential=client-secret:/path)")
        }
        return name
    }

    /// Fails on any key no reader asked for, naming it and its line.
    /// - Throws: ``SyncError`` for the first unknown key.
    public func finish() throws {
        for (key, item) in pairs where !used.contains(key) {
            let known = used.sorted().joined(separator: ", ")
            throw SyncError(
                .configuration, "\(item.location.file):\(item.location.line): unknown key `\(path(key))`",
                hint: known.isEmpty ? "remove it" : "check its spelling; keys here are: \(known)")
        }
    }

    /// The dotted path of a key of this section.
    public func path(_ key: String) -> String {
        node.path.isEmpty ? key : "\(node.path).\(key)"
    }
}

/// Path resolution for config values.
public enum ConfigPaths {
    /// `path` itself when absolute (after `~/` expansion), else `path` under `folder`.
    public static func resolve(_ path: String, relativeTo folder: String) -> String {
        if path.hasPrefix("/") { return path }
        if path.hasPrefix("~/"), let home = ProcessInfo.processInfo.environment["HOME"] {
            return home + path.dropFirst()
        }
        return URL(fileURLWithPath: folder).appendingPathComponent(path).standardizedFileURL.path
    }
}

extension Duration {
    /// The duration in seconds.
    package var seconds: TimeInterval {
        let (s, atto) = components
        return TimeInterval(s) + TimeInterval(atto) / 1e18
    }

    /// The longest duration a config or command line may say: ten years.
    package static let longestConfigured = Duration.seconds(3650 * 86400)

    /// Parses `90s`, `15m`, `72h`, `7d` (also `0`), at most ten years; `nil` for anything else.
    package init?(configText text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed == "0" { self = .zero; return }
        guard let unit = trimmed.last, let amount = Int(trimmed.dropLast()), amount >= 0 else { return nil }
        let scale: Int
        switch unit {
        case "s": scale = 1
        case "m": scale = 60
        case "h": scale = 3600
        case "d": scale = 86400
        default: return nil
        }
        let (seconds, overflow) = amount.multipliedReportingOverflow(by: scale)
        guard !overflow, Duration.seconds(seconds) <= Self.longestConfigured else { return nil }
        self = .seconds(seconds)
    }
}
