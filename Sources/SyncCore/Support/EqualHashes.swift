/// Finds the equal values among millions of 64-bit hashes, for duplicate
/// checks over every record of a run.
///
/// Two passes bucket the hashes by their top bits, about one hash a bucket,
/// and then each bucket is looked into. Both passes read and write memory in
/// order or nearly so, which on a million records is several times faster than
/// probing a hash table that size: the table's every insert is a cache miss.
enum EqualHashes {
    /// A hash and the position of what was hashed.
    struct Entry: Sendable {
        var hash: UInt64
        var position: Int32
    }

    /// The positions that share a hash with another, grouped by hash.
    /// - Parameter entries: hashes in ascending position order.
    /// - Returns: one group per hash that occurs more than once, each in ascending position order;
    ///   the groups in no particular order.
    static func groups(_ entries: [Entry]) -> [[Int32]] {
        guard entries.count > 1 else { return [] }
        var bits = 1
        while 1 << bits < entries.count { bits += 1 }
        let shift = UInt64(64 - bits)
        // Counting sort by the top bits: `starts[b]..<starts[b + 1]` is bucket b, in position order.
        var starts = [Int](repeating: 0, count: (1 << bits) + 1)
        for entry in entries { starts[Int(entry.hash >> shift) + 1] += 1 }
        for b in 1..<starts.count { starts[b] += starts[b - 1] }
        var next = starts
        let bucketed = [Entry](unsafeUninitializedCapacity: entries.count) { buffer, count in
            for entry in entries {
                let b = Int(entry.hash >> shift)
                buffer.initializeElement(at: next[b], to: entry)
                next[b] += 1
            }
            count = entries.count
        }
        var groups: [[Int32]] = []
        for b in 0..<(1 << bits) where starts[b + 1] - starts[b] > 1 {
            let bucket = bucketed[starts[b]..<starts[b + 1]]
            if bucket.count <= 8 {
                for i in bucket.indices {
                    let hash = bucket[i].hash
                    guard !bucket[..<i].contains(where: { $0.hash == hash }),
                        bucket[(i + 1)...].contains(where: { $0.hash == hash })
                    else { continue }
                    groups.append(bucket[i...].filter { $0.hash == hash }.map(\.position))
                }
            } else {
                // Many copies of one hash (one email on thousands of records): sort, not every pair.
                var rest = bucket.sorted { $0.hash < $1.hash || ($0.hash == $1.hash && $0.position < $1.position) }[...]
                while let first = rest.first {
                    let run = rest.prefix { $0.hash == first.hash }
                    if run.count > 1 { groups.append(run.map(\.position)) }
                    rest = rest.dropFirst(run.count)
                }
            }
        }
        return groups
    }
}
