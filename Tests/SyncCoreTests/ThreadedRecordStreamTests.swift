import ConnectorCore
import Foundation
import Testing

@testable import SyncCore

@Suite struct ThreadedRecordStreamTests {
    struct Broken: Error {}

    func record(_ i: Int) -> SourceRecord { SourceRecord(id: "\(i)", attributes: [:]) }

    @Test func deliversEveryRecordInOrder() async throws {
        let stream = ThreadedRecordStream(name: "test", chunkSize: 7) { emitter in
            for i in 0..<10_000 { try emitter.emit(record(i)) }
        }
        var ids: [String] = []
        for try await record in stream { ids.append(record.id) }
        #expect(ids == (0..<10_000).map(String.init))
    }

    @Test func anErrorArrivesAfterTheRecordsBeforeIt() async throws {
        let stream = ThreadedRecordStream(name: "test", chunkSize: 4) { emitter in
            for i in 0..<10 { try emitter.emit(record(i)) }
            throw Broken()
        }
        var seen = 0
        await #expect(throws: Broken.self) {
            for try await _ in stream { seen += 1 }
        }
        #expect(seen == 10)
    }

    @Test func stoppingEarlyCancelsTheProducer() async throws {
        let finished = Finished()
        let stream = ThreadedRecordStream(name: "test", chunkSize: 2) { emitter in
            do {
                for i in 0..<1_000_000 { try emitter.emit(record(i)) }
                finished.set("completed")
            } catch is CancellationError {
                finished.set("cancelled")
                throw CancellationError()
            }
        }
        do {
            var iterator = stream.makeAsyncIterator()
            for _ in 0..<5 { _ = try await iterator.next() }
        }
        for _ in 0..<200 where finished.value == nil { try await Task.sleep(for: .milliseconds(10)) }
        #expect(finished.value == "cancelled")
    }

    @Test func chunksGivenBackAreFreedOnTheProducerThread() async throws {
        // Each record holds bytes whose deallocator notes the thread that frees them.
        let frees = Finished()
        let stream = ThreadedRecordStream(name: "test", chunkSize: 10) { emitter in
            frees.set("producer \(pthread_self())")
            for i in 0..<1_000 {
                // Large enough that Data keeps these bytes rather than copying small ones inline.
                let bytes = UnsafeMutableRawPointer.allocate(byteCount: 256, alignment: 8)
                let data = Data(
                    bytesNoCopy: bytes, count: 256,
                    deallocator: .custom { pointer, _ in
                        frees.note(pthread_self())
                        pointer.deallocate()
                    })
                try emitter.emit(SourceRecord(id: "\(i)", attributes: ["photo": .binary(data)]))
            }
        }
        var iterator = stream.makeAsyncIterator()
        let recycler = iterator.recycler
        var count = 0
        while let chunk = try await iterator.nextChunk() {
            count += chunk.count
            recycler?.giveBack(consume chunk)
        }
        #expect(count == 1_000)
        for _ in 0..<200 where frees.freed.count < 1_000 { try await Task.sleep(for: .milliseconds(10)) }
        let producer = try #require(frees.value)
        let onProducer = frees.freed.filter { "producer \($0)" == producer }.count
        #expect(frees.freed.count == 1_000)
        // The last few chunks come back after the producer has finished; they are freed here.
        #expect(onProducer >= 900, "\(onProducer) of 1,000 freed on the producer's thread")
    }

    /// What the producer's thread saw. Safety: its state is read and written under `lock` only.
    final class Finished: @unchecked Sendable {
        private let lock = NSLock()
        private var state: String?
        var value: String? { lock.withLock { state } }
        func set(_ value: String) { lock.withLock { state = value } }
        private var threads: [pthread_t] = []
        var freed: [pthread_t] { lock.withLock { threads } }
        func note(_ thread: pthread_t) { lock.withLock { threads.append(thread) } }
    }
}
