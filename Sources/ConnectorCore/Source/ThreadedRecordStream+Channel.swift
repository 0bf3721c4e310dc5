import Foundation
import Synchronization

extension ThreadedRecordStream {
    /// A bounded queue of chunks between one producer thread and one async consumer.
    ///
    ///     producer thread                               consumer task
    ///     push(chunk) ──▶ [ queue: at most 4 chunks ] ──▶ pop()
    ///       waits while full (unless                      suspends while empty
    ///       the consumer is waiting:                      (one waiter at a time)
    ///       then handed over directly)
    ///     finish(error?) ──▶ finished ──────────────────▶ pop() returns nil, or throws the error
    ///     push() throws CancellationError ◀── cancelled ◀── cancel() (the consumer is gone)
    ///     frees them on its next push/finish ◀── spent ◀── giveBack(chunk) (the Recycler)
    ///
    /// Safety: every mutable property is read and written only with `condition` locked;
    /// the consumer's continuation is resumed after the lock is let go.
    final class Channel: @unchecked Sendable {
        private let condition = NSCondition()
        private var queue: [[SourceRecord]] = []
        private var head = 0
        private var finished = false
        private var failure: (any Error)?
        private var cancelled = false
        private var waiter: CheckedContinuation<[SourceRecord]?, any Error>?
        private var spent: [[SourceRecord]] = []
        private let capacity = 4

        var isCancelled: Bool {
            condition.lock()
            defer { condition.unlock() }
            return cancelled
        }

        func push(_ chunk: [SourceRecord]) throws {
            condition.lock()
            // Freed below, on this (the producer's) thread, outside the lock.
            var spent: [[SourceRecord]] = []
            swap(&spent, &self.spent)
            defer { withExtendedLifetime(spent) {} }
            while !cancelled && queue.count - head >= capacity && waiter == nil {
                condition.wait()
            }
            if cancelled {
                condition.unlock()
                throw CancellationError()
            }
            if let waiter {
                self.waiter = nil
                condition.unlock()
                waiter.resume(returning: chunk)
                return
            }
            queue.append(chunk)
            condition.unlock()
        }

        func giveBack(_ chunk: consuming [SourceRecord]) {
            condition.lock()
            if !finished && !cancelled { spent.append(chunk) }
            condition.unlock()
        }

        func finish(_ error: (any Error)?) {
            condition.lock()
            var spent: [[SourceRecord]] = []
            swap(&spent, &self.spent)
            defer { withExtendedLifetime(spent) {} }
            finished = true
            failure = error
            let waiter = self.waiter
            self.waiter = nil
            condition.unlock()
            if let error { waiter?.resume(throwing: error) } else { waiter?.resume(returning: nil) }
        }

        func cancel() {
            condition.lock()
            cancelled = true
            let waiter = self.waiter
            self.waiter = nil
            condition.broadcast()
            condition.unlock()
            waiter?.resume(throwing: CancellationError())
        }

        func pop() async throws -> [SourceRecord]? {
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    condition.lock()
                    if head < queue.count {
                        // Moved out, so the chunk is freed as soon as the consumer is done with it.
                        let chunk = queue[head]
                        queue[head] = []
                        head += 1
                        if head > 64 { queue.removeFirst(head); head = 0 }
                        condition.signal()
                        condition.unlock()
                        continuation.resume(returning: chunk)
                    } else if finished || cancelled {
                        let error = cancelled ? CancellationError() : failure
                        condition.unlock()
                        if let error {
                            continuation.resume(throwing: error)
                        } else {
                            continuation.resume(returning: nil)
                        }
                    } else {
                        waiter = continuation
                        condition.signal()
                        condition.unlock()
                    }
                }
            } onCancel: {
                cancel()
            }
        }
    }
}
