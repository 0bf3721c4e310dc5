/// Text from bytes that must be UTF-8, fast when they are plain ASCII (most
/// names, ids and addresses): connectors decode millions of values.
public enum UTF8Text {
    /// The bytes as a string, or `nil` when they are not valid UTF-8.
    @inlinable public static func string(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        isASCII(bytes) ? String(decoding: bytes, as: UTF8.self) : String(validating: bytes, as: UTF8.self)
    }

    /// Calls `body` with a string's UTF-8 bytes, read in place when the string is native (always,
    /// on Linux): no copy of the string, and so no reference counting.
    @inlinable public static func withBytes<Result>(
        of text: String, _ body: (UnsafeBufferPointer<UInt8>) throws -> Result
    ) rethrows -> Result {
        if let result = try text.utf8.withContiguousStorageIfAvailable(body) { return result }
        return try Array(text.utf8).withUnsafeBufferPointer(body)
    }

    /// Whether every byte is below 0x80 (checked eight at a time).
    @inlinable public static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let raw = UnsafeRawBufferPointer(bytes)
        var i = 0
        var bits: UInt64 = 0
        while i + 8 <= raw.count {
            bits |= raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            i += 8
        }
        while i < raw.count {
            bits |= UInt64(raw[i])
            i += 1
        }
        return bits & 0x8080_8080_8080_8080 == 0
    }
}
