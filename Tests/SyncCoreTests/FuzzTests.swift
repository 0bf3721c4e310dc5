import ConnectorCore
import Foundation
import TestSupport
import Testing

@testable import SyncCore

/// Seeded random inputs to the parsers of durations and dates and to the mapper:
/// an answer or `nil`/a problem, never a trap. Replay with FUZZ_SEED=n.
@Suite struct CoreFuzzTests {
    @Test func durationsNeverCrash() {
        let corpus = ["90s", "15m", "72h", "7d", "0", "3650d", "999999999999999999d", "-1s", " 5m "].map {
            Array($0.utf8)
        }
        var fuzzer = Fuzzer(seed: 31)
        for _ in 0..<Fuzzer.iterations(5000) {
            let text = String(decoding: fuzzer.input(from: corpus), as: UTF8.self)
            if let duration = Duration(configText: text) {
                #expect(duration >= .zero && duration <= Duration.longestConfigured, "\(text.debugDescription)")
            }
        }
    }

    @Test func datesNeverCrash() {
        let formats = ["iso8601", "ldap", "unix", "filetime", "MM/dd/yyyy", "d.M.yy", "yyyy-MM-dd HH:mm:ss.SSS"]
            .compactMap(DateFormat.init)
        let corpus = [
            "2026-01-31T05:00:00-05:00", "20260131120000.0Z", "1767225600", "133800000000000000", "01/31/2026",
            "7.3.85",
            "2026-02-29 24:61:61.5", "9999999999999999999", "-62135596801",
        ].map { Array($0.utf8) }
        var fuzzer = Fuzzer(seed: 32)
        for _ in 0..<Fuzzer.iterations(5000) {
            let text = String(decoding: fuzzer.input(from: corpus), as: UTF8.self)
            for format in formats {
                if let parsed = format.parse(text) { #expect(parsed.isValid, "\(format) \(text.debugDescription)") }
            }
        }
    }

    @Test func mappingOddValuesNeverCrashes() {
        let mapping = [
            FieldMapping(field: "first_name", input: .template(Template("{a} {b}")!), transforms: [.trim, .first]),
            FieldMapping(field: "last_name", input: .attribute("b"), transforms: [.join("; "), .uppercase]),
            FieldMapping(
                field: "email", input: .attribute("a"), transforms: [.trim, .lowercase, .first, .defaultValue("x@y.z")]),
            FieldMapping(
                field: "hired_at", input: .attribute("d"),
                transforms: [.date(DateFormat("unix")!, zone: "EST"), .first]),
            FieldMapping(
                field: "date_of_birth", input: .attribute("d"),
                transforms: [.first, .date(DateFormat("ldap")!, zone: nil)]),
            FieldMapping(
                field: "employee_id", input: .attribute("a"), transforms: [.replace(pattern: "^(.)(.*)$", with: "$2$1")]
            ),
        ]
        let corpus = ["", "ada@example.com", " Zoë ", "9223372036854775807", "20260131120000Z", "a\u{0}b", "名前"].map {
            Array($0.utf8)
        }
        var fuzzer = Fuzzer(seed: 33)
        var mapper = Mapper(mapping, catalog: FieldCatalog())
        for _ in 0..<Fuzzer.iterations(3000) {
            func value() -> AttributeValue? {
                let texts = (0..<fuzzer.below(4)).map { _ in String(decoding: fuzzer.input(from: corpus), as: UTF8.self)
                }
                return texts.isEmpty ? nil : texts.count == 1 ? .text(texts[0]) : .multiple(texts)
            }
            var attributes: [String: AttributeValue] = [:]
            for name in ["a", "b", "d"] { attributes[name] = value() }
            var problems: [RecordProblem] = []
            let row = mapper.map(SourceRecord(id: "1", attributes: attributes), problems: &problems)
            #expect(row.count == mapping.count)
        }
    }
}
