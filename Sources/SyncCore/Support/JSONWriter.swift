import ConnectorCore

/// Writes JSON a value at a time, straight to a ``ByteOutput``: large
/// documents (a plan of a million people) stream without being built in memory.
///
/// The caller keeps the structure right; the writer adds commas and escapes.
///
/// perf: what a renderer calls per row is `@inlinable`: the plan's renderers live in another module
/// (`SyncOutput`), and a call across modules per key and value cost a retain and release of the output each.
public struct JSONWriter {
    @usableFromInline let out: ByteOutput
    @usableFromInline var needsComma = false

    /// Writes to `output`.
    public init(_ output: ByteOutput) { out = output }

    /// `{`
    @inlinable public mutating func beginObject() {
        separator()
        out.write(byte: UInt8(ascii: "{"))
        needsComma = false
    }
    /// `}`
    @inlinable public mutating func endObject() {
        out.write(byte: UInt8(ascii: "}"))
        needsComma = true
    }
    /// `[`
    public mutating func beginArray() { separator(); out.write(byte: UInt8(ascii: "[")); needsComma = false }
    /// `]`
    public mutating func endArray() { out.write(byte: UInt8(ascii: "]")); needsComma = true }

    /// An object key rendered once (`"name":`), for a key written for every one of a million rows.
    public struct PreparedKey: Sendable {
        @usableFromInline let bytes: [UInt8]

        /// Renders `name` as a key.
        public init(_ name: String) {
            var bytes: [UInt8] = []
            JSONWriter.appendQuoted(name, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
            self.bytes = bytes
        }
    }

    /// A prepared object key; the value follows.
    @inlinable public mutating func key(_ key: PreparedKey) {
        separator()
        out.write(bytes: key.bytes)
        needsComma = false
    }

    /// An object key; the value follows.
    public mutating func key(_ name: String) {
        separator()
        string(name)
        out.write(byte: UInt8(ascii: ":"))
        needsComma = false
    }

    /// A string value (or `null`).
    @inlinable public mutating func value(_ text: String?) {
        separator()
        if let text { string(text) } else { out.write("null") }
        needsComma = true
    }

    /// A record's location as a string value (or `null`): a line of a file is written as `file:line`
    /// without making the text, once per row of a plan of a million.
    public mutating func value(location: SourceLocation?) {
        guard let (file, line) = location?.fileLine else { return value(location?.description) }
        separator()
        out.write(byte: UInt8(ascii: "\""))
        out.writeEscapedText(file)
        out.write(byte: UInt8(ascii: ":"))
        out.write(decimal: line)
        out.write(byte: UInt8(ascii: "\""))
        needsComma = true
    }

    /// Array elements another writer rendered (comma-separated JSON values), written as they are.
    public mutating func elements(rendered bytes: [UInt8]) {
        separator()
        out.write(bytes: bytes)
        needsComma = true
    }

    /// An integer value.
    public mutating func value(_ number: Int) {
        separator()
        out.write(String(number))
        needsComma = true
    }

    /// A number value.
    public mutating func value(_ number: Double) {
        separator()
        out.write(number == number.rounded() && abs(number) < 1e15 ? String(Int(number)) : String(number))
        needsComma = true
    }

    /// A boolean value.
    public mutating func value(_ flag: Bool) {
        separator()
        out.write(flag ? "true" : "false")
        needsComma = true
    }

    /// `"key": value` for a string.
    public mutating func field(_ name: String, _ text: String?) { key(name); value(text) }
    /// `"key": value` for an integer.
    public mutating func field(_ name: String, _ number: Int) { key(name); value(number) }
    /// `"key": value` for a boolean.
    public mutating func field(_ name: String, _ flag: Bool) { key(name); value(flag) }
    /// `"key": [strings]`.
    public mutating func field(_ name: String, strings: [String]) {
        key(name)
        beginArray()
        for text in strings { value(text) }
        endArray()
    }

    @inlinable mutating func separator() {
        if needsComma { out.write(byte: UInt8(ascii: ",")) }
    }

    @inlinable func string(_ text: String) {
        out.writeJSONString(text)
    }

    /// Appends `text` as a JSON string literal, quotes included.
    public static func appendQuoted(_ text: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            if let escape = escape(byte) { bytes.append(contentsOf: escape) } else { bytes.append(byte) }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// How a byte of UTF-8 is written inside a JSON string, when it cannot be written as itself.
    @inline(__always)
    static func escape(_ byte: UInt8) -> [UInt8]? {
        switch byte {
        case UInt8(ascii: "\""): [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
        case UInt8(ascii: "\\"): [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
        case UInt8(ascii: "\n"): [UInt8(ascii: "\\"), UInt8(ascii: "n")]
        case UInt8(ascii: "\r"): [UInt8(ascii: "\\"), UInt8(ascii: "r")]
        case UInt8(ascii: "\t"): [UInt8(ascii: "\\"), UInt8(ascii: "t")]
        case 0..<0x20: Array("\\u00".utf8) + [hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 15)]]
        default: nil
        }
    }

    /// A flat object of strings as compact JSON with sorted keys (how the snapshot stores fields).
    public static func object(_ fields: [String: String]) -> String {
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        for (i, key) in fields.keys.sorted().enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            appendQuoted(key, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
            appendQuoted(fields[key]!, to: &bytes)
        }
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A list of strings as compact JSON (how the audit trail stores the names of changed fields).
    public static func array(_ strings: [String]) -> String {
        var bytes: [UInt8] = [UInt8(ascii: "[")]
        for (i, string) in strings.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            appendQuoted(string, to: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes `key`: `{"message", "hint"}` of an error, or `null`.
    public mutating func field(_ key: String, error: SyncError?) {
        self.key(key)
        guard let error else { return value(nil as String?) }
        beginObject()
        field("message", error.message)
        field("hint", error.hint)
        endObject()
    }
}
