import ConnectorCore
import Testing

@testable import SyncCore

@Suite struct MappingTests {
    func map(_ mapping: FieldMapping, _ attributes: [String: AttributeValue], catalog: FieldCatalog = FieldCatalog())
        -> (String?, [RecordProblem])
    {
        var mapper = Mapper([mapping], catalog: catalog)
        var problems: [RecordProblem] = []
        let row = mapper.map(SourceRecord(id: "1", attributes: attributes), problems: &problems)
        return (row[0], problems)
    }

    @Test func attributesTemplatesAndValues() {
        #expect(
            map(FieldMapping(field: "job_title", input: .attribute("title")), ["title": "Engineer"]).0 == "Engineer")
        #expect(map(FieldMapping(field: "job_title", input: .attribute("title")), [:]).0 == nil)
        let template = FieldMapping(field: "job_title", input: .template(Template("{givenName} {sn}")!))
        #expect(map(template, ["givenName": "Ada", "sn": "Lovelace"]).0 == "Ada Lovelace")
        #expect(map(FieldMapping(field: "cage_code", input: .value("1ABC2")), [:]).0 == "1ABC2")
    }

    @Test func templateParsing() {
        #expect(Template("{a}-{b}")?.attributes == ["a", "b"])
        #expect(Template("{{literal}} {x}")?.parts == [.literal("{literal} "), .attribute("x")])
        #expect(Template("{unclosed") == nil)
        #expect(Template("stray } brace") == nil)
        #expect(Template("{}") == nil)
    }

    @Test func textTransforms() {
        let mail = FieldMapping(field: "email", input: .attribute("mail"), transforms: [.trim, .lowercase])
        #expect(map(mail, ["mail": "  Ada.Lovelace@Example.COM \t"]).0 == "ada.lovelace@example.com")
        #expect(map(mail, ["mail": "ÉLODIE@example.com"]).0 == "élodie@example.com")
        let upper = FieldMapping(field: "cage_code", input: .attribute("c"), transforms: [.uppercase])
        #expect(map(upper, ["c": "1abc2"]).0 == "1ABC2")
        let fallback = FieldMapping(
            field: "job_title", input: .attribute("t"), transforms: [.trim, .defaultValue("Staff")])
        #expect(map(fallback, ["t": "   "]).0 == "Staff")
        #expect(map(fallback, [:]).0 == "Staff")
        #expect(map(fallback, ["t": "Lead"]).0 == "Lead")
    }

    @Test func multipleValuesNeedFirstOrJoin() {
        let values: [String: AttributeValue] = ["mail": ["a@example.com", "b@example.com"]]
        let plain = map(FieldMapping(field: "email", input: .attribute("mail")), values)
        #expect(plain.0 == nil)
        #expect(plain.1.first?.reason.contains("2 values") == true)
        #expect(
            map(FieldMapping(field: "email", input: .attribute("mail"), transforms: [.first]), values).0
                == "a@example.com")
        let joined = map(FieldMapping(field: "job_title", input: .attribute("mail"), transforms: [.join("; ")]), values)
        #expect(joined.0 == "a@example.com; b@example.com")
    }

    @Test func regexReplace() {
        let digits = FieldMapping(
            field: "employee_id", input: .attribute("n"), transforms: [.replace(pattern: "^E0*", with: "")])
        #expect(map(digits, ["n": "E000123"]).0 == "123")
        let swap = FieldMapping(
            field: "job_title", input: .attribute("n"),
            transforms: [.replace(pattern: "(\\w+), (\\w+)", with: "$2 $1")])
        #expect(map(swap, ["n": "Engineer, Senior"]).0 == "Senior Engineer")
    }

    @Test func dateTransformWritesTheAPIFormat() {
        let hired = FieldMapping(
            field: "hired_at", input: .attribute("d"), transforms: [.date(DateFormat("MM/dd/yyyy")!, zone: "EST")])
        #expect(map(hired, ["d": "01/31/2026"]).0 == "2026-01-31 00:00:00 EST")
        let bad = map(hired, ["d": "31/01/2026"])
        #expect(bad.0 == nil)
        #expect(bad.1.first?.field == "hired_at")
        let birth = FieldMapping(
            field: "date_of_birth", input: .attribute("d"), transforms: [.date(DateFormat("d.M.yy")!, zone: nil)])
        #expect(map(birth, ["d": "7.3.85"]).0 == "1985-03-07")
        let iso = FieldMapping(
            field: "hired_at", input: .attribute("d"), transforms: [.date(DateFormat("iso8601")!, zone: nil)])
        #expect(map(iso, ["d": "2026-01-31T05:00:00-05:00"]).0 == "2026-01-31 10:00:00")
        let ldap = FieldMapping(
            field: "hired_at", input: .attribute("d"), transforms: [.date(DateFormat("ldap")!, zone: nil)])
        #expect(map(ldap, ["d": "20260131120000.0Z"]).0 == "2026-01-31 12:00:00")
        let filetime = FieldMapping(
            field: "terminated_at", input: .attribute("d"), transforms: [.date(DateFormat("filetime")!, zone: nil)])
        #expect(map(filetime, ["d": "133800000000000000"]).0 == "2024-12-30 02:40:00")
    }

    /// Data never crashes a run: each of these once trapped (an empty list, an overflow).
    @Test func odditiesInDataAreProblemsNotCrashes() {
        let dated = FieldMapping(
            field: "hired_at", input: .attribute("d"),
            transforms: [.date(DateFormat("MM/dd/yyyy")!, zone: nil), .first])
        let both = map(dated, ["d": ["garbage", "more garbage"]])
        #expect(both.0 == nil)
        #expect(both.1.first?.field == "hired_at")
        let unix = FieldMapping(
            field: "hired_at", input: .attribute("d"), transforms: [.date(DateFormat("unix")!, zone: nil)])
        for huge in ["9223372036854775807", "-9223372036854775808", "253402300800"] {
            #expect(map(unix, ["d": .text(huge)]).1.first?.reason.contains("date format") == true, "\(huge)")
        }
        #expect(map(unix, ["d": "0"]).0 == "1970-01-01 00:00:00")
        let filetime = FieldMapping(
            field: "hired_at", input: .attribute("d"), transforms: [.date(DateFormat("filetime")!, zone: nil)])
        #expect(map(filetime, ["d": "9223372036854775806"]).0 == nil)
        // AD's "never" is no date, and no problem: an account that does not expire is a valid record.
        for never in ["0", "9223372036854775807"] {
            let (value, problems) = map(filetime, ["d": .text(never)])
            #expect(value == nil && problems.isEmpty, "\(never)")
        }
    }

    @Test func unseenAttributesAreReportedOnce() {
        var mapper = Mapper([FieldMapping(field: "job_title", input: .attribute("titel"))], catalog: FieldCatalog())
        var problems: [RecordProblem] = []
        for i in 0..<100 { _ = mapper.map(SourceRecord(id: "\(i)", attributes: ["title": "x"]), problems: &problems) }
        #expect(mapper.unseenAttributes == ["titel"])
        #expect(problems.isEmpty)
    }
}

