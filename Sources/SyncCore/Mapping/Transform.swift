import ConnectorCore
import Foundation

/// One step that changes a mapped value.
///
/// Values flow as a list (an attribute may have several); a field ends with at
/// most one value, so a multi-valued attribute needs `first` or `join`.
/// An empty result means "absent".
public enum Transform: Sendable, Hashable {
    /// Strips leading and trailing white space.
    case trim
    /// Lower-cases.
    case lowercase
    /// Upper-cases.
    case uppercase
    /// Keeps the first value only.
    case first
    /// Joins all values with a separator.
    case join(String)
    /// Uses this value when there is none.
    case defaultValue(String)
    /// Reads a date in this format and writes it as the API wants (`yyyy-mm-dd`
    /// for date fields, `yyyy-mm-dd HH:MM:SS` for date-times), with an optional zone name.
    case date(DateFormat, zone: String?)
    /// Replaces every match of a regular expression (`$1` refers to a group).
    case replace(pattern: String, with: String)

    static let names = "trim, lowercase, uppercase, first, join, default, date, replace"

    /// Reads a `transform:` value: a list (or one item) of names and one-key mappings.
    static func list(_ node: ConfigNode) throws -> [Transform] {
        switch node.value {
        case .sequence(let items): return try items.map(Transform.init)
        default: return [try Transform(node: node)]
        }
    }

    init(node: ConfigNode) throws {
        if let name = node.scalar {
            switch name {
            case "trim": self = .trim
            case "lowercase": self = .lowercase
            case "uppercase": self = .uppercase
            case "first": self = .first
            case "join": self = .join(", ")
            default:
                throw node.error("names an unknown transform \"\(name)\"", hint: "transforms are: \(Self.names)")
            }
            return
        }
        let section = try node.section()
        guard section.keys.count == 1, let name = section.keys.first else {
            throw node.error("must name one transform, such as `{ default: \"n/a\" }`")
        }
        let argument = section.node(name)
        switch name {
        case "join": self = .join(try argument?.text() ?? ", ")
        case "default":
            guard let argument else { throw node.error("needs a value: `{ default: \"n/a\" }`") }
            self = .defaultValue(try argument.text())
        case "date":
            guard let argument else { throw node.error("needs a format: `{ date: \"MM/dd/yyyy\" }`") }
            var formatText: String
            var zone: String? = nil
            if let text = argument.scalar {
                formatText = text
            } else {
                let options = try argument.section()
                formatText = try options.requiredString("from", hint: "for example `from: MM/dd/yyyy`")
                zone = try options.string("zone")
                try options.finish()
            }
            guard let format = DateFormat(formatText) else {
                throw argument.error(
                    "is not a date format I can read: \"\(formatText)\"",
                    hint: "use a pattern of yyyy, yy, MM, M, dd, d, HH, mm, ss, S and literals, "
                        + "or iso8601, ldap, unix, filetime")
            }
            if let zone, zone.isEmpty || zone.contains(" ") {
                throw argument.error("has a zone name with spaces; use a name such as EST or UTC")
            }
            self = .date(format, zone: zone)
        case "replace":
            guard let argument else { throw node.error("needs `{ replace: { pattern: \"…\", with: \"…\" } }`") }
            let options = try argument.section()
            let pattern = try options.requiredString("pattern")
            let replacement = try options.string("with") ?? ""
            try options.finish()
            do {
                _ = try NSRegularExpression(pattern: pattern)
            } catch {
                throw argument.error("has a pattern that is not a valid regular expression: \(pattern)")
            }
            self = .replace(pattern: pattern, with: replacement)
        default:
            throw node.error("names an unknown transform \"\(name)\"", hint: "transforms are: \(Self.names)")
        }
        try section.finish()
    }
}
