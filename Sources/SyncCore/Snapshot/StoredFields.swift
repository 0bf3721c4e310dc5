import Foundation

extension StoredPerson {
    /// Reads the fields a store kept as a JSON object of strings (written by ``JSONWriter/object(_:)``).
    /// - Returns: the fields, or `nil` when the text is not such an object.
    public static func decodeFields(_ json: Data) -> [String: String]? {
        if let fields = json.withUnsafeBytes({ plainFields($0.assumingMemoryBound(to: UInt8.self)) }) { return fields }
        return (try? JSONSerialization.jsonObject(with: json)) as? [String: String]
    }

    /// The fields of an object whose keys and values are strings without escapes (almost every stored
    /// person: names, emails, dates, digests), read without a JSON parser; `nil` for anything else,
    /// which ``decodeFields(_:)`` then gives to JSONSerialization: a backslash, a duplicate key, a
    /// control character, invalid UTF-8, a number, anything unexpected.
    ///
    /// perf: JSONSerialization takes 5.5 µs an object (JSONDecoder 11), which is most of loading the
    /// people who changed: 100,000 changes took half a second before anything was printed or sent.
    static func plainFields(_ bytes: UnsafeBufferPointer<UInt8>) -> [String: String]? {
        let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
        var i = 0
        func skipSpace() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D {
                i += 1
            }
        }
        func take(_ byte: UInt8) -> Bool {
            skipSpace()
            guard i < bytes.count, bytes[i] == byte else { return false }
            i += 1
            return true
        }
        func string() -> String? {
            guard take(quote) else { return nil }
            let start = i
            while i < bytes.count, bytes[i] != quote {
                if bytes[i] == backslash || bytes[i] < 0x20 { return nil }
                i += 1
            }
            guard i < bytes.count else { return nil }
            i += 1
            // perf: decoded, then compared with the bytes: invalid UTF-8 comes out repaired (U+FFFD), so
            // unequal, and JSONSerialization decides. `String(validating:)` decodes scalar by scalar.
            let text = UnsafeBufferPointer(rebasing: bytes[start..<i - 1])
            var string = String(decoding: text, as: UTF8.self)
            let same = string.withUTF8 {
                $0.count == text.count && (text.isEmpty || memcmp($0.baseAddress!, text.baseAddress!, text.count) == 0)
            }
            return same ? string : nil
        }

        guard take(UInt8(ascii: "{")) else { return nil }
        var fields: [String: String] = [:]
        if !take(UInt8(ascii: "}")) {
            repeat {
                guard let key = string(), take(UInt8(ascii: ":")), let value = string(),
                    fields.updateValue(value, forKey: key) == nil
                else { return nil }
            } while take(UInt8(ascii: ","))
            guard take(UInt8(ascii: "}")) else { return nil }
        }
        skipSpace()
        return i == bytes.count ? fields : nil
    }
}
