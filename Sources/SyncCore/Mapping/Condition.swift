import ConnectorCore
import Foundation

/// A test of one attribute of a record: `{ attribute: status, equals: active }`, `in: [a, b]`,
/// `matches: "^E[0-9]+$"` or `present: true`. A multi-valued attribute meets `equals`, `in` and
/// `matches` when any of its values does. Used by `if:` in a mapping and by a source's
/// `include:` and `exclude:`.
public struct Condition: Sendable {
    /// What is asked of the attribute.
    public enum Test: Sendable {
        case equals(String)
        case oneOf(Set<String>)
        case matches(NSRegularExpression)
        case present(Bool)
    }

    /// The attribute tested (`$id` for the source id).
    public var attribute: String
    /// The test.
    public var test: Test

    /// Reads one condition.
    init(node: ConfigNode) throws {
        let section = try node.section()
        attribute = try section.requiredString("attribute", hint: "the attribute the condition tests")
        let tests = ["equals", "in", "matches", "present"].filter { section.has($0) }
        guard tests.count == 1 else {
            throw node.error(
                "must have exactly one of equals, in, matches or present",
                hint: "for example `{ attribute: status, in: [active, on_leave] }`")
        }
        switch tests[0] {
        case "equals": test = .equals(try section.requiredString("equals"))
        case "in": test = .oneOf(Set(try section.strings("in") ?? []))
        case "matches":
            let pattern = try section.requiredString("matches")
            guard let regex = try? NSRegularExpression(pattern: pattern) else {
                throw section.node("matches")!.error("is not a valid regular expression")
            }
            test = .matches(regex)
        default: test = .present(try section.bool("present") ?? true)
        }
        try section.finish()
    }

    /// Reads a condition or a list of them (`include:` and `exclude:`).
    static func list(_ node: ConfigNode) throws -> [Condition] {
        if case .sequence(let items) = node.value { return try items.map(Condition.init) }
        return [try Condition(node: node)]
    }

    /// Whether a record's value of the attribute meets the test.
    public func holds(_ value: AttributeValue?) -> Bool {
        let texts = value?.texts.filter { !$0.isEmpty } ?? []
        switch test {
        case .present(let wanted): return texts.isEmpty != wanted
        case .equals(let expected): return texts.contains(expected)
        case .oneOf(let allowed): return texts.contains(where: allowed.contains)
        case .matches(let regex):
            return texts.contains { regex.firstMatch(in: $0, range: NSRange($0.startIndex..., in: $0)) != nil }
        }
    }

    /// Whether a record meets the test (its id standing for `$id`).
    public func holds(for record: borrowing SourceRecord) -> Bool {
        if attribute == FieldMapping.sourceIDAttribute { return holds(.text(record.id)) }
        return holds(record.schema.position(of: attribute).flatMap { record.values[$0] })
    }
}

/// A source's `include:` and `exclude:`: which of its records count at all. A record counts when
/// it meets every `include` condition and no `exclude` condition; one that does not is as if the
/// source did not hold it (so a person filtered out is removed, and the removal guards apply).
public struct RecordFilter: Sendable {
    /// Every one must hold.
    public var include: [Condition] = []
    /// None may hold.
    public var exclude: [Condition] = []

    /// No filter.
    public init() {}

    /// Reads `include:` and `exclude:` from a source's section (marking them read).
    init(section: ConfigSection) throws {
        include = try section.node("include").map(Condition.list) ?? []
        exclude = try section.node("exclude").map(Condition.list) ?? []
    }

    /// Whether there is anything to filter.
    public var isEmpty: Bool { include.isEmpty && exclude.isEmpty }

    /// Whether a record counts.
    public func keeps(_ record: borrowing SourceRecord) -> Bool {
        for condition in include where !condition.holds(for: record) { return false }
        for condition in exclude where condition.holds(for: record) { return false }
        return true
    }
}
