import ConnectorCore
import Foundation
import Testing

@testable import SyncCore

/// The plan's writer: escaping eight bytes at a time must say what the byte loop says.
@Suite struct ByteOutputTests {
    /// Text from an alphabet heavy in what JSON must escape, at every length around the word size.
    func texts(count: Int) -> [String] {
        let alphabet: [String] = [
            "a", "Z", "0", " ", "\"", "\\", "\n", "\t", "\u{01}", "\u{1F}", "\u{7F}", "é", "€", "😀", "/",
        ]
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in
            (0..<Int.random(in: 0...40, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
                .joined()
        }
    }

    @Test func everyStringReadsBackAsItWas() throws {
        for text in texts(count: 5000) + ["", "plain ascii text well past eight bytes", "ends with a quote\""] {
            let out = ByteOutput()
            out.writeJSONString(text)
            let json = out.collected()
            let back = try JSONSerialization.jsonObject(with: Data(json), options: .fragmentsAllowed) as? String
            #expect(back == text, "\(String(decoding: json, as: UTF8.self))")
        }
    }

    @Test func theCleanPrefixNeverHoldsAByteThatNeedsAnEscape() {
        for text in texts(count: 5000) {
            let bytes = Array(text.utf8)
            let clean = bytes.withUnsafeBufferPointer { ByteOutput.cleanPrefix($0) }
            let first = bytes.firstIndex { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }
            #expect(clean % 8 == 0 && clean <= bytes.count)
            #expect(clean <= (first ?? bytes.count), "\(bytes)")
            // And it stops at the word that holds the first such byte, not earlier.
            #expect(clean == ((first ?? bytes.count) / 8) * 8 || (first == nil && clean == bytes.count / 8 * 8))
        }
    }

    @Test func locationsAndNumbersAreWrittenWithoutText() throws {
        for number in [0, 7, 10, 99, 12345, Int(Int32.max), Int.max, -1, Int.min] {
            let out = ByteOutput()
            out.write(decimal: number)
            #expect(String(decoding: out.collected(), as: UTF8.self) == String(number))
        }
        for location in [
            SourceLocation.line(12, of: "people \"2026\".csv"), .row(3, of: "db"), SourceLocation("uid=a,dc=x"), nil,
        ] {
            let out = ByteOutput()
            var json = JSONWriter(out)
            json.value(location: location)
            let back = try JSONSerialization.jsonObject(with: Data(out.collected()), options: .fragmentsAllowed)
            #expect(back as? String == location?.description)
        }
    }
}
