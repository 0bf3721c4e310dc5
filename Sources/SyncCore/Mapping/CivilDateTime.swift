/// A calendar date and wall-clock time, with the UTC offset when the input had one.
///
/// Arithmetic is proleptic Gregorian, by hand: Foundation's formatters are far
/// too slow for a million rows and carry locale surprises.
struct CivilDateTime: Hashable, Sendable {
    var year: Int
    var month: Int
    var day: Int
    var hour = 0
    var minute = 0
    var second = 0
    /// Seconds east of UTC, when the input named one.
    var offset: Int?

    /// Whether every part is in range (including the day for the month and leap years).
    var isValid: Bool {
        (1...9999).contains(year) && (1...12).contains(month) && day >= 1
            && day <= Self.daysIn(month: month, year: year)
            && (0...23).contains(hour) && (0...59).contains(minute) && (0...60).contains(second)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// The same instant in UTC (offset removed); unchanged when there is no offset.
    var inUTC: CivilDateTime {
        guard let offset, offset != 0 else { return self }
        return CivilDateTime(secondsSinceEpoch: secondsSinceEpoch - offset, offset: 0)
    }

    /// Seconds since 1970-01-01 00:00:00 of this wall time, ignoring the offset.
    var secondsSinceEpoch: Int {
        Self.daysFromCivil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
    }

    init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0, offset: Int? = nil) {
        (self.year, self.month, self.day) = (year, month, day)
        (self.hour, self.minute, self.second, self.offset) = (hour, minute, second, offset)
    }

    init(secondsSinceEpoch seconds: Int, offset: Int?) {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let rest = seconds - days * 86_400
        let (y, m, d) = Self.civilFromDays(days)
        self.init(
            year: y, month: m, day: d, hour: rest / 3600, minute: rest % 3600 / 60, second: rest % 60,
            offset: offset)
    }

    /// `yyyy-MM-dd`.
    var dateText: String { "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))" }
    /// `yyyy-MM-dd HH:mm:ss`.
    var dateTimeText: String { "\(dateText) \(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))" }

    private func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    // Howard Hinnant's days_from_civil / civil_from_days.
    static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
