/// Text operations with an ASCII fast path; they fall back to the standard
/// library's Unicode-aware versions for anything else.
enum FastText {
    /// `text` without leading and trailing white space.
    static func trimmed(_ text: String) -> String {
        let utf8 = text.utf8
        guard let first = utf8.first, let last = utf8.last else { return text }
        if !isSpace(first) && !isSpace(last) && first < 0x80 && last < 0x80 { return text }
        let scalars = text.unicodeScalars
        var start = scalars.startIndex, end = scalars.endIndex
        while start < end, scalars[start].properties.isWhitespace { start = scalars.index(after: start) }
        while end > start, scalars[scalars.index(before: end)].properties.isWhitespace {
            end = scalars.index(before: end)
        }
        if start == scalars.startIndex && end == scalars.endIndex { return text }
        return String(scalars[start..<end])
    }

    /// `text` lower-cased, scalar by scalar as the standard library does, with ASCII looked up in no table.
    static func lowercased(_ text: String) -> String {
        var needsWork = false
        for byte in text.utf8 {
            if byte >= 0x80 { return unicodeLowercased(text) }
            if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") { needsWork = true }
        }
        guard needsWork else { return text }
        return String(unsafeUninitializedCapacity: text.utf8.count) { buffer in
            var i = 0
            for byte in text.utf8 {
                buffer[i] = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
                i += 1
            }
            return i
        }
    }

    private static func unicodeLowercased(_ text: String) -> String {
        // Most text with accents is lower case already: then it is returned as it is, without a copy.
        guard changesWhenLowercased(text) else { return text }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            if scalar.isASCII {
                let value = UInt8(scalar.value)
                bytes.append(value >= UInt8(ascii: "A") && value <= UInt8(ascii: "Z") ? value + 32 : value)
            } else if scalar.properties.changesWhenLowercased {
                bytes.append(contentsOf: scalar.properties.lowercaseMapping.utf8)
            } else {
                UTF8.encode(scalar) { bytes.append($0) }
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether any scalar of `text` changes when lower-cased. Scalars of one or two UTF-8 bytes (Latin,
    /// Greek, Cyrillic, Hebrew, Arabic…) are looked up in ``twoByteChangesWhenLowercased``; the
    /// standard library's property lookup, a search through its tables, is kept for the rest.
    private static func changesWhenLowercased(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            let table = twoByteChangesWhenLowercased
            var i = 0
            while i < bytes.count {
                let byte = bytes[i]
                if byte < 0x80 {
                    if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") { return true }
                    i += 1
                } else if byte < 0xE0 {
                    // A String's UTF-8 is valid: the lead byte is C2–DF, then one continuation byte.
                    let scalar = Int(byte & 0x1F) << 6 | Int(bytes[i + 1] & 0x3F)
                    if table[scalar - 0x80] { return true }
                    i += 2
                } else {
                    let length = byte < 0xF0 ? 3 : 4
                    var value = UInt32(byte & (byte < 0xF0 ? 0x0F : 0x07))
                    for next in bytes[i + 1..<i + length] { value = value << 6 | UInt32(next & 0x3F) }
                    if Unicode.Scalar(value)!.properties.changesWhenLowercased { return true }
                    i += length
                }
            }
            return false
        }
    }

    /// `changesWhenLowercased` of U+0080 to U+07FF, read once from the standard library.
    private static let twoByteChangesWhenLowercased: [Bool] = (0x80...0x7FF).map {
        Unicode.Scalar(UInt32($0))!.properties.changesWhenLowercased
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || (byte >= UInt8(ascii: "\t") && byte <= UInt8(ascii: "\r"))
    }
}
