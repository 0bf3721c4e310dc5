import Foundation
import Logging

/// A log handler that keeps what is logged, for tests that check messages.
///
/// Safety: what is logged is kept under `lock`; `metadata` and `logLevel` are set before the
/// logger is shared (swift-log's handlers are values copied into each `Logger`).
public final class LogRecorder: LogHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [(level: Logger.Level, message: String)] = []
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .trace

    public init() {}

    /// A logger that writes here.
    public var logger: Logger { Logger(label: "test") { _ in self } }

    /// Every message, in order.
    public var messages: [String] { lock.withLock { stored.map(\.message) } }

    /// The messages at `warning` or above.
    public var warnings: [String] { lock.withLock { stored.filter { $0.level >= .warning }.map(\.message) } }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        lock.withLock { stored.append((event.level, "\(event.message)")) }
    }
}
