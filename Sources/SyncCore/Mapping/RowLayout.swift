/// The import fields a job sends, in mapping order, with the rules of each.
///
/// Shared by every row of a run, so a row is just an array of values.
public final class RowLayout: Sendable {
    /// Field names in mapping order.
    public let fields: [String]
    /// Whether each field is sensitive (masked in output, hashed in the snapshot).
    public let sensitive: [Bool]
    /// The catalog the layout was made from.
    public let catalog: FieldCatalog
    private let positions: [String: Int]

    /// Creates a layout for `fields`.
    public init(fields: [String], catalog: FieldCatalog) {
        self.fields = fields
        self.catalog = catalog
        sensitive = fields.map(catalog.sensitive.contains)
        positions = Dictionary(fields.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The position of a field, or `nil` when the job does not map it.
    public func position(of field: String) -> Int? { positions[field] }
}

/// Something wrong with one record, found while mapping or validating it.
public struct RecordProblem: Sendable, Hashable, CustomStringConvertible {
    /// The import field concerned, when there is one.
    public var field: String?
    /// What is wrong, without the value (it may be sensitive).
    public var reason: String

    /// Creates a problem.
    public init(field: String?, _ reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { field.map { "\($0): \(reason)" } ?? reason }
}
