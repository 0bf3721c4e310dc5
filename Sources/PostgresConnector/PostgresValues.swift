import ConnectorCore
import Foundation
import PostgresClient

/// How PostgreSQL values (in text form, session in `DateStyle=ISO`, `TimeZone=UTC`) become attribute values.
///
/// - NULL is absent; so is an empty array.
/// - Text, numbers, uuid, json and any other type: the text PostgreSQL prints
///   (`char(n)` without its padding; `numeric` exactly as stored).
/// - boolean: `true` / `false`.
/// - date: `yyyy-mm-dd`; timestamp: `yyyy-mm-dd HH:MM:SS`; timestamptz:
///   `yyyy-mm-dd HH:MM:SS UTC` (converted to UTC). Fractions of a second are dropped.
///   These are the API's own forms; the `date` transform reads them with a pattern.
/// - bytea: binary.
/// - Arrays (of the types above, any dimension): multi-valued, NULL elements left out.
struct PostgresValues {
    /// How one column is read.
    indirect enum Kind: Equatable {
        case text, paddedText, boolean, timestamp, timestampTZ, bytes
        case array(Kind)

        /// The kind for a type OID (see `pg_type`); unknown types read as text.
        init(oid: UInt32) {
            switch oid {
            case 16: self = .boolean
            case 17: self = .bytes
            case 1042: self = .paddedText
            case 1114: self = .timestamp
            case 1184: self = .timestampTZ
            case 1000: self = .array(.boolean)
            case 1014: self = .array(.paddedText)
            case 1115: self = .array(.timestamp)
            case 1185: self = .array(.timestampTZ)
            case 1001: self = .array(.bytes)
            // text, name, char, varchar, int2/4/8, float4/8, numeric, oid, date, uuid, json, jsonb arrays
            case 1009, 1003, 1002, 1015, 1005, 1007, 1016, 1021, 1022, 1231, 1028, 1182, 2951, 199, 3807:
                self = .array(.text)
            default: self = .text
            }
        }
    }

    /// The column names of the result, shared by every record.
    let schema: AttributeSchema
    private let kinds: [Kind]
    private let idColumn: Int

    /// Lays records out by a result's columns.
    /// - Throws: ``SyncError`` when the id column is not in the result, or it or a mapped column is there twice.
    init(columns description: StatementDescription, idColumn name: String, mappedColumns: [String] = []) throws {
        let names = description.names
        for column in [name] + mappedColumns {
            let places = names.indices.filter { names[$0] == column }
            guard places.count > 1 else { continue }
            throw SyncError(
                .configuration,
                "the query returns the column `\(column)` \(places.count) times (columns \(places.map { String($0 + 1) }.joined(separator: ", "))), "
                    + "so which one the mapping reads is not clear",
                hint: "give all but one an alias (d.name AS department), or join with USING (…)")
        }
        guard let id = names.firstIndex(of: name) ?? names.firstIndex(where: { $0.lowercased() == name.lowercased() })
        else {
            throw SyncError(
                .configuration,
                "the query's result has no column `\(name)` (source.id); its columns are: "
                    + names.joined(separator: ", "),
                hint: "set source.id to the column that identifies a person, or add it to the SELECT")
        }
        schema = AttributeSchema(names)
        kinds = description.types.map(Kind.init(oid:))
        idColumn = id
    }

    /// The record of one row; its id is "" when the id column is NULL (the validator reports it).
    func record(_ row: some PostgresRowValues, location: SourceLocation) -> SourceRecord {
        var values = [AttributeValue?](repeating: nil, count: kinds.count)
        for column in 0..<kinds.count where !row.isNull(column) {
            values[column] = Self.value(kinds[column], row.bytes(column))
        }
        // The id is the column's text (char(n) unpadded), made once.
        let id: String
        switch (kinds[idColumn], values[idColumn]) {
        case (.text, .text(let text)), (.paddedText, .text(let text)): id = text
        default: id = row.text(idColumn) ?? ""
        }
        return SourceRecord(id: id, schema: schema, values: values, location: location)
    }

