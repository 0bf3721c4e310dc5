/// SipHash-2-4 (Aumasson and Bernstein, 2012): a fast keyed hash, here for
/// row fingerprints. Keyed so that a fingerprint of a row whose other fields
/// are known reveals nothing about its SSN without the snapshot's key.
struct SipHash24 {
    let k0: UInt64
    let k1: UInt64

    /// The 64-bit hash of `bytes`.
    func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var state = State(self)
        Self.blocks(of: bytes) { state.absorb($0) }
        return state.finish(Self.lastBlock(of: bytes))
    }

    /// The hashes of `bytes` under two keys, in one pass: the two computations are
    /// independent, so the processor overlaps them (about 1.7 times the speed of two passes).
    static func hash(_ bytes: UnsafeRawBufferPointer, with first: SipHash24, and second: SipHash24) -> (UInt64, UInt64)
    {
        var a = State(first), b = State(second)
        blocks(of: bytes) { m in
            a.absorb(m)
            b.absorb(m)
        }
        let last = lastBlock(of: bytes)
        return (a.finish(last), b.finish(last))
    }

    @inline(__always)
    private static func blocks(of bytes: UnsafeRawBufferPointer, _ body: (UInt64) -> Void) {
        var offset = 0
        while offset + 8 <= bytes.count {
            body(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
            offset += 8
        }
    }

    /// The final block: the bytes left over, and the length in the top byte.
    @inline(__always)
    private static func lastBlock(of bytes: UnsafeRawBufferPointer) -> UInt64 {
        var last = UInt64(truncatingIfNeeded: bytes.count) << 56
        var shift: UInt64 = 0
        for offset in (bytes.count & ~7)..<bytes.count {
            last |= UInt64(bytes[offset]) << shift
            shift += 8
        }
        return last
    }

    private struct State {
        var v0, v1, v2, v3: UInt64

        @inline(__always)
        init(_ key: SipHash24) {
            v0 = key.k0 ^ 0x736f_6d65_7073_6575
            v1 = key.k1 ^ 0x646f_7261_6e64_6f6d
            v2 = key.k0 ^ 0x6c79_6765_6e65_7261
            v3 = key.k1 ^ 0x7465_6462_7974_6573
        }

        @inline(__always)
        mutating func round() {
            v0 &+= v1; v1 = v1.rotated(13); v1 ^= v0; v0 = v0.rotated(32)
            v2 &+= v3; v3 = v3.rotated(16); v3 ^= v2
            v0 &+= v3; v3 = v3.rotated(21); v3 ^= v0
            v2 &+= v1; v1 = v1.rotated(17); v1 ^= v2; v2 = v2.rotated(32)
        }

        @inline(__always)
        mutating func absorb(_ m: UInt64) {
            v3 ^= m
            round(); round()
            v0 ^= m
        }

        @inline(__always)
        mutating func finish(_ last: UInt64) -> UInt64 {
            absorb(last)
            v2 ^= 0xff
            round(); round(); round(); round()
            return v0 ^ v1 ^ v2 ^ v3
        }
    }
}

extension UInt64 {
    @inline(__always) func rotated(_ bits: UInt64) -> UInt64 { (self << bits) | (self >> (64 - bits)) }
}
