import Testing

@testable import SyncCore

@Suite struct ByteOrderTests {
    /// The order by UTF-8 bytes, equal ids in position order, the slow and obvious way.
    func reference(_ ids: [String]) -> [Int] {
        ids.indices.sorted { a, b in
            let x = Array(ids[a].utf8), y = Array(ids[b].utf8)
            return x == y ? a < b : x.lexicographicallyPrecedes(y)
        }
    }

    @Test func positionsAreInTheOrderOfTheIdsBytes() {
        // Ids that share their first eight bytes, are shorter than eight, hold NUL, DEL and
        // characters of two to four bytes, or are equal to others.
        let pieces = ["", "E", "0", "a", "\u{0}", "\u{7F}", "é", "z", "€", "😀", "E0001234", "E000123", "ab\u{0}"]
        var generator = SystemRandomNumberGenerator()
        for size in [0, 1, 2, 17, 5_000] {
            let ids = (0..<size).map { _ in
                (0..<Int.random(in: 0...4, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }
                    .joined()
            }
            let sorted = ByteOrder.sortedPositions(count: ids.count) { ids[$0] }, expected = reference(ids)
            // Compared whole, reported at the first difference (not as two arrays of 5,000).
            let first = sorted.indices.first { $0 >= expected.count || sorted[$0] != expected[$0] }
            #expect(sorted.count == expected.count && first == nil, "\(size) ids, first out of place at \(first ?? -1)")
        }
    }

    @Test func idsAlreadyInOrderKeepTheirPositions() {
        let ids = (0..<10_000).map { "E\(String(format: "%09d", $0))" }
        let kept = ByteOrder.sortedPositions(count: ids.count) { ids[$0] } == Array(ids.indices)
        #expect(kept)
        let reversed = Array(ids.reversed())
        let turned = ByteOrder.sortedPositions(count: reversed.count) { reversed[$0] } == Array(ids.indices.reversed())
        #expect(turned)
    }

    @Test func aPrefixOrdersAsItsBytesDo() {
        // "a" + NUL sorts after "a" though both prefixes are equal: the whole ids decide.
        for (a, b) in [("a", "a\u{0}"), ("E000123", "E0001234"), ("abcdefgh", "abcdefgh\u{0}"), ("z", "é")] {
            #expect(ByteOrder.prefix(a) <= ByteOrder.prefix(b))
            #expect(ByteOrder.compare(a, b) < 0)
            #expect(ByteOrder.sortedPositions(count: 2) { [b, a][$0] } == [1, 0])
        }
    }
}
