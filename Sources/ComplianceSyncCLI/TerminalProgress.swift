import Foundation
import Synchronization

/// A progress line on standard error, redrawn in place at most five times a second, and only
/// when standard error is a terminal: never in a log file, a pipe or the journal.
final class TerminalProgress: Sendable {
    private struct State {
        var started = ContinuousClock.now
        var drawn: ContinuousClock.Instant?
        var visible = false
    }
    private let state = Mutex(State())

    /// A progress line, or `nil` when standard error is not a terminal (or logs are JSON).
    static func ifTerminal(logFormat: LogFormat) -> TerminalProgress? {
        isatty(2) == 1 && logFormat == .text && ProcessInfo.processInfo.environment["TERM"] != "dumb"
            ? TerminalProgress() : nil
    }

    /// ``read(_:)`` as the planner's progress callback.
    var onRead: @Sendable (Int) -> Void { { [self] in read($0) } }
    /// ``sent(_:of:)`` as the syncer's progress callback.
    var onSent: @Sendable (Int, Int) -> Void { { [self] in sent($0, of: $1) } }

    /// Records read so far, with the rate.
    func read(_ records: Int) {
        draw { elapsed in
            let rate = elapsed > 0 ? Int(Double(records) / elapsed) : 0
            return "read \(records.formatted()) records (\(rate.formatted())/s)"
        }
    }

    /// Batches sent of the total.
    func sent(_ batches: Int, of total: Int) {
        draw(force: batches == total) { _ in "sent \(batches) of \(total) batches" }
    }

    /// Clears the line, so that what follows starts clean.
    func finish() {
        state.withLock { state in
            if state.visible { Self.write("\r\u{1B}[K") }
            state.visible = false
        }
    }

    private func draw(force: Bool = false, _ text: (Double) -> String) {
        state.withLock { state in
            let now = ContinuousClock.now
            if !force, let drawn = state.drawn, now - drawn < .milliseconds(200) { return }
            state.drawn = now
            state.visible = true
            let elapsed = now - state.started
            Self.write(
                "\r\u{1B}[K  "
                    + text(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
        }
    }

    private static func write(_ text: String) {
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { _ = Foundation.write(2, $0.baseAddress, $0.count) }
    }
}
