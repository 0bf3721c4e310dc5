import Foundation
import Synchronization

/// Records produced by blocking code on a thread of its own, delivered to an
/// async consumer in chunks, with backpressure.
///
/// Use it to wrap a blocking reader (a C library, `read(2)`) without tying up
/// Swift's cooperative thread pool. The producer runs when the first record is
/// asked for; it blocks in ``RecordEmitter/emit(_:)`` while the consumer is a
/// few chunks behind, so memory stays bounded. An error the producer throws
/// reaches the consumer after the records emitted before it. When the consumer
/// stops iterating (or its task is cancelled) the next `emit` throws
/// `CancellationError`, so the producer can close its resources.
public struct ThreadedRecordStream: ChunkedRecordSequence, Sendable {
    public typealias Element = SourceRecord
    public typealias Failure = any Error

    private let name: String
    private let chunkSize: Int
    private let produce: @Sendable (RecordEmitter) throws -> Void

    /// Creates the stream; nothing runs until the first record is asked for.
    /// - Parameters:
    ///   - name: the producer thread's name, for debugging.
    ///   - chunkSize: records handed over at a time.
    ///   - produce: reads every record and passes each to the emitter; throws to fail the read.
    public init(name: String, chunkSize: Int = 2048, produce: @escaping @Sendable (RecordEmitter) throws -> Void) {
        self.name = name
        self.chunkSize = Swift.max(1, chunkSize)
        self.produce = produce
    }

    public func makeChunkIterator() -> Iterator { makeAsyncIterator() }

    public func makeAsyncIterator() -> Iterator {
        Iterator(
            channel: Channel(),
            start: { [name, chunkSize, produce] channel in
                let thread = Thread {
                    let emitter = RecordEmitter(channel: channel, chunkSize: chunkSize)
                    do {
                        try produce(emitter)
                        emitter.flush()
                        channel.finish(nil)
                    } catch {
                        emitter.flush()
                        channel.finish(error)
                    }
                }
                thread.name = name
                thread.stackSize = 1 << 22
                thread.start()
            })
    }

    /// Hands records to the consumer of a ``ThreadedRecordStream``.
    ///
    /// Safety: used by the producer's thread alone (its `chunk` is that thread's);
    /// what it shares goes through ``Channel``, which locks.
    public final class RecordEmitter: @unchecked Sendable {
        private let channel: Channel
        private let chunkSize: Int
        private var chunk: [SourceRecord] = []

        fileprivate init(channel: Channel, chunkSize: Int) {
            self.channel = channel
            self.chunkSize = chunkSize
            chunk.reserveCapacity(chunkSize)
        }

        /// Passes one record on; blocks while the consumer is behind.
        /// - Throws: `CancellationError` once the consumer has stopped.
        public func emit(_ record: consuming SourceRecord) throws {
            chunk.append(record)
            if chunk.count >= chunkSize { try send() }
        }

        /// Whether the consumer has stopped; a producer may poll it between slow calls.
        public var isCancelled: Bool { channel.isCancelled }

        fileprivate func flush() {
            if !chunk.isEmpty { try? send() }
        }

        private func send() throws {
            let full = chunk
            chunk = []
            chunk.reserveCapacity(chunkSize)
            try channel.push(full)
        }
    }

    /// The consumer's side.
    public struct Iterator: AsyncIteratorProtocol, RecordChunkIterator {
        public typealias Element = SourceRecord
        public typealias Failure = any Error

        private let handle: Handle
        private var chunk: [SourceRecord] = []
        private var index = 0

        fileprivate init(channel: Channel, start: @escaping @Sendable (Channel) -> Void) {
            handle = Handle(channel: channel, start: start)
        }

        /// Takes chunks back from consumers done with them, to be freed on the producer's thread.
        public var recycler: (any RecordRecycler)? { Recycler(channel: handle.channel) }

        /// The records not yet returned, a chunk at a time (the chunks the producer emitted):
        /// for consumers that work in batches anyway. `nil` at the end.
        public mutating func nextChunk() async throws -> [SourceRecord]? {
            if index < chunk.count {
                defer { chunk = []; index = 0 }
                return index == 0 ? chunk : Array(chunk[index...])
            }
            handle.startIfNeeded()
            return try await handle.channel.pop()
        }

        public mutating func next() async throws -> SourceRecord? {
            if index < chunk.count {
                defer { index += 1 }
                return chunk[index]
            }
            handle.startIfNeeded()
            guard let next = try await handle.channel.pop() else { return nil }
            chunk = next
            index = 1
            return next[0]
        }
    }

    /// Takes chunks of records back from a consumer that is done with them, so that
    /// the producer's thread frees them.
    ///
    /// Memory is then freed by the thread that allocated it. When another thread
    /// frees it, glibc's malloc takes the allocating thread's arena lock, and the
    /// two threads contend for that lock on every record: 5,000 to 16,000
    /// voluntary context switches in a plan of a million rows, 450 with this.
    public struct Recycler: RecordRecycler {
        fileprivate let channel: Channel

        /// Hands a chunk back; pass the last reference to it (`consume`), or it is not freed there.
        public func giveBack(_ chunk: consuming [SourceRecord]) {
            channel.giveBack(chunk)
        }
    }

    /// Starts the producer once and stops it when the iterator is dropped.
    private final class Handle: Sendable {
        let channel: Channel
        private let start: @Sendable (Channel) -> Void
        private let started = Once()

        init(channel: Channel, start: @escaping @Sendable (Channel) -> Void) {
            self.channel = channel
            self.start = start
        }

        func startIfNeeded() {
            if started.claim() { start(channel) }
        }

        deinit { channel.cancel() }
    }
}

/// A flag that lets exactly one caller through.
final class Once: Sendable {
    private let done = Atomic<Bool>(false)

    func claim() -> Bool {
        done.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
    }
}