@Suite struct DateFormatTests {
    @Test func patterns() {
        #expect(DateFormat("yyyy-MM-dd HH:mm:ss")?.parse("2024-02-29 23:59:59") != nil)
        #expect(DateFormat("yyyy-MM-dd")?.parse("2023-02-29") == nil)
        #expect(DateFormat("yyyy-MM-dd")?.parse("2024-13-01") == nil)
        #expect(DateFormat("yyyy-MM-dd")?.parse("2024-01-01x") == nil)
        #expect(DateFormat("dd/MM/yyyy")?.parse("31/12/1999")?.dateText == "1999-12-31")
        #expect(DateFormat("yyyyMMdd") != nil)
        #expect(DateFormat("MM/dd") == nil)
        #expect(DateFormat("yyyy-QQ-dd") == nil)
    }

    @Test func civilArithmeticRoundTrips() {
        for days in stride(from: -800_000, to: 3_000_000, by: 997) {
            let (y, m, d) = CivilDateTime.civilFromDays(days)
            #expect(CivilDateTime.daysFromCivil(y, m, d) == days)
        }
        #expect(CivilDateTime(secondsSinceEpoch: 0, offset: 0).dateTimeText == "1970-01-01 00:00:00")
    }
}

/// The fast text helpers give exactly what the standard library gives.
@Suite struct FastTextTests {
    static let samples = [
        "", "plain", "MiXeD Case", "  padded\t", "\u{00A0}nbsp\u{3000}", "Émile.Zoë@Example.COM", "İstanbul",
        "ΣΑΣ ΟΔΟΣ",
        "Straße", "美咲 Ильин", "e\u{0301}COLE", "ǅemal", " \n ", "\u{2003}", "x\u{2028}",
    ]

    @Test(arguments: samples) func lowercasedMatchesTheStandardLibrary(_ text: String) {
        #expect(Array(FastText.lowercased(text).unicodeScalars) == Array(text.lowercased().unicodeScalars))
    }

    /// Every scalar, alone and between upper- and lower-case text, in UTF-8 of one to four bytes.
    @Test func lowercasedMatchesTheStandardLibraryForEveryScalar() {
        var differ: [UInt32] = []
        for value in UInt32(0)...0x10FFFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            for text in [String(Character(scalar)), "ab\(Character(scalar))é", "Ab\(Character(scalar))ü"]
            where Array(FastText.lowercased(text).unicodeScalars) != Array(text.lowercased().unicodeScalars) {
                differ.append(value)
            }
        }
        #expect(differ.isEmpty, "differs for \(differ.prefix(10).map { String($0, radix: 16) })")
    }

    @Test(arguments: samples) func trimmedMatchesTheStandardLibrary(_ text: String) {
        #expect(FastText.trimmed(text) == text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

@Suite struct DurationTests {
    @Test func durationsThatOverflowAreRefused() {
        #expect(Duration(configText: "999999999999999999d") == nil)
        #expect(Duration(configText: "9223372036854775807s") == nil)
        #expect(Duration(configText: "3651d") == nil)
        #expect(Duration(configText: "3650d") == .seconds(3650 * 86400))
        #expect(Duration(configText: "15m") == .seconds(900))
        #expect(Duration(configText: "-5s") == nil)
    }
}
