/// How a `date` transform reads its input.
///
/// Either a pattern of fields and literals (`MM/dd/yyyy`, `yyyy-MM-dd HH:mm:ss`,
/// `dd.MM.yy`) or a named format: `iso8601`, `ldap` (generalized time,
/// `20260131120000Z`), `unix` (seconds since 1970) or `filetime` (Active
/// Directory's 100-nanosecond ticks since 1601).
public struct DateFormat: Sendable, Hashable, CustomStringConvertible {
    private enum Kind: Hashable, Sendable {
        case pattern([Token])
        case iso8601, ldap, unix, filetime
    }

    private enum Token: Hashable, Sendable {
        case year4, year2, month, day, hour, minute, second, fraction, literal(UInt8)
        /// Fixed-width (`MM`) or 1–2 digits (`M`).
        case flexible(Field)
    }

    private enum Field: Hashable, Sendable { case month, day, hour }

    private let kind: Kind
    public let description: String

    /// Parses a format's spelling.
    /// - Returns: `nil` when the pattern has no year, month and day, or an unknown letter.
    public init?(_ text: String) {
        description = text
        switch text.lowercased() {
        case "iso8601": kind = .iso8601; return
        case "ldap", "generalized": kind = .ldap; return
        case "unix", "epoch": kind = .unix; return
        case "filetime", "windows": kind = .filetime; return
        default: break
        }
        var tokens: [Token] = []
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            var run = 1
            while i + run < bytes.count && bytes[i + run] == c { run += 1 }
            switch (c, run) {
            case (UInt8(ascii: "y"), 4): tokens.append(.year4)
            case (UInt8(ascii: "y"), 2): tokens.append(.year2)
            case (UInt8(ascii: "M"), 2): tokens.append(.month)
            case (UInt8(ascii: "M"), 1): tokens.append(.flexible(.month))
            case (UInt8(ascii: "d"), 2): tokens.append(.day)
            case (UInt8(ascii: "d"), 1): tokens.append(.flexible(.day))
            case (UInt8(ascii: "H"), 2): tokens.append(.hour)
            case (UInt8(ascii: "H"), 1): tokens.append(.flexible(.hour))
            case (UInt8(ascii: "m"), 2): tokens.append(.minute)
            case (UInt8(ascii: "s"), 2): tokens.append(.second)
            case (UInt8(ascii: "S"), _): tokens.append(.fraction)
            case (let letter, _)
            where (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(letter)
                || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(letter):
                return nil
            default:
                tokens.append(contentsOf: repeatElement(.literal(c), count: run))
            }
            i += run
        }
        let has = { (t: Token) in tokens.contains(t) }
        guard has(.year4) || has(.year2), has(.month) || has(.flexible(.month)), has(.day) || has(.flexible(.day))
        else { return nil }
        kind = .pattern(tokens)
    }

    /// Reads `text`, or `nil` when it does not match or is not a real date.
    /// Whether `text` is Active Directory's "never" for a `filetime` (0, or the largest 64-bit number):
    /// no date at all, rather than one that cannot be read.
    func isNever(_ text: String) -> Bool {
        guard case .filetime = kind else { return false }
        return text == "0" || text == "9223372036854775807"
    }

    func parse(_ text: String) -> CivilDateTime? {
        let bytes = Array(text.utf8)
        let result: CivilDateTime?
        switch kind {
        case .pattern(let tokens): result = Self.parse(bytes, tokens)
        case .iso8601: result = Self.parseISO(bytes)
        case .ldap: result = Self.parseGeneralized(bytes)
        case .unix:
            // Years 1 to 9999 only: anything beyond is no date, and would overflow the arithmetic.
            guard let seconds = Int(text), (-62_135_596_800...253_402_300_799).contains(seconds) else { return nil }
            result = CivilDateTime(secondsSinceEpoch: seconds, offset: 0)
        case .filetime:
            // 0 and Int64.max mean "never" in Active Directory.
            guard let ticks = Int(text), ticks > 0, ticks < 2_650_467_743_990_000_000 else { return nil }
            result = CivilDateTime(secondsSinceEpoch: ticks / 10_000_000 - 11_644_473_600, offset: 0)
        }
        guard let result, result.isValid else { return nil }
        return result
    }

