/// The records of a run, in source order, stored in fixed-size chunks so that
/// growing to millions never copies what is already there.
struct CandidateList: RandomAccessCollection {
    /// Candidates a chunk holds; a batch of this many, appended on a chunk boundary, is kept whole.
    static let chunkSize = 1 << shift
    private static let shift = 11
    private var chunks: [[Differ.Candidate]] = []
    private(set) var count = 0

    var startIndex: Int { 0 }
    var endIndex: Int { count }

    subscript(position: Int) -> Differ.Candidate {
        // perf: Yielded, not returned: reading one field (`candidates[i].id`, a million times in a sort)
        // must not copy, retain and release the whole candidate.
        _read { yield chunks[position >> Self.shift][position & (Self.chunkSize - 1)] }
        _modify { yield &chunks[position >> Self.shift][position & (Self.chunkSize - 1)] }
    }

    mutating func append(_ candidate: Differ.Candidate) {
        if count & (Self.chunkSize - 1) == 0 {
            chunks.append([])
            chunks[chunks.count - 1].reserveCapacity(Self.chunkSize)
        }
        chunks[chunks.count - 1].append(candidate)
        count += 1
    }

    /// Appends a batch; a whole chunk's worth, arriving on a chunk boundary, is kept as it is, not copied.
    mutating func append(contentsOf batch: [Differ.Candidate]) {
        if batch.count == Self.chunkSize && count & (Self.chunkSize - 1) == 0 {
            chunks.append(batch)
            count += batch.count
        } else {
            for i in batch.indices { append(batch[i]) }
        }
    }
}
