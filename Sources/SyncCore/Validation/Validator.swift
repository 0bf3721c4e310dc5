/// Checks mapped rows against the API's field rules (compliance-api.md) and
/// normalises what has one right spelling (SSNs, date-only date-times).
///
/// Problems name the field and the rule, never the value: it may be an SSN.
public struct Validator: Sendable {
    private let layout: RowLayout
    private let checks: [(position: Int, rule: Rule)]
    private let required: [(position: Int?, field: String)]

    enum Rule { case email, ssn, dateTime, date, numeric }

    /// Creates a validator for rows of `layout`.
    public init(layout: RowLayout) {
        self.layout = layout
        let catalog = layout.catalog
        var checks: [(Int, Rule)] = []
        for (position, field) in layout.fields.enumerated() {
            if catalog.email.contains(field) { checks.append((position, .email)) }
            if catalog.ssn.contains(field) { checks.append((position, .ssn)) }
            if catalog.dateTime.contains(field) { checks.append((position, .dateTime)) }
            if catalog.date.contains(field) { checks.append((position, .date)) }
            if catalog.numeric.contains(field) { checks.append((position, .numeric)) }
        }
        self.checks = checks
        required = catalog.required.map { (layout.position(of: $0), $0) }
    }

    /// Checks a row, normalising values in place.
    /// - Parameters:
    ///   - row: one value per layout field.
    ///   - problems: where to add each broken rule.
    public func validate(_ row: inout [String?], problems: inout [RecordProblem]) {
        for (position, field) in required where position.flatMap({ row[$0] }) == nil {
            problems.append(RecordProblem(field: field, "is required but empty or not mapped"))
        }
        for (position, rule) in checks {
            guard let value = row[position] else { continue }
            let field = layout.fields[position]
            switch rule {
            case .email:
                if !Self.isEmail(value) { problems.append(RecordProblem(field: field, "is not a valid email address")) }
            case .ssn:
                if let normal = Self.normalisedSSN(value) {
                    row[position] = normal
                } else {
                    problems.append(RecordProblem(field: field, "is not an SSN in the form 555-55-5555 or 9 digits"))
                }
            case .dateTime:
                if let normal = Self.normalisedDateTime(value) {
                    row[position] = normal
                } else {
                    problems.append(
                        RecordProblem(
                            field: field,
                            "is not a date-time in the form yyyy-mm-dd HH:MM:SS with an optional zone name"))
                }
            case .date:
                if DateFormat.isoDate.parse(value) == nil {
                    problems.append(RecordProblem(field: field, "is not a date in the form yyyy-mm-dd"))
                }
            case .numeric:
                if value.isEmpty || !value.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
                    problems.append(RecordProblem(field: field, "is not a whole number"))
                }
            }
        }
    }

    /// A practical address check: one `@`, a local part of printable characters
    /// without spaces, a domain of dot-separated labels of letters, digits and
    /// hyphens with at least one dot.
    public static func isEmail(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            guard bytes.count <= 254, let at = bytes.firstIndex(of: UInt8(ascii: "@")), at > 0, at <= 64,
                at + 1 < bytes.count
            else { return false }
            for i in 0..<at {
                switch bytes[i] {
                case 0...32, 127, UInt8(ascii: "@"), UInt8(ascii: ","), UInt8(ascii: "<"), UInt8(ascii: ">"),
                    UInt8(ascii: "\""), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: ";"), UInt8(ascii: "["),
                    UInt8(ascii: "]"), UInt8(ascii: "\\"):
                    return false
                default: continue
                }
            }
            if bytes[0] == UInt8(ascii: ".") || bytes[at - 1] == UInt8(ascii: ".") { return false }
            var labelStart = at + 1
            var labels = 0
            for i in (at + 1)...bytes.count {
                if i == bytes.count || bytes[i] == UInt8(ascii: ".") {
                    let length = i - labelStart
                    guard length > 0, length <= 63, bytes[labelStart] != UInt8(ascii: "-"),
                        bytes[i - 1] != UInt8(ascii: "-")
                    else { return false }
                    labels += 1
                    labelStart = i + 1
                    continue
                }
                let b = bytes[i]
                let ok =
                    (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122)
                    || b == UInt8(ascii: "-") || b >= 0x80
                if !ok { return false }
            }
            return labels >= 2
        }
    }

    /// `555-55-5555` for `555-55-5555` or `555555555`; `nil` for anything else.
    public static func normalisedSSN(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        let isDigit = { (b: UInt8) in b >= 48 && b <= 57 }
        if bytes.count == 11, bytes[3] == 45, bytes[6] == 45,
            bytes.enumerated().allSatisfy({ $0.offset == 3 || $0.offset == 6 || isDigit($0.element) })
        {
            return text
        }
        if bytes.count == 9, bytes.allSatisfy(isDigit) {
            let s = String(decoding: bytes, as: UTF8.self)
            let a = s.prefix(3), b = s.dropFirst(3).prefix(2), c = s.suffix(4)
            return "\(a)-\(b)-\(c)"
        }
        return nil
    }

    /// `yyyy-mm-dd HH:MM:SS[ ZONE]` as given; `yyyy-mm-dd` becomes `yyyy-mm-dd 00:00:00`; `nil` otherwise.
    public static func normalisedDateTime(_ text: String) -> String? {
        let bytes = text.utf8
        if bytes.count == 10 {
            return DateFormat.isoDate.parse(text) != nil ? text + " 00:00:00" : nil
        }
        guard bytes.count >= 19 else { return nil }
        let head = String(decoding: bytes.prefix(19), as: UTF8.self)
        guard DateFormat.isoDateTime.parse(head) != nil else { return nil }
        let zone = bytes.dropFirst(19)
        if zone.isEmpty { return text }
        guard zone.first == UInt8(ascii: " "), zone.count >= 2 else { return nil }
        let ok = zone.dropFirst().allSatisfy {
            ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9"))
                || $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "+")
                || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ":")
        }
        return ok ? text : nil
    }
}

extension DateFormat {
    static let isoDate = DateFormat("yyyy-MM-dd")!
    static let isoDateTime = DateFormat("yyyy-MM-dd HH:mm:ss")!
}
