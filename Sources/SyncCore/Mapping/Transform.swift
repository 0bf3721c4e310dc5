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
    /// Keeps the first capture group of a regular expression's first match; no match is no value.
    case extract(pattern: String)
    /// Maps each value through a table; a value not in it takes the default, or makes the record
    /// invalid when there is none. `name` says where the table is written, for messages.
    case lookup(table: [String: String], default: String?, name: String)

    static let names = "trim, lowercase, uppercase, first, join, default, date, replace, extract, lookup"

    /// Reads a `transform:` value: a list (or one item) of names and one-key mappings.
    /// - Parameter folder: where a lookup's `table_file` is found (the job file's folder).
    static func list(_ node: ConfigNode, folder: String = ".") throws -> [Transform] {
        switch node.value {
        case .sequence(let items): return try items.map { try Transform(node: $0, folder: folder) }
        default: return [try Transform(node: node, folder: folder)]
        }
    }

    package init(node: ConfigNode, folder: String = ".") throws {
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
        case "extract":
            guard let argument else { throw node.error("needs a pattern: `{ extract: \"^([A-Z]+)-\" }`") }
            let pattern = try argument.text()
            guard let regex = try? NSRegularExpression(pattern: pattern) else {
                throw argument.error("is not a valid regular expression: \(pattern)")
            }
            guard regex.numberOfCaptureGroups >= 1 else {
                throw argument.error(
                    "has no capture group: the value is what the first ( ) matches",
                    hint: "for example `{ extract: \"^E0*([0-9]+)$\" }`")
            }
            self = .extract(pattern: pattern)
        case "lookup":
            guard let argument else { throw node.error("needs `{ lookup: { table: {...} } }` or `table_file:`") }
            self = try Self.lookup(argument, folder: folder)
        default:
            throw node.error("names an unknown transform \"\(name)\"", hint: "transforms are: \(Self.names)")
        }
        try section.finish()
    }

    /// Reads `{ table: { from: to, ... } }` or `{ table_file: codes.csv }`, with an optional `default:`.
    private static func lookup(_ node: ConfigNode, folder: String) throws -> Transform {
        let options = try node.section()
        let fallback = try options.string("default")
        var table: [String: String] = [:]
        let name: String
        switch (options.node("table"), try options.path("table_file", relativeTo: folder)) {
        case (let inline?, nil):
            let entries = try inline.section()
            for key in entries.keys { table[key] = try entries.string(key) ?? "" }
            name = "the table at \(inline.location)"
        case (nil, let path?):
            table = try LookupTable.read(path, at: options.node("table_file")!)
            name = (path as NSString).lastPathComponent
        default:
            throw node.error(
                "needs exactly one of `table:` (inline) or `table_file:` (a CSV file of two columns)",
                hint: "for example `{ lookup: { table: { \"10\": \"101\" }, default: \"100\" } }`")
        }
        try options.finish()
        return .lookup(table: table, default: fallback, name: name)
    }
}

/// A lookup table kept in a CSV file beside the job: two columns, the value and what it becomes,
/// with a header line (`from,to`, any names).
enum LookupTable {
    static func read(_ path: String, at node: ConfigNode) throws -> [String: String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw node.error("cannot read \(path)", hint: "give a readable CSV file of two columns, with a header line")
        }
        var table: [String: String] = [:]
        let lines = String(decoding: data, as: UTF8.self).split(omittingEmptySubsequences: false) {
            $0 == "\n" || $0 == "\r\n"
        }
        for (number, line) in lines.enumerated().dropFirst() where !line.isEmpty {
            let cells = Self.cells(String(line))
            guard cells.count == 2 else {
                throw node.error(
                    "\(path):\(number + 1) has \(cells.count) columns, not 2", hint: "each line is: value,becomes")
            }
            if table.updateValue(cells[1], forKey: cells[0]) != nil {
                throw node.error("\(path):\(number + 1) gives a value a second time", hint: "each value once")
            }
        }
        return table
    }

    /// The cells of a CSV line: commas separate, double quotes quote, `""` is a quote.
    static func cells(_ line: String) -> [String] {
        var cells: [String] = [], cell = "", quoted = false
        var characters = line[...]
        while let c = characters.popFirst() {
            if quoted {
                if c == "\"" {
                    if characters.first == "\"" { cell.append("\""); characters.removeFirst() } else { quoted = false }
                } else {
                    cell.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                cells.append(cell)
                cell = ""
            } else {
                cell.append(c)
            }
        }
        cells.append(cell)
        return cells
    }
}
