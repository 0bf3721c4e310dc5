/// Remembers where each distinct string was first seen, for duplicate checks
/// over millions of records.
///
/// An open-addressing table of (hash, position) pairs: the strings themselves
/// stay where the caller keeps them and are compared only on a hash match, so
/// inserting costs one hash and no reference counting.
struct FirstOccurrences {
    private struct Slot {
        var hash: UInt64 = 0
        var position: Int32 = -1
    }

    private var slots: [Slot]
    private var count = 0
    private var mask: Int
    private let hasher = SipHash24(k0: UInt64.random(in: .min ... .max), k1: UInt64.random(in: .min ... .max))

    init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = Array(repeating: Slot(), count: size)
        mask = size - 1
    }

    /// Records that `key` occurs at `position`, unless it occurred before.
    /// - Parameters:
    ///   - key: the string.
    ///   - position: where it occurs now.
    ///   - keyAt: the string at an earlier position, to rule out hash collisions.
    /// - Returns: the earlier position of an equal string, or `nil` when `key` is new.
    mutating func insert(_ key: String, at position: Int, keyAt: (Int) -> String) -> Int? {
        var key = key
        let hash = key.withUTF8 { hasher.hash(UnsafeRawBufferPointer($0)) }
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot].position >= 0 {
            if slots[slot].hash == hash, keyAt(Int(slots[slot].position)) == key { return Int(slots[slot].position) }
            slot = (slot + 1) & mask
        }
        slots[slot] = Slot(hash: hash, position: Int32(position))
        count += 1
        if count * 2 > slots.count { grow() }
        return nil
    }

    private mutating func grow() {
        let old = slots
        slots = Array(repeating: Slot(), count: old.count * 2)
        mask = slots.count - 1
        for entry in old where entry.position >= 0 {
            var slot = Int(truncatingIfNeeded: entry.hash) & mask
            while slots[slot].position >= 0 { slot = (slot + 1) & mask }
            slots[slot] = entry
        }
    }
}
