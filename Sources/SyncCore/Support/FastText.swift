/// Text operations with an ASCII fast path; they fall back to the standard
/// library's Unicode-aware versions for anything else.
enum FastText {
    /// `text` without leading and trailing white space.
    static func trimmed(_ text: String) -> String {
        let utf8 = text.utf8
        guard let first = utf8.first, let last = utf8.last else { return text }
        if !isSpace(first) && !isSpace(last) && first < 0x80 && last < 0x80 { return text }
        return String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }

    /// `text` lower-cased.
    static func lowercased(_ text: String) -> String {
        var needsWork = false
        for byte in text.utf8 {
            if byte >= 0x80 { return text.lowercased() }
            if byte >= 65 && byte <= 90 { needsWork = true }
        }
        guard needsWork else { return text }
        return String(unsafeUninitializedCapacity: text.utf8.count) { buffer in
            var i = 0
            for byte in text.utf8 {
                buffer[i] = byte >= 65 && byte <= 90 ? byte + 32 : byte
                i += 1
            }
            return i
        }
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 32 || (byte >= 9 && byte <= 13)
    }
}
