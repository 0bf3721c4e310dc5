import Foundation

/// Seeded random inputs for robustness tests: mutations of a corpus of valid and
/// nearly valid inputs (bytes flipped, inserted, deleted, duplicated; lines cut and
/// spliced; bytes a parser treats specially). The same seed gives the same inputs,
/// so a failure replays; found crashes are kept as corpus entries.
public struct Fuzzer {
    private var random: SplitMix

    /// Bytes that parsers of CSV, JSON and YAML treat specially.
    public static let special: [UInt8] =
        Array("\"',:;[]{}\\\n\r\t #-|>&*!%@`=".utf8) + [0, 0x7F, 0xC3, 0xFF, 0xEF, 0xBB, 0xBF]

    /// A fuzzer starting from `seed` (or `FUZZ_SEED` from the environment, to replay one).
    public init(seed: UInt64) {
        random = SplitMix(seed: ProcessInfo.processInfo.environment["FUZZ_SEED"].flatMap(UInt64.init) ?? seed)
    }

    /// How many inputs a test makes: `FUZZ_ITERATIONS`, else `count`.
    public static func iterations(_ count: Int) -> Int {
        ProcessInfo.processInfo.environment["FUZZ_ITERATIONS"].flatMap(Int.init) ?? count
    }

    public mutating func next() -> UInt64 { random.next() }

    public mutating func below(_ bound: Int) -> Int { bound <= 0 ? 0 : Int(next() % UInt64(bound)) }

    /// One input: a corpus entry with one to eight random edits.
    public mutating func input(from corpus: [[UInt8]]) -> [UInt8] {
        var bytes = corpus[below(corpus.count)]
        for _ in 0...below(8) { mutate(&bytes, corpus: corpus) }
        return bytes
    }

    private mutating func mutate(_ bytes: inout [UInt8], corpus: [[UInt8]]) {
        let at = below(bytes.count + 1)
        switch below(7) {
        case 0 where !bytes.isEmpty: bytes[min(at, bytes.count - 1)] ^= UInt8(truncatingIfNeeded: 1 << below(8))
        case 1: bytes.insert(Self.special[below(Self.special.count)], at: at)
        case 2 where !bytes.isEmpty: bytes.removeSubrange(at..<min(bytes.count, at + 1 + below(16)))
        case 3 where !bytes.isEmpty:
            let end = min(bytes.count, at + 1 + below(64))
            bytes.insert(contentsOf: bytes[min(at, bytes.count - 1)..<end], at: below(bytes.count + 1))
        case 4: bytes = Array(bytes.prefix(at))
        case 5:
            let other = corpus[below(corpus.count)]
            bytes = Array(bytes.prefix(at)) + other.suffix(below(other.count + 1))
        default: bytes.insert(UInt8(truncatingIfNeeded: next()), at: at)
        }
    }
}
