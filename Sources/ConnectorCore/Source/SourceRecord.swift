/// The attribute names that a run of records share, in column order.
///
/// Connectors whose records all have the same columns (a CSV header, an SQL
/// result) build one schema and share it, which lets the mapper resolve names
/// once instead of once per record.
public final class AttributeSchema: Sendable {
    /// The attribute names, in column order.
    public let names: [String]
    private let positions: [String: Int]

    /// Creates a schema; a repeated name keeps its first position.
    /// - Parameter aliases: more names for some of the positions (`hr.mail` for `mail`), not in ``names``.
    public init(_ names: [String], aliases: [String: Int] = [:]) {
        self.names = names
        var positions = aliases
        for (index, name) in names.enumerated() where positions[name] == nil {
            positions[name] = index
        }
        self.positions = positions
    }

    /// The position of an attribute, or `nil` when the schema does not have it.
    public func position(of name: String) -> Int? { positions[name] }
}

/// Where a record came from, for error messages: a line of a file, a DN, a row.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    private enum Kind: UInt8, Sendable { case place, line, row, outputLine }
    private let place: String
    private let line: Int?
    private let kind: Kind

    /// Creates a location from any readable description, such as a DN.
    public init(_ description: String) {
        place = description
        line = nil
        kind = .place
    }

    private init(place: String, number: Int, kind: Kind) {
        self.place = place
        line = number
        self.kind = kind
    }

    /// A line of a file (cheap: the text is made only when shown).
    public static func line(_ line: Int, of file: String) -> SourceLocation {
        SourceLocation(place: file, number: line, kind: .line)
    }

    /// A row of a query's result, counted from 1 (cheap: the text is made only when shown).
    public static func row(_ row: Int, of source: String) -> SourceLocation {
        SourceLocation(place: source, number: row, kind: .row)
    }

    /// A line a program printed, counted from 1: `line 32 of the output of python3 hr.py` (not
    /// `hr.py:32`, which would read as a line of the script).
    public static func outputLine(_ line: Int, of program: String) -> SourceLocation {
        SourceLocation(place: program, number: line, kind: .outputLine)
    }

    /// For a line of a file, the file and the line: a writer puts `file:line` out without making the text.
    package var fileLine: (file: String, line: Int)? {
        guard kind == .line, let line else { return nil }
        return (place, line)
    }

    /// `people.csv:12`, `postgres db:5432/hr, row 7`, `line 3 of the output of python3 hr.py`,
    /// or the description given.
    public var description: String {
        guard let line else { return place }
        switch kind {
        case .row: return "\(place), row \(line)"
        case .outputLine: return "line \(line) of the output of \(place)"
        case .place, .line: return "\(place):\(line)"
        }
    }
}

/// One person as a source sees them: a stable id plus attributes.
///
/// The id must identify the person for as long as they exist in the source
/// (an LDAP `entryUUID`, an HR primary key): it is how runs recognise them.
public struct SourceRecord: Sendable {
    /// The stable source id.
    public var id: String
    /// The attribute names, shared by many records.
    public let schema: AttributeSchema
    /// The values, by schema position; `nil` is absent.
    public var values: [AttributeValue?]
    /// Where the record came from, for messages.
    public var location: SourceLocation?

    /// Creates a record from values laid out by a shared schema.
    /// - Parameters:
    ///   - id: the stable source id.
    ///   - schema: the attribute names; `values` has one entry per name.
    ///   - values: the values by position; `nil` for an absent attribute.
    ///   - location: where the record came from.
    public init(id: String, schema: AttributeSchema, values: [AttributeValue?], location: SourceLocation? = nil) {
        precondition(values.count == schema.names.count, "one value per schema name")
        self.id = id
        self.schema = schema
        self.values = values
        self.location = location
    }

    /// Creates a record from a dictionary of attributes (convenient, a little slower).
    /// - Parameters:
    ///   - id: the stable source id.
    ///   - attributes: the attributes; absent ones are simply left out.
    ///   - location: where the record came from.
    public init(id: String, attributes: [String: AttributeValue], location: SourceLocation? = nil) {
        let names = attributes.keys.sorted()
        self.init(id: id, schema: AttributeSchema(names), values: names.map { attributes[$0] }, location: location)
    }

    /// The value of an attribute, or `nil` when it is absent.
    public subscript(name: String) -> AttributeValue? {
        schema.position(of: name).flatMap { values[$0] }
    }

    /// The attributes present, by name.
    public var attributes: [String: AttributeValue] {
        var result: [String: AttributeValue] = [:]
        for (name, value) in zip(schema.names, values) {
            if let value, result[name] == nil { result[name] = value }
        }
        return result
    }
}
