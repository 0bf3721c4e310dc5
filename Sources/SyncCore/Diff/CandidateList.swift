/// The records of a run, in source order, stored in fixed-size chunks so that
/// growing to millions never copies what is already there.
struct CandidateList: RandomAccessCollection {
    private static let shift = 12
    private static let chunkSize = 1 << shift
    private var chunks: [[Differ.Candidate]] = []
    private(set) var count = 0

    var startIndex: Int { 0 }
    var endIndex: Int { count }

    subscript(position: Int) -> Differ.Candidate {
        // Yielded, not returned: reading one field (`candidates[i].id`, a million times in a sort)
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
}
