import Foundation

/// Times as the outputs write them.
public enum Timestamps {
    /// ISO 8601 in UTC, to the second: `2026-01-31T05:00:00Z`.
    public static func iso(_ date: Date) -> String {
        let civil = CivilDateTime(secondsSinceEpoch: Int(date.timeIntervalSince1970.rounded(.down)), offset: 0)
        return civil.dateText + "T" + civil.dateTimeText.suffix(8) + "Z"
    }

    /// The API's date-time format in UTC: `2026-01-31 05:00:00 UTC`.
    public static func api(_ date: Date) -> String {
        CivilDateTime(secondsSinceEpoch: Int(date.timeIntervalSince1970.rounded(.down)), offset: 0).dateTimeText
            + " UTC"
    }
}
