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
        guard
            text.unicodeScalars.contains(where: {
                $0.isASCII ? ("A"..."Z").contains($0) : $0.properties.changesWhenLowercased
            })
        else { return text }
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

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || (byte >= UInt8(ascii: "\t") && byte <= UInt8(ascii: "\r"))
    }
}
