import Logging

/// What a connector gets to build its source from.
public struct SourceContext: Sendable {
    /// The folder relative paths resolve against (the config file's).
    public var folder: String
    /// Every attribute the job reads of this source's records (its mapping, `dates:`, `include:` and
    /// `exclude:`, a join's key), for sources that fetch only what is needed.
    public var mappedAttributes: [String]
    /// Where the connector should log.
    public var logger: Logger

    /// Creates a context.
    public init(folder: String, mappedAttributes: [String], logger: Logger) {
        self.folder = folder
        self.mappedAttributes = mappedAttributes
        self.logger = logger
    }
}

/// A kind of source, found by the `type:` of a config's `source:` section.
///
/// Conform a type (usually the source itself) and list it in the
/// ``ConnectorRegistry`` the command line is started with.
public protocol SourceConnector: Sendable {
    /// The `type:` that selects this connector, such as `csv`.
    static var type: String { get }
    /// One line for `compliance-sync connectors`.
    static var summary: String { get }
    /// Builds a source from its config section.
    /// - Parameters:
    ///   - section: the `source:` section; read every key you support, then call `finish()`.
    ///   - context: the config's folder, the mapped attributes and a logger.
    /// - Throws: ``SyncError`` (kind `.configuration`) for a bad setting, naming it.
    static func makeSource(section: ConfigSection, context: SourceContext) throws -> any UserSource
}

/// The connectors a command line knows, by type.
public struct ConnectorRegistry: Sendable {
    private var connectors: [any SourceConnector.Type] = []

    /// An empty registry.
    public init() {}

    /// A registry holding `connectors`; a later one with the same type replaces an earlier.
    public init(_ connectors: [any SourceConnector.Type]) {
        for connector in connectors { register(connector) }
    }

    /// Adds a connector, replacing any with the same type.
    public mutating func register(_ connector: any SourceConnector.Type) {
        connectors.removeAll { $0.type == connector.type }
        connectors.append(connector)
    }

    /// Adds every connector of another registry.
    public mutating func merge(_ other: ConnectorRegistry) {
        for connector in other.connectors { register(connector) }
    }

    /// The known types and their summaries, sorted by type.
    public var types: [(type: String, summary: String)] {
        connectors.map { ($0.type, $0.summary) }.sorted { $0.type < $1.type }
    }

    /// The connector for a `type:`, if the registry has one.
    public func connector(ofType type: String) -> (any SourceConnector.Type)? {
        connectors.first { $0.type == type }
    }
}
