import Foundation
import SyncCore

/// How directory values become attribute values.
///
/// Text values stay text (several make a multi-valued attribute); Active
/// Directory's binary `objectGUID` becomes its canonical UUID string and
/// `objectSid` its `S-1-…` form; any other value that is not UTF-8 is binary.
enum LDAPValues {
    static func record(_ entry: LDAPConnection.Entry, idAttribute: String) -> SourceRecord {
        var attributes: [String: AttributeValue] = [:]
        for (name, values) in entry.attributes where !values.isEmpty {
            attributes[name] = value(name: name, values)
        }
        let id = attributes.first { $0.key.caseInsensitiveCompare(idAttribute) == .orderedSame }?.value.texts.first ?? ""
        return SourceRecord(id: id, attributes: attributes, location: SourceLocation(entry.dn))
    }

    static func value(name: String, _ values: [Data]) -> AttributeValue {
        let lower = name.lowercased()
        if lower == "objectguid", let guid = values.first, let text = guidString(guid) { return .text(text) }
        if lower == "objectsid", let sid = values.first, let text = sidString(sid) { return .text(text) }
        let texts = values.compactMap { String(data: $0, encoding: .utf8) }
        guard texts.count == values.count else { return .binary(values[0]) }
        return texts.count == 1 ? .text(texts[0]) : .multiple(texts)
    }

    /// Whether an Active Directory account is disabled: `userAccountControl` has bit 2 (ACCOUNTDISABLE).
    static func isDisabled(_ entry: LDAPConnection.Entry) -> Bool {
        guard let values = entry.attributes.first(where: { $0.name.caseInsensitiveCompare("userAccountControl") == .orderedSame })?.values,
            let text = values.first.flatMap({ String(data: $0, encoding: .utf8) }), let flags = Int64(text)
        else { return false }
        return flags & 2 != 0
    }

    /// Active Directory stores a GUID's first three fields little-endian.
    static func guidString(_ data: Data) -> String? {
        guard data.count == 16 else { return nil }
        let b = [UInt8](data)
        let order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15]
        let hex = order.map { String(format: "%02x", b[$0]) }
        return hex[0..<4].joined() + "-" + hex[4..<6].joined() + "-" + hex[6..<8].joined() + "-"
            + hex[8..<10].joined() + "-" + hex[10..<16].joined()
    }

    /// `S-1-5-21-…`: revision, 48-bit big-endian authority, then 32-bit little-endian sub-authorities.
    static func sidString(_ data: Data) -> String? {
        let b = [UInt8](data)
        guard b.count >= 8, b.count == 8 + 4 * Int(b[1]) else { return nil }
        let authority = b[2..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        var parts = ["S", String(b[0]), String(authority)]
        for i in 0..<Int(b[1]) {
            let o = 8 + 4 * i
            parts.append(String(UInt32(b[o]) | UInt32(b[o + 1]) << 8 | UInt32(b[o + 2]) << 16 | UInt32(b[o + 3]) << 24))
        }
        return parts.joined(separator: "-")
    }
}
