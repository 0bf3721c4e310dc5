/// An error a run can end with, written for the person who runs the tool.
///
/// Every message says what was wrong and where (file and line, record, field);
/// ``hint`` says what to do. Neither ever holds a secret or a sensitive value.
public struct SyncError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What part of the run failed; it decides the exit status.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case configuration, source, snapshot, guardStopped, api, refused, tooLarge, unconfirmed, rejected, io,
                locked
        }
        private let base: Base

        /// The config file or the command line is wrong (exit 2).
        public static let configuration = Kind(base: .configuration)
        /// The source could not be read whole (exit 1).
        public static let source = Kind(base: .source)
        /// The snapshot could not be opened, read or written (exit 1).
        public static let snapshot = Kind(base: .snapshot)
        /// A guard stopped the run before anything was sent (exit 3).
        public static let guardStopped = Kind(base: .guardStopped)
        /// The Compliance API refused or failed (exit 1).
        public static let api = Kind(base: .api)
        /// The API refused one request for good (400, 409, 413, 422): it applied nothing of it,
        /// and sending it again unchanged will not help (exit 1 when it ends a run).
        public static let refused = Kind(base: .refused)
        /// The API refused one request as too large (413): it applied nothing of it (exit 1 when it ends a run).
        public static let tooLarge = Kind(base: .tooLarge)
        /// The API refused a request that an earlier attempt of (a timeout, a reset, a 5xx) may
        /// have applied: whether it did cannot be known, so its rows are sent again next run (exit 1
        /// when it ends a run).
        public static let unconfirmed = Kind(base: .unconfirmed)
        /// The run finished but the API rejected some rows (exit 4).
        public static let rejected = Kind(base: .rejected)
        /// A local file could not be read or written (exit 1).
        public static let io = Kind(base: .io)
        /// Another run of the job holds its lock: this one was skipped (exit 5).
        public static let locked = Kind(base: .locked)

        public var description: String { base.rawValue }
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

    /// The process exit status this error maps to (see the command-line contract).
    public var exitCode: Int32 {
        switch kind {
        case .configuration: 2
        case .guardStopped: 3
        case .rejected: 4
        case .locked: 5
        default: 1
        }
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

extension SyncError {
    /// A snapshot that holds something it cannot have written: the one remedy is the same everywhere.
    /// - Parameters:
    ///   - snapshot: the snapshot, as it describes itself.
    ///   - problem: what is damaged (`the stored fields of E1001 are damaged`).
    public static func damagedSnapshot(_ snapshot: String, _ problem: String) -> SyncError {
        SyncError(
            .snapshot, "\(snapshot): \(problem)",
            hint: "restore the snapshot from backup, or run `sync --full` to rebuild it")
    }
}
