import ConnectorCore
import Foundation

/// How one import field is made from a source record (one line under `mapping:`).
///
/// Written as an attribute name (`first_name: givenName`), or as a mapping with
/// one of `attribute:`, `template:` (`"{givenName} {sn}"`) or `value:`, an
/// optional `transform:` list, and `optional: true` when no record need carry
/// its attributes. The record's source id is the attribute `$id`.
public struct FieldMapping: Sendable {
    /// The name that stands for the record's source id in a mapping (`employee_id: $id`).
    public static let sourceIDAttribute = "$id"

    /// Where the value comes from.
    public enum Input: Sendable {
        /// An attribute's values.
        case attribute(String)
        /// Text with `{attribute}` placeholders; `{{` and `}}` stand for braces.
        case template(Template)
        /// A fixed value.
        case value(String)
        /// The first of these attributes that has a value (`coalesce: [ad.mail, hr.work_email]`).
        case coalesce([String])
        /// `if:` a condition, `then:` one mapping, `else:` another (or no value).
        indirect case conditional(Condition, then: FieldMapping, else: FieldMapping?)
    }

    /// The import field this makes.
    public var field: String
    /// Where its value comes from.
    public var input: Input
    /// What is done to the value, in order.
    public var transforms: [Transform]
    /// Where the mapping was written.
    public var location: ConfigLocation?
    /// Whether a source may carry none of its attributes (`optional: true`); otherwise a run whose
    /// records all lack one stops, since the mapping would send nothing for everyone.
    public var optional: Bool

    /// Creates a field mapping.
    public init(
        field: String, input: Input, transforms: [Transform] = [], location: ConfigLocation? = nil,
        optional: Bool = false
    ) {
        self.field = field
        self.input = input
        self.transforms = transforms
        self.location = location
        self.optional = optional
    }

    /// The attribute names the mapping reads from records (not `$id`, which every record has).
    public var attributes: [String] {
        switch input {
        case .attribute(let name): name == Self.sourceIDAttribute ? [] : [name]
        case .template(let template): template.attributes.filter { $0 != Self.sourceIDAttribute }
        case .value: []
        case .coalesce(let names): names.filter { $0 != Self.sourceIDAttribute }
        case .conditional(let condition, let then, let otherwise):
            ([condition.attribute] + then.attributes + (otherwise?.attributes ?? [])).reduce(into: []) { names, name in
                if name != Self.sourceIDAttribute && !names.contains(name) { names.append(name) }
            }
        }
    }

    /// Whether one attribute with a value is enough for the mapping to make one (a coalesce, an if).
    var needsAnyAttribute: Bool {
        switch input {
        case .coalesce, .conditional: true
        default: false
        }
    }

    /// The attribute name a source is asked for when a mapping follows `attribute` (a DN) to another
    /// entry's `target`: `manager->mail`. The LDAP source reads it; other sources never carry it.
    public static func followed(_ attribute: String, _ target: String) -> String { "\(attribute)->\(target)" }

    /// Reads one `mapping:` entry.
    /// - Parameter folder: the job file's folder, where a lookup's `table_file` is.
    package init(field: String, node: ConfigNode, folder: String = ".") throws {
        self.field = field
        location = node.location
        if let attribute = node.scalar {
            guard !attribute.isEmpty else { throw node.error("names no attribute") }
            input = .attribute(attribute)
            transforms = []
            optional = false
            return
        }
        let section = try node.section()
        let inputs = ["attribute", "template", "value", "coalesce", "if"].filter { section.has($0) }
        guard inputs.count == 1 else {
            throw node.error(
                "must have exactly one of attribute, template, value, coalesce or if",
                hint: #"for example `{ attribute: mail, transform: [trim, lowercase] }`"#)
        }
        switch inputs[0] {
        case "attribute":
            let attribute = try section.requiredString("attribute")
            // `follow:` reads an attribute of the entry a DN-valued attribute names (a directory's `manager`).
            input = .attribute(try section.string("follow").map { Self.followed(attribute, $0) } ?? attribute)
        case "template":
            guard let templateNode = section.node("template") else {
                throw node.error("has an empty `template`", hint: #"for example `{ template: "{givenName} {sn}" }`"#)
            }
            guard let template = Template(try templateNode.text()) else {
                throw templateNode.error("has an unbalanced `{` or `}`", hint: "write {{ and }} for literal braces")
            }
            input = .template(template)
        case "coalesce":
            let names = try section.strings("coalesce") ?? []
            guard !names.isEmpty, names.allSatisfy({ !$0.isEmpty }) else {
                throw section.node("coalesce")!.error(
                    "must list the attributes to try, in order",
                    hint: "for example `coalesce: [ad.mail, hr.work_email]`")
            }
            input = .coalesce(names)
        case "if":
            let condition = try Condition(node: section.node("if")!)
            guard let then = section.node("then") else {
                throw node.error(
                    "has `if:` without `then:`",
                    hint:
                        #"for example `{ if: { attribute: type, equals: C }, then: { value: "Contractor" }, else: title }`"#
                )
            }
            input = .conditional(
                condition, then: try FieldMapping(field: field, node: then, folder: folder),
                else: try section.node("else").map { try FieldMapping(field: field, node: $0, folder: folder) })
        default: input = .value(try section.string("value") ?? "")
        }
        if !inputs.contains("if"), let stray = ["then", "else"].first(where: section.has) {
            throw section.node(stray)!.error("needs an `if:` beside it")
        }
        transforms = try section.node("transform").map { try Transform.list($0, folder: folder) } ?? []
        optional = try section.bool("optional") ?? false
        try section.finish()
    }
}

/// Text with `{attribute}` placeholders.
public struct Template: Sendable, Hashable {
    /// A piece of a template.
    public enum Part: Sendable, Hashable {
        case literal(String)
        case attribute(String)
    }

    /// The pieces in order.
    public let parts: [Part]

    /// Parses a template; `nil` when braces are unbalanced or a placeholder is empty.
    public init?(_ text: String) {
        var parts: [Part] = []
        var literal = ""
        var iterator = Array(text).makeIterator()
        var pending: Character? = nil
        while let c = pending ?? iterator.next() {
            pending = nil
            if c == "{" {
                let next = iterator.next()
                if next == "{" { literal.append("{"); continue }
                var name = next.map(String.init) ?? ""
                var closed = false
                while let n = iterator.next() {
                    if n == "}" { closed = true; break }
                    name.append(n)
                }
                name = name.trimmingCharacters(in: .whitespaces)
                guard closed, !name.isEmpty, name != "}" else { return nil }
                if !literal.isEmpty { parts.append(.literal(literal)); literal = "" }
                parts.append(.attribute(name))
            } else if c == "}" {
                guard iterator.next() == "}" else { return nil }
                literal.append("}")
            } else {
                literal.append(c)
            }
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        self.parts = parts
    }

    /// The attribute names the template reads, once each.
    public var attributes: [String] {
        var seen: [String] = []
        for case .attribute(let name) in parts where !seen.contains(name) { seen.append(name) }
        return seen
    }
}
