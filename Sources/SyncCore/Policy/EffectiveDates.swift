import ConnectorCore
import Foundation

/// When people start and stop counting, from HR's dates (`dates:` in the config):
/// `starts_on` holds a person back until that day, `ends_on` terminates them from
/// that day on, with `terminated_at` set to it, even while they are still in the source.
///
/// Each is written like a mapping (`ends_on: termination_date`, or
/// `{ attribute: left_on, transform: [{ date: "MM/dd/yyyy" }] }`) and must come out as a date,
/// `yyyy-mm-dd` (a date-time's date counts). Days are counted in `zone` (an API zone name such as
/// `EST`; `UTC` by default), which `terminated_at` carries too.
public struct EffectiveDates: Sendable {
    /// Where a person's first day comes from, if anywhere.
    public var startsOn: FieldMapping?
    /// Where a person's leaving day comes from, if anywhere.
    public var endsOn: FieldMapping?
    /// A test of a record that says the person has left, with or without a leaving day
    /// (`ended_when: { attribute: status, equals: TERMINATED }`): they end on their `ends_on` day
    /// when they have one, else on the day the run first sees it.
    public var endedWhen: Condition?
    /// The zone days are counted in and `terminated_at` names.
    public var zone = "UTC"

    /// No dates: everyone in the source counts.
    public init() {}

    /// Whether either date is configured.
    public var isEmpty: Bool { startsOn == nil && endsOn == nil && endedWhen == nil }

    package init(section: ConfigSection?) throws {
        guard let section else { return }
        startsOn = try section.node("starts_on").map { try Self.mapping("dates.starts_on", $0) }
        endsOn = try section.node("ends_on").map { try Self.mapping("dates.ends_on", $0) }
        endedWhen = try section.node("ended_when").map(Condition.init(node:))
        if let node = section.node("zone") {
            let name = try node.text()
            guard TimeZone(abbreviation: name) != nil else {
                throw node.error(
                    "is not a zone name this machine knows", hint: "give an abbreviation such as UTC, EST, CST or PST")
            }
            zone = name
        }
        try section.finish()
    }

    private static func mapping(_ name: String, _ node: ConfigNode) throws -> FieldMapping {
        var mapping = try FieldMapping(field: name, node: Self.readingADTicks(node))
        // Most people have no leaving date: a run where nobody has one is the usual case.
        mapping.optional = true
        return mapping
    }

    /// Active Directory's `accountExpires`, named bare, is read as what it is: ticks since 1601 (a
    /// `filetime` date), whose "never" values (0, and the largest number) are no date. Written out,
    /// `{ attribute: accountExpires, transform: [{ date: filetime }] }` says the same.
    static func readingADTicks(_ node: ConfigNode) -> ConfigNode {
        guard let name = node.scalar, name.caseInsensitiveCompare("accountExpires") == .orderedSame else { return node }
        func scalar(_ text: String, _ path: String) -> ConfigNode {
            ConfigNode(.scalar(text), location: node.location, path: path)
        }
        let date = ConfigNode(
            .mapping([("date", scalar("filetime", node.path + ".transform[0].date"))]), location: node.location,
            path: node.path + ".transform[0]")
        return ConfigNode(
            .mapping([
                ("attribute", scalar(name, node.path + ".attribute")),
                ("transform", ConfigNode(.sequence([date]), location: node.location, path: node.path + ".transform")),
            ]), location: node.location, path: node.path)
    }

    /// Today's date, `yyyy-mm-dd`, in ``zone`` at `now`.
    public func today(at now: Date) -> String {
        let offset = TimeZone(abbreviation: zone)?.secondsFromGMT(for: now) ?? 0
        return CivilDateTime(secondsSinceEpoch: Int(now.timeIntervalSince1970.rounded(.down)) + offset, offset: 0)
            .dateText
    }

    /// The `terminated_at` of a person who left on `day`: its first second, in ``zone``.
    public func terminatedAt(_ day: String) -> String { "\(day) 00:00:00 \(zone)" }
}

/// A record's dates, read by ``EffectiveDates``: `yyyy-mm-dd` each, or `nil`. A reference, so a
/// candidate of a job without dates carries one empty pointer, not two strings.
final class RecordDates: Sendable {
    let startsOn: String?
    let endsOn: String?
    /// Whether `dates.ended_when` holds: the person has left, on ``endsOn`` or, without one, today.
    let ended: Bool

    init(startsOn: String?, endsOn: String?, ended: Bool = false) {
        self.startsOn = startsOn
        self.endsOn = endsOn
        self.ended = ended
    }

    /// The day the person leaves, as of `today`: ``endsOn``, or `today` for someone `ended_when` says left.
    func endDay(today: String) -> String? { ended ? (endsOn ?? today) : endsOn }

    private static let isoDay = DateFormat("yyyy-MM-dd")!

    /// The `yyyy-mm-dd` a mapped value begins with, or `nil` when it does not begin with one.
    static func day(_ value: String) -> String? {
        let bytes = Array(value.utf8.prefix(11))
        guard bytes.count >= 10, bytes.count == 10 || bytes[10] == UInt8(ascii: " ") || bytes[10] == UInt8(ascii: "T")
        else { return nil }
        let day = String(decoding: bytes.prefix(10), as: UTF8.self)
        guard let parsed = isoDay.parse(day) else { return nil }
        return parsed.dateText
    }
}
