import Foundation

/// One attribute of a source record: a single text value, several, or raw bytes.
///
/// An attribute that is absent is simply not in the record; connectors never
/// produce empty values (an empty CSV cell or an SQL `NULL` is absent).
public enum AttributeValue: Sendable, Hashable {
    /// One text value.
    case text(String)
    /// Several text values, in the source's order (LDAP multi-valued attributes, SQL arrays).
    case multiple([String])
    /// Raw bytes (LDAP `objectGUID`, `jpegPhoto`); mapped as base64 unless a transform decodes them.
    case binary(Data)

    /// The values as text, in order. Binary values are given as base64.
    public var texts: [String] {
        switch self {
        case .text(let value): [value]
        case .multiple(let values): values
        case .binary(let data): [data.base64EncodedString()]
        }
    }
}

extension AttributeValue: ExpressibleByStringLiteral, ExpressibleByArrayLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
    public init(arrayLiteral elements: String...) { self = .multiple(elements) }
}