    /// One value in text form.
    static func value(_ kind: Kind, _ bytes: UnsafeRawBufferPointer) -> AttributeValue? {
        switch kind {
        case .array(let element):
            let texts = ArrayLiteral.elements(bytes).compactMap {
                $0.flatMap { element == .text ? $0 : scalar(element, $0) }
            }
            return texts.isEmpty ? nil : .multiple(texts)
        case .bytes:
            return .binary(hexBytes(bytes))
        case .text:
            return .text(String(decoding: bytes, as: UTF8.self))
        case .paddedText:
            // char(n) without its padding, trimmed before the string is made.
            var end = bytes.count
            while end > 0 && bytes[end - 1] == UInt8(ascii: " ") { end -= 1 }
            return .text(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[..<end]), as: UTF8.self))
        default:
            return .text(scalar(kind, String(decoding: bytes, as: UTF8.self)))
        }
    }

    /// A scalar's text in the documented form.
    static func scalar(_ kind: Kind, _ text: String) -> String {
        switch kind {
        case .boolean: return text == "t" ? "true" : text == "f" ? "false" : text
        case .paddedText: return unpadded(text)
        case .timestamp: return wholeSeconds(text)
        case .timestampTZ:
            // `2026-01-02 03:04:05.25+00` in a UTC session.
            guard text.hasSuffix("+00") else { return text }
            return wholeSeconds(String(text.dropLast(3))) + " UTC"
        case .bytes: return text
        case .text, .array: return text
        }
    }

    /// `2026-01-02 03:04:05` from `2026-01-02 03:04:05.123456`.
    static func wholeSeconds(_ text: String) -> String {
        guard let dot = text.firstIndex(of: ".") else { return text }
        return String(text[..<dot])
    }

    /// `char(n)` without the spaces PostgreSQL pads it with.
    static func unpadded(_ text: String) -> String {
        var text = Substring(text)
        while text.last == " " { text.removeLast() }
        return String(text)
    }

    /// bytea's `\x0a1b…` text form as bytes.
    static func hexBytes(_ bytes: UnsafeRawBufferPointer) -> Data {
        guard bytes.count >= 2, bytes[0] == UInt8(ascii: "\\"), bytes[1] == UInt8(ascii: "x") else {
            return Data(bytes)
        }
        func nibble(_ c: UInt8) -> UInt8 {
            switch c {
            case 48...57: c - 48
            case 97...102: c - 87
            case 65...70: c - 55
            default: 0
            }
        }
        var data = Data(capacity: (bytes.count - 2) / 2)
        var i = 2
        while i + 1 < bytes.count {
            data.append(nibble(bytes[i]) << 4 | nibble(bytes[i + 1]))
            i += 2
        }
        return data
    }
}

/// PostgreSQL's array literal, `{a,"b c",NULL,{d}}`, read into its elements (nested arrays flattened).
enum ArrayLiteral {
    /// The elements in order; `nil` for NULL.
    static func elements(_ bytes: UnsafeRawBufferPointer) -> [String?] {
        var result: [String?] = []
        var i = 0
        // An explicit-bounds prefix `[1:2]={…}` comes first when a lower bound is not 1.
        if bytes.first == UInt8(ascii: "["), let equals = bytes.firstIndex(of: UInt8(ascii: "=")) { i = equals + 1 }
        var current: [UInt8] = []
        var quoted = false
        var inQuotes = false
        var hasElement = false
        func finish() {
            guard hasElement else { return }
            let text = String(decoding: current, as: UTF8.self)
            result.append(!quoted && text == "NULL" ? nil : text)
            current.removeAll(keepingCapacity: true)
            quoted = false
            hasElement = false
        }
        while i < bytes.count {
            let c = bytes[i]
            if inQuotes {
                if c == UInt8(ascii: "\\"), i + 1 < bytes.count {
                    current.append(bytes[i + 1])
                    i += 1
                } else if c == UInt8(ascii: "\"") {
                    inQuotes = false
                } else {
                    current.append(c)
                }
            } else {
                switch c {
                case UInt8(ascii: "{"): break
                case UInt8(ascii: "}"), UInt8(ascii: ","): finish()
                case UInt8(ascii: "\""):
                    inQuotes = true
                    quoted = true
                    hasElement = true
                case UInt8(ascii: " ") where !hasElement: break
                default:
                    current.append(c)
                    hasElement = true
                }
            }
            i += 1
        }
        return result
    }
}
