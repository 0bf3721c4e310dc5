import ConnectorCore
import Dispatch

/// A connection that lives on a serial queue of its own, for async callers.
///
/// libpq blocks. The worker is an actor whose executor is its own dispatch
/// queue: every call runs there, one at a time, never on Swift's cooperative
/// threads, and the compiler checks that the connection (not `Sendable`: a
/// libpq handle) never leaves the actor.
public actor PostgresWorker {
    private let executor: QueueExecutor
    private var connection: PostgresConnection?

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    private init() {
        executor = QueueExecutor(label: "compliance-sync.postgres")
    }

    /// Connects on a new worker.
    /// - Parameters:
    ///   - settings: where and how.
    ///   - kind: the kind of error the connection reports.
    public static func connect(_ settings: PostgresSettings, kind: SyncError.Kind) async throws -> PostgresWorker {
        let worker = PostgresWorker()
        try await worker.open(settings, kind: kind)
        return worker
    }

    /// Runs `body` with the connection, on the worker's queue.
    public func run<T: Sendable>(_ body: @Sendable (PostgresConnection) throws -> T) throws -> T {
        guard let connection else { preconditionFailure("PostgresWorker.run before connect") }
        return try body(connection)
    }

    private func open(_ settings: PostgresSettings, kind: SyncError.Kind) throws {
        connection = try PostgresConnection(settings, kind: kind)
    }
}

/// Runs an actor's jobs on a serial dispatch queue, one thread at a time, outside Swift's cooperative pool.
final class QueueExecutor: SerialExecutor {
    private let queue: DispatchQueue

    init(label: String) { queue = DispatchQueue(label: label) }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedSerialExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}
