/// A query made ready for `COPY (query) TO STDOUT`, which takes no bound parameters:
/// each `$n` is written in as a literal the server quoted (`PQescapeLiteral`).
///
/// The text is read the way PostgreSQL's lexer reads it, so a `$1` inside a string,
/// a quoted identifier, a comment or a dollar-quoted body, or inside a name such as
/// `a$1`, is left alone. Anything this reader is not sure of gives `nil`, and the
/// caller runs the query as it is instead: a statement that is not a query
/// (`SELECT`, `WITH`, `VALUES`, `TABLE`), a `;` with more after it, a `$n` with no
/// value, or text that ends inside a string or comment.
public enum CopyQuery {
    /// The query with its parameters written in and any final `;` dropped, or `nil`.
    /// - Parameters:
    ///   - sql: the query as configured.
    ///   - literals: the SQL literal of each parameter, `$1` first (`NULL` for a null).
    public static func inlining(_ sql: String, literals: [String]) -> String? {
        let text = Array(sql.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(text.count)
        var i = 0
        var firstWord: [UInt8]?
        var ended = false  // a `;` was seen: only blanks and comments may follow
        func isWordByte(_ c: UInt8) -> Bool {
            c == UInt8(ascii: "_") || c == UInt8(ascii: "$") || c >= 0x80 || (c | 0x20) >= 97 && (c | 0x20) <= 122
                || c >= 48 && c <= 57
        }
        func peek(_ offset: Int) -> UInt8? { i + offset < text.count ? text[i + offset] : nil }
        while i < text.count {
            let c = text[i]
            let start = i
            switch c {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"), 0x0c:
                i += 1
                output.append(c)
                continue
            case UInt8(ascii: "-") where peek(1) == UInt8(ascii: "-"):
                while i < text.count && text[i] != UInt8(ascii: "\n") { i += 1 }
                output += text[start..<i]
                continue
            case UInt8(ascii: "/") where peek(1) == UInt8(ascii: "*"):
                var depth = 0
                repeat {
                    if text[i] == UInt8(ascii: "/") && peek(1) == UInt8(ascii: "*") {
                        depth += 1
                        i += 2
                    } else if text[i] == UInt8(ascii: "*") && peek(1) == UInt8(ascii: "/") {
                        depth -= 1
                        i += 2
                    } else {
                        i += 1
                    }
                } while depth > 0 && i < text.count
                guard depth == 0 else { return nil }
                output += text[start..<i]
                continue
            default:
                break
            }
            guard !ended else { return nil }
            switch c {
            case UInt8(ascii: ";"):
                ended = true
                i += 1
            case UInt8(ascii: "'"):
                // E'…' strings take backslash escapes; others only ''.
                let escapes =
                    start > 0 && (text[start - 1] | 0x20) == UInt8(ascii: "e")
                    && (start < 2 || !isWordByte(text[start - 2]))
                i += 1
                while true {
                    guard i < text.count else { return nil }
                    if escapes && text[i] == UInt8(ascii: "\\") {
                        i += 2
                    } else if text[i] == UInt8(ascii: "'") {
                        i += 1
                        if peek(0) == UInt8(ascii: "'") { i += 1 } else { break }
                    } else {
                        i += 1
                    }
                }
                output += text[start..<min(i, text.count)]
            case UInt8(ascii: "\""):
                i += 1
                while true {
                    guard i < text.count else { return nil }
                    if text[i] == UInt8(ascii: "\"") {
                        i += 1
                        if peek(0) == UInt8(ascii: "\"") { i += 1 } else { break }
                    } else {
                        i += 1
                    }
                }
                output += text[start..<i]
            case UInt8(ascii: "$"):
                i += 1
                if let digit = peek(0), digit >= 48 && digit <= 57 {
                    var number = 0
                    while let d = peek(0), d >= 48 && d <= 57 {
                        number = number * 10 + Int(d - 48)
                        guard number <= literals.count else { return nil }
                        i += 1
                    }
                    guard number >= 1 else { return nil }
                    output += Array(literals[number - 1].utf8)
                    continue
                }
                // A dollar quote: $$…$$ or $tag$…$tag$ (a tag does not start with a digit).
                while let t = peek(0), isWordByte(t), t != UInt8(ascii: "$") { i += 1 }
                guard peek(0) == UInt8(ascii: "$") else { return nil }
                i += 1
                let tag = Array(text[start..<i])
                while true {
                    guard i + tag.count <= text.count else { return nil }
                    if text[i] == UInt8(ascii: "$") && Array(text[i..<i + tag.count]) == tag {
                        i += tag.count
                        break
                    }
                    i += 1
                }
                output += text[start..<i]
            default:
                if isWordByte(c) {
                    while i < text.count && isWordByte(text[i]) { i += 1 }
                    if firstWord == nil { firstWord = text[start..<i].map { $0 | 0x20 } }
                } else {
                    i += 1
                }
                output += text[start..<i]
            }
        }
        guard let firstWord, ["select", "with", "values", "table"].contains(String(decoding: firstWord, as: UTF8.self))
        else { return nil }
        return String(decoding: output, as: UTF8.self)
    }
}
