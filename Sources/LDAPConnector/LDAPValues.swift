import ConnectorCore
import Foundation

/// How directory values become attribute values.
///
/// Text values stay text (several make a multi-valued attribute); Active
/// Directory's binary `objectGUID` becomes its canonical UUID string and
/// `objectSid` its `S-1-…` form; any other value that is not UTF-8 is binary.
struct LDAPValues {
    /// The attributes every record has, in the order they were requested.
    let schema: AttributeSchema
    private let positions: [String: Int]
    /// The requested names, for the usual case of a server answering with them as asked.
    private let requested: [String]
    private let idPosition: Int?
    private let kinds: [Kind]
    /// Where `accountFlags` goes, when the job reads it, and where its sources are.
    private let accountFlags: (position: Int, sources: [Int])?
    /// Attributes a mapping follows to another entry (`manager->mail`): where each goes, where the
    /// DN-valued attribute is, and the attribute read from the entry it names.
    private let follows: [(position: Int, source: Int, target: String)]
    /// What the directory is asked for: the requested names, less those made here, plus what they need.
    let serverAttributes: [String]

    /// How an attribute's values are read.
    enum Kind {
        case plain, guid, sid

        init(_ name: String) {
            switch name.lowercased() {
            case "objectguid": self = .guid
            case "objectsid": self = .sid
            default: self = .plain
            }
        }
    }

    /// Lays records out by the requested attributes (matched without regard to case, as LDAP does).
    init(attributes requestedNames: [String], idAttribute: String) {
        // A followed attribute's DN attribute is read from the entry too.
        var attributes = requestedNames
        for name in requestedNames {
            guard let (source, _) = Self.followed(name) else { continue }
            if !attributes.contains(where: { $0.caseInsensitiveCompare(source) == .orderedSame }) {
                attributes.append(source)
            }
        }
        schema = AttributeSchema(attributes)
        var positions: [String: Int] = [:]
        for (i, name) in attributes.enumerated() where positions[name.lowercased()] == nil {
            positions[name.lowercased()] = i
        }
        self.positions = positions
        requested = attributes
        idPosition = positions[idAttribute.lowercased()]
        kinds = attributes.map(Kind.init)
        accountFlags = positions[AccountFlags.attribute.lowercased()].map { position in
            (position, AccountFlags.sources.compactMap { positions[$0.lowercased()] })
        }
        follows = attributes.indices.compactMap { i in
            guard let (source, target) = Self.followed(attributes[i]), let s = positions[source.lowercased()] else {
                return nil
            }
            return (i, s, target)
        }
        serverAttributes = attributes.filter {
            Self.followed($0) == nil && $0.caseInsensitiveCompare(AccountFlags.attribute) != .orderedSame
        }
    }

    /// `("manager", "mail")` for `manager->mail`; `nil` for a plain name.
    static func followed(_ name: String) -> (source: String, target: String)? {
        guard let arrow = name.range(of: "->") else { return nil }
        let source = String(name[..<arrow.lowerBound]), target = String(name[arrow.upperBound...])
        return source.isEmpty || target.isEmpty ? nil : (source, target)
    }

    /// The record of an entry; `follow` reads an attribute of the entry a DN names (for `manager->mail`).
    func record(
        _ entry: LDAPConnection.Entry,
        follow: (_ dn: String, _ attribute: String) throws -> AttributeValue? = { _, _ in nil }
    ) rethrows -> SourceRecord {
        var values = [AttributeValue?](repeating: nil, count: schema.names.count)
        for (name, raw) in entry.attributes where !raw.isEmpty {
            // Servers usually answer with the names as asked; only others need folding.
            // A scan of a few short names costs less than hashing each one.
            guard
                let position = requested.firstIndex(of: name) ?? positions[name.lowercased()]
                    ?? positions[Self.baseName(name)]
            else { continue }
            values[position] = Self.value(kinds[position], raw)
        }
        if let (position, sources) = accountFlags,
            let names = AccountFlags.names(of: sources.flatMap { values[$0]?.texts ?? [] }), !names.isEmpty
        {
            values[position] = names.count == 1 ? .text(names[0]) : .multiple(names)
        }
        for (position, source, target) in follows {
            guard let dn = values[source]?.texts.first, !dn.isEmpty else { continue }
            values[position] = try follow(dn, target)
        }
        let id = idPosition.flatMap { values[$0]?.texts.first } ?? ""
        return SourceRecord(id: id, schema: schema, values: values, location: SourceLocation(entry.dn))
    }

    /// `member` for `member;range=0-1499` (Active Directory's ranged retrieval).
    static func baseName(_ name: String) -> String {
        String(name.lowercased().split(separator: ";", maxSplits: 1).first ?? "")
    }

    static func value(_ kind: Kind, _ values: [LDAPConnection.RawValue]) -> AttributeValue {
        if kind == .guid, let guid = values.first, let text = guidString(guid.data) { return .text(text) }
        if kind == .sid, let sid = values.first, let text = sidString(sid.data) { return .text(text) }
        var texts: [String] = []
        for value in values {
            guard case .text(let text) = value else { return .binary(values[0].data) }
            texts.append(text)
        }
        return texts.count == 1 ? .text(texts[0]) : .multiple(texts)
    }

    /// Whether an Active Directory account is disabled: `userAccountControl` has bit 2 (ACCOUNTDISABLE).
    static func isDisabled(_ entry: LDAPConnection.Entry) -> Bool {
        guard
            let values = entry.attributes.first(where: {
                $0.name.caseInsensitiveCompare("userAccountControl") == .orderedSame
            })?.values,
            case .text(let text)? = values.first, let flags = Int64(text)
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
