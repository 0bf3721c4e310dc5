/// A place in a config file, for error messages: `job.yml:12:5`.
public struct ConfigLocation: Sendable, Hashable, CustomStringConvertible {
    /// The file, as the user named it.
    public var file: String
    /// 1-based line.
    public var line: Int
    /// 1-based column.
    public var column: Int

    /// Creates a location.
    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// A parsed config document: scalars, mappings and sequences, each with its location.
///
/// The YAML reader builds it; ``ConfigSection`` reads it with checks and
/// messages that name the key and line.
public struct ConfigNode: Sendable {
    /// The shapes a node can have.
    public indirect enum Value: Sendable {
        /// A scalar, as written (after `${VAR}` expansion).
        case scalar(String)
        /// An explicit null (`~`, `null` or nothing).
        case null
        /// Key/value pairs in file order.
        case mapping([(key: String, node: ConfigNode)])
        /// Items in file order.
        case sequence([ConfigNode])
    }

    /// The node's content.
    public var value: Value
    /// Where it was written.
    public var location: ConfigLocation
    /// Its dotted path from the document root, such as `source.path` or `mapping.email.transform[1]`.
    public var path: String

    /// Creates a node.
    public init(_ value: Value, location: ConfigLocation, path: String) {
        self.value = value
        self.location = location
        self.path = path
    }

    /// The scalar text, or `nil` for other shapes.
    public var scalar: String? {
        if case .scalar(let text) = value { return text }
        return nil
    }

    /// What this node is, in words, for messages.
    var kindName: String {
        switch value {
        case .scalar: "a single value"
        case .null: "empty"
        case .mapping: "a mapping (key: value lines)"
        case .sequence: "a list"
        }
    }

    /// An error about this node.
    public func error(_ message: String, hint: String? = nil) -> SyncError {
        .config("`\(path)` \(message)", at: location, hint: hint)
    }

    /// Reads this node as a mapping whose keys are checked by ``ConfigSection/finish()``.
    /// - Throws: ``SyncError`` when the node is not a mapping.
    public func section() throws -> ConfigSection {
        guard case .mapping(let pairs) = value else {
            throw error("must be a mapping (key: value lines), not \(kindName)")
        }
        return ConfigSection(node: self, pairs: pairs)
    }

    /// Reads this node as text.
    /// - Throws: ``SyncError`` when it is a list or a mapping.
    public func text() throws -> String {
        guard let scalar else { throw error("must be a single value, not \(kindName)") }
        return scalar
    }

    /// Reads this node as one value or a list of values.
    public func texts() throws -> [String] {
        switch value {
        case .scalar(let text): return [text]
        case .null: return []
        case .sequence(let items): return try items.map { try $0.text() }
        case .mapping: throw error("must be a value or a list of values, not \(kindName)")
        }
    }
}
