/// A record sequence that can also hand its records over a chunk at a time.
///
/// The planner prepares records in batches on worker tasks; a source whose
/// records arrive in chunks anyway (``ThreadedRecordStream`` does) adopts this
/// so that each chunk is passed on whole instead of record by record. Any
/// source may adopt it; one that does not is read with its ordinary iterator.
public protocol ChunkedRecordSequence: AsyncSequence<SourceRecord, any Error> {
    /// The iterator ``makeChunkIterator()`` returns.
    associatedtype ChunkIterator: RecordChunkIterator

    /// Starts a read of every record, a chunk at a time.
    func makeChunkIterator() -> ChunkIterator
}

/// Reads a ``ChunkedRecordSequence`` a chunk at a time.
public protocol RecordChunkIterator {
    /// The next records in source order; never an empty chunk; `nil` at the end.
    /// - Throws: the source's error, after every chunk read before it.
    mutating func nextChunk() async throws -> [SourceRecord]?

    /// Where the consumer hands chunks back once it is done with them, when the
    /// producer wants to free them itself; `nil` (the default) when it does not.
    var recycler: (any RecordRecycler)? { get }
}

extension RecordChunkIterator {
    /// No recycler: chunks are freed wherever their consumer drops them.
    public var recycler: (any RecordRecycler)? { nil }
}

/// Takes chunks of records back from a consumer that is done with them.
public protocol RecordRecycler: Sendable {
    /// Hands a chunk back; pass the last reference to it (`consume`), or it is not freed there.
    func giveBack(_ chunk: consuming [SourceRecord])
}
