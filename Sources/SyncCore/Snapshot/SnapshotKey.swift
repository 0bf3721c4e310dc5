import ConnectorCore
import Crypto
import Foundation

/// The secret key that hashes sensitive fields and row fingerprints (HMAC-SHA256).
///
/// It lives beside the snapshot (mode 0600): without it, an SSN's hash in the
/// snapshot cannot be tested against guesses.
public struct SnapshotKey: Sendable {
    let key: SymmetricKey
    /// SHA-256 having absorbed the key XOR the HMAC inner and outer pads (RFC 2104): each digest
    /// starts from copies of them.
    private let inner: SHA256, outer: SHA256

    /// A key from 32 stored bytes.
    /// - Throws: ``SyncError`` when there are not exactly 32 bytes.
    public init(bytes: Data) throws {
        guard bytes.count == 32 else {
            throw SyncError(.snapshot, "the snapshot key must be 32 bytes, this one has \(bytes.count)")
        }
        key = SymmetricKey(data: bytes)
        // The key is shorter than SHA-256's 64-byte block, so it is used as it is, padded with zeros.
        let block = Array(bytes) + [UInt8](repeating: 0, count: 64 - bytes.count)
        var inner = SHA256(), outer = SHA256()
        inner.update(data: block.map { $0 ^ 0x36 })
        outer.update(data: block.map { $0 ^ 0x5C })
        self.inner = inner
        self.outer = outer
    }

    /// A fresh random key.
    public static func random() -> SnapshotKey {
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        return try! SnapshotKey(bytes: bytes)
    }

    /// The key's bytes, to store.
    public var bytes: Data { key.withUnsafeBytes { Data($0) } }

    /// The keyed hash of a sensitive value, as stored: `hmac:` and base64 of HMAC-SHA256(key, field 0x1F value).
    ///
    /// perf: HMAC written out over swift-crypto's SHA-256, from keyed states made once: its `HMAC`
    /// takes bytes only through generic `DataProtocol` regions (and, made per digest, sets the key up
    /// each time). A plan of 90,000 updates makes a digest for each SSN: 1,210 of its samples went
    /// to swift-crypto's `HMAC`, 352 go to this. `SensitiveDigestTests` holds it to Python's `hmac`
    /// and to swift-crypto's `HMAC`.
    public func digest(field: String, value: String) -> String {
        var hash = inner
        UTF8Text.withBytes(of: field) { hash.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        withUnsafeBytes(of: UInt8(0x1F)) { hash.update(bufferPointer: $0) }
        UTF8Text.withBytes(of: value) { hash.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        var mac = outer
        hash.finalize().withUnsafeBytes { mac.update(bufferPointer: $0) }
        return "hmac:" + mac.finalize().withUnsafeBytes { Data($0) }.base64EncodedString()
    }
}

/// 128 bits that change whenever anything a row sends changes.
public struct Fingerprint: Hashable, Sendable {
    /// The two halves.
    public let high: UInt64, low: UInt64

    /// From its two halves.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// From 16 stored bytes; `nil` for any other length.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        var h: UInt64 = 0, l: UInt64 = 0
        for (i, b) in bytes.enumerated() {
            if i < 8 { h = h << 8 | UInt64(b) } else { l = l << 8 | UInt64(b) }
        }
        (high, low) = (h, l)
    }

    /// From 16 stored bytes in memory; `nil` for any other length.
    public init?(bytes: UnsafeRawBufferPointer) {
        guard bytes.count == 16 else { return nil }
        high = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        low = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
    }

    /// The fingerprint of a person whose state in the account is unknown (see
    /// ``SnapshotStore/markUnconfirmed(_:resolving:)``): no row hashes to it, so the
    /// next plan always sends them again.
    public static let unconfirmed = Fingerprint(high: 0, low: 0)

    /// The 16 bytes to store.
    public var bytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) }
            + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
    }
}

/// Computes row fingerprints: keyed SipHash-2-4 over the fields a row sends,
/// in field-name order, twice with two halves of the snapshot key (128 bits).
/// Keyed, because a plain hash of a row whose other fields are known would let
/// anyone test SSN guesses. (Sensitive values themselves are stored only as
/// HMAC-SHA256 digests; see ``SnapshotKey/digest(field:value:)``.)
public struct Fingerprinter: Sendable {
    private let high: SipHash24
    private let low: SipHash24
    private let order: [Int]
    private let names: [[UInt8]]
    private var buffer: [UInt8] = []

    /// Creates a fingerprinter for rows of `layout`.
    public init(key: SnapshotKey, layout: RowLayout) {
        let words = key.bytes.withUnsafeBytes { raw in
            (0..<4).map { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)) }
        }
        high = SipHash24(k0: words[0], k1: words[1])
        low = SipHash24(k0: words[2], k1: words[3])
        order = layout.fields.indices.sorted { layout.fields[$0] < layout.fields[$1] }
        names = layout.fields.map { Array($0.utf8) }
        buffer.reserveCapacity(512)
    }

    /// The fingerprint of a row; absent fields do not count, so mapping a new
    /// field that nobody has yet changes nothing.
    /// - Parameters:
    ///   - row: one value per layout field.
    ///   - terminatedAt: the termination the snapshot will record with the row, if any.
    public mutating func fingerprint(_ row: [String?], terminatedAt: String? = nil) -> Fingerprint {
        // name 0x1F value 0x1E for each present field in name order, then 0x1D and the termination.
        var length = terminatedAt.map { $0.utf8.count + 1 } ?? 0
        for i in order {
            if let count = row[i]?.utf8.count { length += names[i].count + count + 2 }
        }
        if buffer.count < length { buffer = [UInt8](repeating: 0, count: max(length, 2 * buffer.count)) }
        return buffer.withUnsafeMutableBytes { buffer in
            var out = ByteWriter(base: buffer.baseAddress!)
            for i in order where row[i] != nil {
                names[i].withUnsafeBytes { out.append($0) }
                out.append(0x1F)
                out.append(row[i]!)
                out.append(0x1E)
            }
            if let terminatedAt {
                out.append(0x1D)
                out.append(terminatedAt)
            }
            let (high, low) = SipHash24.hash(
                UnsafeRawBufferPointer(start: buffer.baseAddress, count: out.end), with: high, and: low)
            return Fingerprint(high: high, low: low)
        }
    }
}

/// Appends bytes to memory the caller has made large enough.
private struct ByteWriter {
    let base: UnsafeMutableRawPointer
    var end = 0

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let start = bytes.baseAddress else { return }
        (base + end).copyMemory(from: start, byteCount: bytes.count)
        end += bytes.count
    }

    mutating func append(_ byte: UInt8) {
        base.storeBytes(of: byte, toByteOffset: end, as: UInt8.self)
        end += 1
    }

    mutating func append(_ text: String) {
        UTF8Text.withBytes(of: text) { append(UnsafeRawBufferPointer($0)) }
    }
}
