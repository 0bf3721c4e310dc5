import ConnectorCore
import Foundation

/// A value on its way through the transforms.
enum Working {
    case none
    case one(String)
    case many([String])

    init(_ attribute: AttributeValue?) {
        switch attribute {
        case nil: self = .none
        case .text(let text)?: self = .one(text)
        case .multiple(let values)?: self = values.isEmpty ? .none : values.count == 1 ? .one(values[0]) : .many(values)
        case .binary?: self = .one(attribute!.texts[0])
        }
    }

    /// Empty strings dropped; what is left.
    var compacted: Working {
        switch self {
        case .none: .none
        case .one(let text): text.isEmpty ? .none : self
        case .many(let values):
            {
                let kept = values.filter { !$0.isEmpty };
                return kept.isEmpty ? .none : kept.count == 1 ? .one(kept[0]) : .many(kept)
            }()
        }
    }

    func each(_ body: (String) -> String?) -> Working {
        switch self {
        case .none: .none
        case .one(let text): body(text).map(Working.one) ?? .none
        case .many(let values): Working(values: values.compactMap(body))
        }
    }

    /// A list as a value: none, one, or many (a transform may drop every value of a list).
    init(values: [String]) {
        self = values.isEmpty ? .none : values.count == 1 ? .one(values[0]) : .many(values)
    }
}

/// One mapped field, ready to run.
struct CompiledField: Sendable {
    enum Input: Sendable {
        case attribute(Int)
        case sourceID
        case coalesce([Int])
        case template([TemplatePart])
        case value(String)
        // perf: only this case is boxed; an `indirect enum` would box every case, and each field's
        // read would retain and release its box.
        indirect case conditional(Test, Branch, Branch?)
    }

    /// An `if:`'s condition, its attribute resolved like the others (`nil` for `$id`).
    struct Test: Sendable {
        let attribute: Int?
        let condition: Condition
    }

    /// A `then:` or `else:`: where its value comes from, and its own transforms.
    struct Branch: Sendable {
        let input: Input
        let steps: [Step]
    }

    enum TemplatePart: Sendable {
        case literal(String)
        case sourceID
        case attribute(Int)
    }

    enum Step: Sendable {
        case trim, lowercase, uppercase, first
        case join(String)
        case defaultValue(String)
        case date(DateFormat, zone: String?, dateOnly: Bool)
        case replace(NSRegularExpression, String)
        case extract(NSRegularExpression)
        case lookup([String: String], String?, String)

        init(_ transform: Transform, dateOnly: Bool) {
            switch transform {
            case .trim: self = .trim
            case .lowercase: self = .lowercase
            case .uppercase: self = .uppercase
            case .first: self = .first
            case .join(let separator): self = .join(separator)
            case .defaultValue(let value): self = .defaultValue(value)
            case .date(let format, let zone): self = .date(format, zone: zone, dateOnly: dateOnly)
            // The pattern was compiled once already when the config was read.
            case .replace(let pattern, let with): self = .replace(try! NSRegularExpression(pattern: pattern), with)
            case .extract(let pattern): self = .extract(try! NSRegularExpression(pattern: pattern))
            case .lookup(let table, let fallback, let name): self = .lookup(table, fallback, name)
            }
        }

        func apply(_ value: Working, field: String, problems: inout [RecordProblem]) -> Working {
            switch self {
            case .trim: return value.each(FastText.trimmed)
            case .lowercase: return value.each(FastText.lowercased)
            case .uppercase: return value.each { $0.uppercased() }
            case .first:
                if case .many(let values) = value { return values.first.map(Working.one) ?? .none }
                return value
            case .join(let separator):
                if case .many(let values) = value { return .one(values.joined(separator: separator)) }
                return value
            case .defaultValue(let fallback):
                if case .none = value.compacted { return .one(fallback) }
                return value
            case .date(let format, let zone, let dateOnly):
                return value.each { text in
                    guard !text.isEmpty else { return text }
                    // AD's "never" (an account that does not expire) is no date, not a bad one.
                    if format.isNever(text) { return nil }
                    guard let parsed = format.parse(text) else {
                        problems.append(RecordProblem(field: field, "does not match the date format \(format)"))
                        return nil
                    }
                    if dateOnly { return parsed.dateText }
                    if parsed.offset != nil { return parsed.inUTC.dateTimeText }
                    return zone.map { "\(parsed.dateTimeText) \($0)" } ?? parsed.dateTimeText
                }
            case .replace(let regex, let template):
                return value.each { text in
                    regex.stringByReplacingMatches(
                        in: text, range: NSRange(text.startIndex..., in: text), withTemplate: template)
                }
            case .extract(let regex):
                return value.each { text in
                    guard let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
                        let range = Range(match.range(at: 1), in: text)
                    else { return nil }
                    return String(text[range])
                }
            case .lookup(let table, let fallback, let name):
                var missing = false
                let mapped = value.each { text in
                    if let found = table[text] { return found }
                    if fallback == nil { missing = true }
                    return fallback
                }
                if missing {
                    problems.append(
                        RecordProblem(
                            field: field,
                            "has a value that is not in its lookup table (\(name)); add it, or a `default`"))
                }
                return mapped
            }
        }
    }

    let name: String
    let input: Input
    let steps: [Step]
}