    private static func parse(_ b: [UInt8], _ tokens: [Token]) -> CivilDateTime? {
        var value = CivilDateTime(year: 0, month: 0, day: 0)
        var i = 0
        func digits(_ min: Int, _ max: Int) -> Int? {
            var n = 0
            var count = 0
            while count < max, i < b.count, b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") {
                n = n * 10 + Int(b[i] - 48)
                i += 1
                count += 1
            }
            return count >= min ? n : nil
        }
        for token in tokens {
            switch token {
            case .year4: guard let n = digits(4, 4) else { return nil }; value.year = n
            case .year2: guard let n = digits(2, 2) else { return nil }; value.year = n < 70 ? 2000 + n : 1900 + n
            case .month: guard let n = digits(2, 2) else { return nil }; value.month = n
            case .day: guard let n = digits(2, 2) else { return nil }; value.day = n
            case .hour: guard let n = digits(2, 2) else { return nil }; value.hour = n
            case .minute: guard let n = digits(2, 2) else { return nil }; value.minute = n
            case .second: guard let n = digits(2, 2) else { return nil }; value.second = n
            case .fraction: guard digits(1, 9) != nil else { return nil }
            case .flexible(let field):
                guard let n = digits(1, 2) else { return nil }
                switch field {
                case .month: value.month = n
                case .day: value.day = n
                case .hour: value.hour = n
                }
            case .literal(let c):
                guard i < b.count, b[i] == c else { return nil }
                i += 1
            }
        }
        return i == b.count ? value : nil
    }

    /// `yyyy-MM-dd`, optionally `T` or space, `HH:mm[:ss[.fff]]`, optionally `Z` or `±hh[:]mm`.
    private static func parseISO(_ b: [UInt8]) -> CivilDateTime? {
        guard let date = parse(Array(b.prefix(10)), [.year4, .literal(45), .month, .literal(45), .day]) else {
            return nil
        }
        var value = date
        var i = 10
        guard i < b.count else { return value }
        guard b[i] == UInt8(ascii: "T") || b[i] == UInt8(ascii: " ") else { return nil }
        i += 1
        var timeEnd = i
        while timeEnd < b.count, b[timeEnd] != UInt8(ascii: "Z"), b[timeEnd] != UInt8(ascii: "+"),
            b[timeEnd] != UInt8(ascii: "-")
        {
            timeEnd += 1
        }
        var time = Array(b[i..<timeEnd])
        if let dot = time.firstIndex(of: UInt8(ascii: ".")) { time = Array(time[..<dot]) }
        let pattern: [Token] =
            time.count == 5
            ? [.hour, .literal(58), .minute] : [.hour, .literal(58), .minute, .literal(58), .second]
        guard let t = parse(time, pattern) else { return nil }
        (value.hour, value.minute, value.second) = (t.hour, t.minute, t.second)
        guard timeEnd < b.count else { return value }
        let zone = Array(b[timeEnd...])
        if zone == [UInt8(ascii: "Z")] { value.offset = 0; return value }
        guard let offset = parseOffset(zone) else { return nil }
        value.offset = offset
        return value
    }

    /// `yyyyMMddHH[mm[ss]][.f]` then `Z` or `±hhmm`.
    private static func parseGeneralized(_ b: [UInt8]) -> CivilDateTime? {
        guard b.count >= 10, var value = parse(Array(b.prefix(8)), [.year4, .month, .day]) else { return nil }
        var i = 8
        func two() -> Int? {
            guard i + 1 < b.count, (48...57).contains(b[i]), (48...57).contains(b[i + 1]) else { return nil }
            defer { i += 2 }
            return Int(b[i] - 48) * 10 + Int(b[i + 1] - 48)
        }
        guard let hour = two() else { return nil }
        value.hour = hour
        if let minute = two() { value.minute = minute; if let second = two() { value.second = second } }
        if i < b.count, b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: ",") {
            i += 1
            while i < b.count, (48...57).contains(b[i]) { i += 1 }
        }
        let zone = Array(b[i...])
        if zone.isEmpty { return value }
        if zone == [UInt8(ascii: "Z")] { value.offset = 0; return value }
        guard let offset = parseOffset(zone) else { return nil }
        value.offset = offset
        return value
    }

    private static func parseOffset(_ z: [UInt8]) -> Int? {
        guard let sign = z.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") else { return nil }
        let digits = z.dropFirst().filter { $0 != UInt8(ascii: ":") }
        guard digits.count == 4 || digits.count == 2, digits.allSatisfy({ (48...57).contains($0) }) else { return nil }
        let n = digits.map { Int($0 - 48) }
        let seconds = (n[0] * 10 + n[1]) * 3600 + (n.count == 4 ? (n[2] * 10 + n[3]) * 60 : 0)
        return sign == UInt8(ascii: "-") ? -seconds : seconds
    }
}
