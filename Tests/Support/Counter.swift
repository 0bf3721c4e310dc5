import Synchronization

/// A count of calls, safe from any thread: `next()` returns 1, 2, 3…
public final class Counter: Sendable {
    private let value = Atomic<Int>(0)

    public init() {}

    /// Counts one more call and returns the count.
    public func next() -> Int { value.add(1, ordering: .relaxed).newValue }
}
