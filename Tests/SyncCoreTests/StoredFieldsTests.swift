import Foundation
import TestSupport
import Testing

@testable import SyncCore

/// The stored fields' reader takes a fast path for objects of plain strings and gives everything
/// else to JSONSerialization: on any input, it must answer exactly as JSONSerialization does.
@Suite struct StoredFieldsTests {
    /// What JSONSerialization makes of the bytes.
    func reference(_ bytes: [UInt8]) -> [String: String]? {
        (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: String]
    }

    func fast(_ bytes: [UInt8]) -> [String: String]? {
        bytes.withUnsafeBufferPointer { StoredPerson.plainFields($0) }
    }

    @Test func whatTheStoresWriteReadsBack() {
        // Values with quotes, backslashes, control characters, DEL, accents, emoji and JSON's own
        // punctuation, written by the stores' writer.
        let pieces = [
            "a", "Zoë", "Ødegård", "😀", "\"", "\\", "\n", "\u{1}", "\u{7F}", " ", ":", ",", "{", "}", "/", "hmac:+/=",
        ]
        var fuzzer = Fuzzer(seed: 61)
        var plain = 0
        for _ in 0..<Fuzzer.iterations(3000) {
            var fields: [String: String] = [:]
            for _ in 0..<fuzzer.below(12) {
                let key = ["first_name", "email", "ssn", "job_title", "x\"y", "ключ"][fuzzer.below(6)]
                fields[key] = (0..<fuzzer.below(6)).map { _ in pieces[fuzzer.below(pieces.count)] }.joined()
            }
            let bytes = Array(JSONWriter.object(fields).utf8)
            #expect(StoredPerson.decodeFields(Data(bytes)) == fields)
            if let read = fast(bytes) {
                plain += 1
                #expect(read == fields)
            }
        }
        // The fast path is taken (and so tested) for a good share of these, not skipped.
        #expect(plain > 300, "\(plain) objects took the fast path")
    }

    @Test func theFastPathAnswersAsJSONSerializationDoes() {
        let corpus =
            [
                #"{}"#, #" { } "#, #"{"a":"b"}"#, #"{ "a" : "b" , "c" : "d" }"#, #"{"a":"b","a":"c"}"#, #"{"a":"b",}"#,
                #"{"a":1}"#, #"{"a":null}"#, #"{"a":"b"}x"#, #"["a"]"#, #""a""#, #"{"a":"b""#, #"{"a" "b"}"#,
                #"{"a":"\u00e9"}"#, #"{"a":"\"b"}"#, "{\"a\":\"b\nc\"}", "{\"a\":\"\u{7F}\"}", #"{"é":"e","é":"f"}"#,
                "{\"first_name\":\"Zoë\",\"ssn\":\"hmac:3q2+7w==\"}", "\t{\"a\":\"b\"}\r\n",
            ].map { Array($0.utf8) } + [[0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xFF, 0x22, 0x7D]]  // invalid UTF-8
        for bytes in corpus {
            #expect(
                StoredPerson.decodeFields(Data(bytes)) == reference(bytes), "\(String(decoding: bytes, as: UTF8.self))")
            if let read = fast(bytes) { #expect(read == reference(bytes)) }
        }
        var fuzzer = Fuzzer(seed: 62)
        var accepted = 0
        for _ in 0..<Fuzzer.iterations(20_000) {
            let bytes = fuzzer.input(from: corpus)
            guard let read = fast(bytes) else { continue }
            accepted += 1
            let expected = reference(bytes)
            #expect(read == expected, "fast path disagrees on \(bytes)")
        }
        #expect(accepted > 100, "\(accepted) mutated inputs took the fast path")
    }
}
