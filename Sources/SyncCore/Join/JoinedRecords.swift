import ConnectorCore

/// A read of a ``JoinedSource``: every source is read whole at the first request, then the
/// primary's records are merged and handed over a chunk at a time, so that merging one chunk
/// overlaps with the engine preparing the last.
public struct JoinedRecords: ChunkedRecordSequence {
    let source: JoinedSource

    public func makeChunkIterator() -> ChunkIterator { ChunkIterator(source: source) }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(chunks: makeChunkIterator()) }

    /// Merges the next chunk of primary records at each request.
    public struct ChunkIterator: RecordChunkIterator {
        let source: JoinedSource
        private var read: (people: [SourceRecord], indexes: [JoinedSource.Index])?
        private var used: [Set<Int>] = []
        private var schemas: SchemaCache
        private var position = 0

        init(source: JoinedSource) {
            self.source = source
            schemas = SchemaCache(primaryName: source.primaryName, joined: source.joined.map(\.member.name))
        }

        public mutating func nextChunk() async throws -> [SourceRecord]? {
            if read == nil {
                let everything = try await source.readEverything()
                used = everything.indexes.map { Set(minimumCapacity: $0.records.count) }
                read = everything
            }
            guard let (people, indexes) = read else { return nil }
            guard position < people.count else {
                if position == people.count {
                    try source.finish(people: people.count, indexes: indexes, used: used)
                    position += 1
                }
                return nil
            }
            try Task.checkCancellation()
            let end = Swift.min(position + CandidateList.chunkSize, people.count)
            var chunk: [SourceRecord] = []
            chunk.reserveCapacity(end - position)
            for i in position..<end {
                chunk.append(source.merge(people[i], indexes: indexes, used: &used, schemas: &schemas))
            }
            position = end
            return chunk
        }
    }

    /// The same, a record at a time.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var chunks: ChunkIterator
        private var chunk: [SourceRecord] = []
        private var index = 0

        init(chunks: ChunkIterator) { self.chunks = chunks }

        public mutating func next() async throws -> SourceRecord? {
            while index == chunk.count {
                guard let next = try await chunks.nextChunk() else { return nil }
                (chunk, index) = (next, 0)
            }
            index += 1
            return chunk[index - 1]
        }
    }
}
