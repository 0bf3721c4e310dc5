import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Stops a program that runs too long: SIGTERM at the deadline, SIGKILL five seconds later.
///
/// Safety: `done` and `fired` are read and written only with `condition` locked.
public final class Watchdog: @unchecked Sendable {
    private let condition = NSCondition()
    private var done = false
    private var fired = false

    /// Starts watching `program`, which may run `seconds`.
    public init(program: ChildProcess, seconds: Int) {
        let deadline = Date().addingTimeInterval(TimeInterval(seconds))
        Thread { [self] in
            condition.lock()
            while !done && condition.wait(until: deadline) {}
            if !done {
                fired = true
                program.kill(SIGTERM)
                let grace = Date().addingTimeInterval(5)
                while !done && condition.wait(until: grace) {}
                if !done { program.kill(SIGKILL) }
            }
            condition.unlock()
        }.start()
    }

    /// Stops watching.
    /// - Returns: whether the deadline had passed.
    @discardableResult
    public func cancel() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        done = true
        condition.broadcast()
        return fired
    }
}
