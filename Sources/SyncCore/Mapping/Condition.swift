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
    /// Whether a run may find no record with a value of the attribute (`optional: true`). Otherwise,
    /// in `include:` and `exclude:`, such a run stops: a filter on an attribute nobody carries
    /// (a misspelling, a column the export lost) would keep or leave out everyone.
    public var optional = false
    /// Where the condition is written, for messages.
    public var location: ConfigLocation?
    /// The condition's path in the job (`source.exclude[1]`), for messages.
    public var path: String?

    /// A condition made in code.
    public init(attribute: String, test: Test, optional: Bool = false) {
        self.attribute = attribute
        self.test = test
        self.optional = optional
    }

    /// Reads one condition.
    package init(node: ConfigNode) throws {
        let section = try node.section()
        location = node.location
        path = node.path
        attribute = try section.requiredString("attribute", hint: "the attribute the condition tests")
        optional = try section.bool("optional") ?? false
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
    package init(section: ConfigSection) throws {
        include = try section.node("include").map(Condition.list) ?? []
        exclude = try section.node("exclude").map(Condition.list) ?? []
    }

    /// Whether there is anything to filter.
    public var isEmpty: Bool { include.isEmpty && exclude.isEmpty }

    /// Every condition, the includes first.
    public var conditions: [Condition] { include + exclude }

    /// The attributes the conditions test, in order, without `$id` (which every record has).
    public var attributes: [String] {
        var names: [String] = []
        for condition in conditions
        where condition.attribute != FieldMapping.sourceIDAttribute && !names.contains(condition.attribute) {
            names.append(condition.attribute)
        }
        return names
    }

    /// The first condition, not `optional`, that tests an attribute no record carried a value of,
    /// given the attributes that were seen; `nil` when every one was.
    public func untested(seen: Set<String>) -> Condition? {
        conditions.first { condition in
            !condition.optional && condition.attribute != FieldMapping.sourceIDAttribute
                && !seen.contains(condition.attribute)
        }
    }

    /// The error for a condition whose attribute no record of `records` records of `source` carried.
    static func notCarried(_ condition: Condition, records: Int, source: String) -> SyncError {
        let name = condition.attribute
        return SyncError.config(
            "`\(condition.path ?? "source")` tests `\(name)`, which none of the \(records) records of \(source) "
                + "has a value of; nothing was sent",
            at: condition.location,
            hint: "check the attribute's spelling (an LDAP attribute's, a column's; the record's own id is `$id`); "
                + "if no record may carry it yet, add `optional: true` to the condition")
    }

    /// Whether a record counts.
    public func keeps(_ record: borrowing SourceRecord) -> Bool {
        for condition in include where !condition.holds(for: record) { return false }
        for condition in exclude where condition.holds(for: record) { return false }
        return true
    }
}

/// Which attributes of a filter the records noted so far carried a value of: a filter on an
/// attribute no record carries keeps or leaves out everyone, and stops the run instead.
struct FilterSightings: Sendable {
    /// The attributes the filter tests.
    let names: [String]
    private var seen: [Bool]
    private var unseenCount: Int
    private var schema: AttributeSchema?
    private var positions: [Int?] = []

    /// Watches the attributes `filter` tests.
    init(_ filter: RecordFilter) {
        names = filter.attributes
        seen = Array(repeating: false, count: names.count)
        unseenCount = names.count
    }

    /// The attributes seen with a value.
    var seenNames: Set<String> { Set(zip(names, seen).filter(\.1).map(\.0)) }

    /// Notes which of the attributes a record has a value of (an empty text is no value, as for
    /// the conditions themselves); once every one is seen this is one comparison.
    mutating func note(_ record: borrowing SourceRecord) {
        guard unseenCount > 0 else { return }
        if record.schema !== schema {
            schema = record.schema
            positions = names.map(record.schema.position(of:))
        }
        for i in seen.indices where !seen[i] {
            if let position = positions[i], let value = record.values[position],
                value.texts.contains(where: { !$0.isEmpty })
            {
                seen[i] = true
                unseenCount -= 1
            }
        }
    }
}
