/// An error a run can end with, written for the person who runs the tool.
///
/// Every message says what was wrong and where (file and line, record, field);
/// ``hint`` says what to do. Neither ever holds a secret or a sensitive value.
public struct SyncError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What part of the run failed. A connector reports ``configuration``, ``source`` or ``io``;
    /// the engine and the API client add kinds of their own (a snapshot, a guard, the API), and the
    /// command line maps each kind to its exit status.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private let name: String

        /// A kind of the given name; the engine declares its own kinds with it.
        package init(name: String) { self.name = name }

        /// The config file or the command line is wrong (exit 2).
        public static let configuration = Kind(name: "configuration")
        /// The source could not be read whole (exit 1).
        public static let source = Kind(name: "source")
        /// A local file could not be read or written (exit 1).
        public static let io = Kind(name: "io")

        public var description: String { name }
    }

    /// What part of the run failed.
    public var kind: Kind
    /// What was wrong and where.
    public var message: String
    /// What to do about it, when there is something to say.
    public var hint: String?
    /// The server's own words about the error (a database's message and `DETAIL`, a directory's
    /// diagnostic), which may quote a person's values: shown only in ``debugDescription``
    /// (`--log-level debug`, on this host), never in ``message``, so they never reach webhooks,
    /// the run history, `status` or metrics.
    public var serverText: String?
    /// The error underneath, when this one wraps another (a library's, the system's); shown
    /// only in ``debugDescription`` (`--log-level debug`), as it may say more than a user needs.
    public var underlying: (any Error)?

    /// Creates an error.
    /// - Parameters:
    ///   - kind: what part of the run failed.
    ///   - message: what was wrong and where; never a secret or a sensitive value.
    ///   - hint: what to do about it.
    ///   - underlying: the error this one wraps, if any.
    ///   - serverText: the server's own words, which may quote a person's values (see ``serverText``).
    public init(
        _ kind: Kind, _ message: String, hint: String? = nil, underlying: (any Error)? = nil, serverText: String? = nil
    ) {
        self.kind = kind
        self.message = message
        self.hint = hint
        self.underlying = underlying
        self.serverText = serverText
    }

    public var description: String {
        guard let hint else { return message }
        return "\(message)\n  hint: \(hint)"
    }

    /// The description, then the chain of underlying errors.
    public var debugDescription: String {
        var text = description
        if let serverText { text += "\n  the server said: \(serverText)" }
        var next = underlying
        while let error = next {
            text += "\n  caused by: \(String(reflecting: error))"
            next = (error as? SyncError)?.underlying
        }
        return text
    }
}

extension SyncError {
    /// A configuration error at a place in the config file.
    /// - Parameters:
    ///   - message: what is wrong.
    ///   - location: where; the message is prefixed with it.
    ///   - hint: what to do.
    public static func config(_ message: String, at location: ConfigLocation?, hint: String? = nil) -> SyncError {
        SyncError(.configuration, location.map { "\($0): \(message)" } ?? message, hint: hint)
    }
}
