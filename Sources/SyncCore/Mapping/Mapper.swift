import ConnectorCore
import Foundation

/// Turns source records into import rows, as the `mapping:` section says.
///
/// Attribute names are resolved once per ``AttributeSchema``, not per record.
/// A mapper remembers which mapped attributes no record carried a value of (``note(_:)``).
public struct Mapper: Sendable {
    /// The fields every row has, in mapping order.
    public let layout: RowLayout
    private let attributeNames: [String]
    private let fields: [CompiledField]
    private var schema: AttributeSchema?
    private var positions: [Int?] = []
    private var seen: [Bool]
    private var unseenCount: Int

    /// Compiles a mapping.
    /// - Parameters:
    ///   - mappings: the field mappings, in order.
    ///   - catalog: the API's fields and rules.
    public init(_ mappings: [FieldMapping], catalog: FieldCatalog) {
        layout = RowLayout(fields: mappings.map(\.field), catalog: catalog)
        var names: [String] = []
        func index(_ name: String) -> Int {
            if let i = names.firstIndex(of: name) { return i }
            names.append(name)
            return names.count - 1
        }
        let sourceID = FieldMapping.sourceIDAttribute
        func compile(_ mapping: FieldMapping) -> CompiledField.Input {
            switch mapping.input {
            case .attribute(sourceID): return .sourceID
            case .attribute(let name): return .attribute(index(name))
            case .value(let value): return .value(value)
            case .coalesce(let names): return .coalesce(names.map(index))
            case .template(let template):
                return .template(
                    template.parts.map {
                        switch $0 {
                        case .literal(let text): .literal(text)
                        case .attribute(sourceID): .sourceID
                        case .attribute(let name): .attribute(index(name))
                        }
                    })
            case .conditional(let condition, let then, let otherwise):
                func branch(_ mapping: FieldMapping) -> CompiledField.Branch {
                    CompiledField.Branch(
                        input: compile(mapping),
                        steps: mapping.transforms.map {
                            CompiledField.Step($0, dateOnly: catalog.date.contains(mapping.field))
                        })
                }
                return .conditional(
                    CompiledField.Test(
                        attribute: condition.attribute == sourceID ? nil : index(condition.attribute),
                        condition: condition),
                    branch(then), otherwise.map(branch))
            }
        }
        fields = mappings.map { mapping in
            let isDate = catalog.date.contains(mapping.field)
            return CompiledField(
                name: mapping.field, input: compile(mapping),
                steps: mapping.transforms.map { CompiledField.Step($0, dateOnly: isDate) })
        }
        attributeNames = names
        seen = Array(repeating: false, count: names.count)
        unseenCount = names.count
    }

    /// The attributes the mapping reads that no record noted so far carried a value of.
    public var unseenAttributes: [String] {
        zip(attributeNames, seen).filter { !$0.1 }.map(\.0)
    }

    /// The attribute names the mapping reads.
    public var attributes: [String] { attributeNames }

    /// Maps one record.
    /// - Parameters:
    ///   - record: the source record.
    ///   - problems: where to add what went wrong (a date that does not parse, too many values).
    /// - Returns: one value per ``layout`` field; `nil` for absent.
    public mutating func map(_ record: borrowing SourceRecord, problems: inout [RecordProblem]) -> [String?] {
        prepare(for: record.schema)
        note(record.values)
        return mapResolved(record, problems: &problems)
    }

    /// Resolves the mapped attributes' positions in `schema`, unless they are resolved already.
    mutating func prepare(for schema: AttributeSchema) {
        if schema !== self.schema { resolve(schema) }
    }

    /// Notes which mapped attributes a record's values (of the schema ``prepare(for:)`` resolved) carry a
    /// value of. A schema may name attributes no record fills (an LDAP source's is the attributes it
    /// asked for), so values count, not names; once every attribute is seen this is one comparison.
    @inline(__always)
    mutating func note(_ values: [AttributeValue?]) {
        guard unseenCount > 0 else { return }
        for i in seen.indices where !seen[i] {
            if let position = positions[i], values[position] != nil {
                seen[i] = true
                unseenCount -= 1
            }
        }
    }

    /// Maps one record whose schema ``prepare(for:)`` has resolved. Not mutating, so the caller
    /// can pass a record stored in an array without the compiler copying it first.
    @inline(__always)
    func mapResolved(_ record: borrowing SourceRecord, problems: inout [RecordProblem]) -> [String?] {
        var row = [String?]()
        row.reserveCapacity(fields.count)
        for field in fields {
            var value = evaluate(field.input, record, field: field.name, problems: &problems)
            for step in field.steps {
                value = step.apply(value, field: field.name, problems: &problems)
            }
            switch value.compacted {
            case .none: row.append(nil)
            case .one(let text): row.append(text)
            case .many(let values):
                problems.append(
                    RecordProblem(
                        field: field.name, "has \(values.count) values; add `first` or `join` to its transform"))
                row.append(nil)
            }
        }
        return row
    }

    /// A field's value before its transforms.
    @inline(__always)
    private func evaluate(
        _ input: CompiledField.Input, _ record: borrowing SourceRecord, field: String, problems: inout [RecordProblem]
    ) -> Working {
        switch input {
        case .value(let text): return .one(text)
        case .sourceID: return .one(record.id)
        case .attribute(let i): return Working(value(i, of: record))
        case .coalesce(let candidates):
            for i in candidates {
                let found = Working(value(i, of: record)).compacted
                if case .none = found { continue }
                return found
            }
            return .none
        case .template(let parts):
            var text = ""
            for part in parts {
                switch part {
                case .literal(let literal): text += literal
                case .sourceID: text += record.id
                case .attribute(let i):
                    if let attribute = value(i, of: record) {
                        text += attribute.texts.first ?? ""
                    }
                }
            }
            return .one(text)
        case .conditional(let test, let then, let otherwise):
            return branch(test, then, otherwise, record, field: field, problems: &problems)
        }
    }

    /// The value of the branch of an `if:` that the record takes, its own transforms applied.
    private func branch(
        _ test: CompiledField.Test, _ then: CompiledField.Branch, _ otherwise: CompiledField.Branch?,
        _ record: borrowing SourceRecord, field: String, problems: inout [RecordProblem]
    ) -> Working {
        let value: AttributeValue?
        if let i = test.attribute { value = self.value(i, of: record) } else { value = .text(record.id) }
        guard let taken = test.condition.holds(value) ? then : otherwise else { return .none }
        var result = evaluate(taken.input, record, field: field, problems: &problems)
        for step in taken.steps { result = step.apply(result, field: field, problems: &problems) }
        return result
    }

    /// The value of the `i`th mapped attribute in a record. (perf: not a closure, which would copy the record.)
    @inline(__always)
    private func value(_ i: Int, of record: borrowing SourceRecord) -> AttributeValue? {
        guard let position = positions[i] else { return nil }
        return record.values[position]
    }

    private mutating func resolve(_ schema: AttributeSchema) {
        self.schema = schema
        positions = attributeNames.map(schema.position(of:))
    }
}
