import ConnectorCore
import Foundation
import SyncCore
import TestSupport
import Testing

@testable import FileConnector

/// Seeded random inputs: every reader either reads or fails with a ``SyncError``
/// naming where; none traps, hangs or throws anything else. Replay a failure with
/// FUZZ_SEED=n; run longer with FUZZ_ITERATIONS=n.
@Suite struct FileFuzzTests {
    static let csvCorpus: [[UInt8]] = [
        "id,name,notes\nE1,Ada,\"a, b\"\r\nE2,\"Grace \"\"Amazing\"\" Hopper\",\"line\nbreak\"\n",
        "\u{FEFF}id;name\n1;x\n\n2;y",
        "id,name\nE1,\"never closed\nE2,x\n",
        "a,b,c\n1,2,3\n4,5\n\"\"\"\",,\n",
        "id\n\"x\"y\n",
    ].map { Array($0.utf8) }

    @Test func csvNeverCrashes() throws {
        var fuzzer = Fuzzer(seed: 11)
        for _ in 0..<Fuzzer.iterations(3000) {
            let input = fuzzer.input(from: Self.csvCorpus)
            do {
                let reader = try CSVReader(bytes: input, name: "f.csv")
                var lines = 0
                while try reader.next() {
                    #expect(reader.recordLine > lines, "record lines only go forward")
                    lines = reader.recordLine
                }
            } catch let error as SyncError {
                #expect(error.message.hasPrefix("f.csv:"), "\(error.message)")
            }
        }
    }

    /// Fields of every kind written with RFC 4180 quoting read back exactly as they were.
    @Test func csvRoundTripsWhatItQuotes() throws {
        var fuzzer = Fuzzer(seed: 12)
        let alphabet = Array("ab ,\"\n\r\té名;".unicodeScalars)
        for _ in 0..<Fuzzer.iterations(500) {
            let rows = (0...fuzzer.below(5)).map { _ in
                (0..<3).map { _ in
                    String(
                        String.UnicodeScalarView(
                            (0..<fuzzer.below(6)).map { _ in alphabet[fuzzer.below(alphabet.count)] }))
                }
            }
            let text = rows.map { row in
                row.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(separator: ",")
            }.joined(separator: "\r\n")
            let reader = try CSVReader(bytes: Array(text.utf8), name: "r.csv")
            var read: [[String]] = []
            while try reader.next() { read.append(reader.fields.map { $0 ?? "" }) }
            #expect(read == rows, "\(text.debugDescription)")
        }
    }

    /// The same records, read a few bytes at a time: every quote, CRLF and byte-order mark
    /// falls across a buffer boundary somewhere.
    @Test func tinyBlocksReadTheSameRecords() throws {
        var fuzzer = Fuzzer(seed: 15)
        let scratch = try Scratch()
        for i in 0..<Fuzzer.iterations(300) {
            let input = fuzzer.input(from: Self.csvCorpus)
            let path = scratch.folder.appendingPathComponent("b\(i).csv").path
            try Data(input).write(to: URL(fileURLWithPath: path))
            func read(_ reader: CSVReader) -> [String] {
                var out: [String] = []
                do {
                    while try reader.next() { out.append("\(reader.recordLine):\(reader.fields)") }
                } catch let error as SyncError {
                    out.append("error \(error.message)")
                } catch {
                    out.append("other \(error)")
                }
                return out
            }
            let whole = read(try CSVReader(path: path, name: "b.csv"))
            for blockSize in [1, 2, 3, 7] {
                let tiny = read(
                    try CSVReader(
                        path: path, name: "b.csv", delimiter: UInt8(ascii: ","), maxRecordBytes: 1 << 20,
                        blockSize: blockSize))
                #expect(
                    tiny == whole,
                    "block size \(blockSize), input \(String(decoding: input, as: UTF8.self).debugDescription)")
            }
        }
    }

    static let jsonCorpus: [[UInt8]] = [
        #"{"id": "E1", "name": "Zoë", "n": 1.5, "ok": true, "tags": ["a", "b", null], "m": {"x": {"y": 1}}}"#,
        #"{"id": 7, "list": [[1]], "e": "\u0000\ud83d"}"#,
        #"[{"id": 1}, {"id": 2}]"#,
        #"{"id": "x", "deep": [{"a": 1}]}"#,
    ].map { Array($0.utf8) }

    @Test func jsonRecordsNeverCrash() throws {
        var fuzzer = Fuzzer(seed: 13)
        for _ in 0..<Fuzzer.iterations(3000) {
            let input = fuzzer.input(from: Self.jsonCorpus)
            do {
                _ = try JSONRecords.record(from: input, idKey: "id", location: .line(3, of: "f.jsonl"))
            } catch let error as SyncError {
                #expect(error.message.hasPrefix("f.jsonl:3:"), "\(error.message)")
            }
        }
        // Nesting far past any real export is an error, not a stack overflow.
        let deep = Array(
            (String(repeating: "{\"a\":", count: 100_000) + "1" + String(repeating: "}", count: 100_000)).utf8)
        #expect(throws: SyncError.self) { try JSONRecords.record(from: deep, idKey: "id", location: .line(1, of: "f")) }
    }

    @Test func jsonFilesNeverCrash() async throws {
        var fuzzer = Fuzzer(seed: 14)
        let scratch = try Scratch()
        for i in 0..<Fuzzer.iterations(300) {
            let input = fuzzer.input(from: Self.jsonCorpus + Self.jsonCorpus.map { $0 + [10] + $0 })
            let path = scratch.folder.appendingPathComponent("f\(i).json").path
            try Data(input).write(to: URL(fileURLWithPath: path))
            for layout in [JSONFileSource.Layout.lines, .array] {
                do {
                    _ = try await readAll(JSONFileSource(path: path, idKey: "id", layout: layout))
                } catch let error as SyncError {
                    #expect(error.message.contains("f\(i).json"), "\(error.message)")
                }
            }
        }
    }
}
