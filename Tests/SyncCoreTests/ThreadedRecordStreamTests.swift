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

    final class Finished: @unchecked Sendable {
        private let lock = NSLock()
        private var state: String?
        var value: String? { lock.withLock { state } }
        func set(_ value: String) { lock.withLock { state = value } }
    }
}
