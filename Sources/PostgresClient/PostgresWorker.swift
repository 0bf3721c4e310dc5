import ConnectorCore
import Dispatch

/// A connection kept on a serial queue of its own, for async callers.
///
/// libpq blocks; the calls run on the worker's queue, never on Swift's
/// cooperative threads, one at a time, so the connection is never used by two
/// threads at once.
///
/// Safety: the connection (not `Sendable`: a libpq handle) is touched only inside
/// blocks run on `queue`, a serial queue, so never by two threads at once; the
/// other properties are `let`s of `Sendable` types.
public final class PostgresWorker: @unchecked Sendable {
    private let queue: DispatchQueue
    /// Touched only on `queue`.
    private let connection: PostgresConnection
    /// Where the connection goes, for messages.
    public let server: String

    private init(queue: DispatchQueue, connection: PostgresConnection) {
        self.queue = queue
        self.connection = connection
        server = connection.server
    }

    /// Connects on a new worker queue.
    /// - Parameters:
    ///   - settings: where and how.
    ///   - kind: the kind of error the connection reports.
    public static func connect(_ settings: PostgresSettings, kind: SyncError.Kind) async throws -> PostgresWorker {
        let queue = DispatchQueue(label: "compliance-sync.postgres")
        let box = try await perform(on: queue) { UncheckedBox(try PostgresConnection(settings, kind: kind)) }
        return PostgresWorker(queue: queue, connection: box.value)
    }

    /// Runs `body` with the connection on the worker's queue.
    public func run<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        let connection = UncheckedBox(connection)
        return try await Self.perform(on: queue) { try body(connection.value) }
    }

    private static func perform<T: Sendable>(
        on queue: DispatchQueue, _ body: @escaping @Sendable () throws -> T
    ) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }
}

/// Carries a value that is used on one queue only across a `Sendable` boundary.
///
/// Safety: used only to hand the connection to and from blocks on the worker's serial queue.
private struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
