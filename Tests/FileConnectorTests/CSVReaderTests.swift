import ConnectorCore
import Foundation
import SyncCore
import Testing

@testable import FileConnector

@Suite struct CSVReaderTests {
    func rows(_ text: String, delimiter: Character = ",") throws -> [[String?]] {
        try rows(Array(text.utf8), delimiter: delimiter)
    }

    func rows(_ bytes: [UInt8], delimiter: Character = ",") throws -> [[String?]] {
        let reader = try CSVReader(bytes: bytes, name: "t.csv", delimiter: delimiter.asciiValue!)
        var result: [[String?]] = []
        while try reader.next() { result.append(reader.fields) }
        return result
    }

    /// Writes `text` to a file and reads it back, as a source does: in 1 MiB blocks.
    func readFile(_ text: String, name: String = "t.csv") throws -> (rows: [[String?]], lines: [Int]) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("csv-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let reader = try CSVReader(path: path, name: name)
        var rows: [[String?]] = []
        var lines: [Int] = []
        while try reader.next() {
            rows.append(reader.fields)
            lines.append(reader.recordLine)
        }
        return (rows, lines)
    }

    func failure(_ text: String) -> String {
        do {
            _ = try rows(text)
            return "no error"
        } catch let error as SyncError {
            return error.description
        } catch {
            return "\(error)"
        }
    }

    @Test func plainAndQuotedFields() throws {
        #expect(try rows("a,b,c\n1,2,3\n") == [["a", "b", "c"], ["1", "2", "3"]])
        #expect(try rows("\"a,b\",\"say \"\"hi\"\"\",c") == [["a,b", "say \"hi\"", "c"]])
        #expect(try rows("a,,\"\"\n") == [["a", nil, nil]])
    }

    @Test func lineEndingsAndBlankLines() throws {
        #expect(try rows("a,b\r\n1,2\r\n") == [["a", "b"], ["1", "2"]])
        #expect(try rows("a,b\r1,2") == [["a", "b"], ["1", "2"]])
        #expect(try rows("a\n\n\nb\n\n") == [["a"], ["b"]])
        #expect(try rows("") == [])
    }

    @Test func embeddedNewlinesKeepLineNumbers() throws {
        let reader = try CSVReader(bytes: Array("h1,h2\n\"multi\nline\r\ntext\",x\nlast,y\n".utf8), name: "t.csv")
        #expect(try reader.next() && reader.recordLine == 1)
        #expect(try reader.next() && reader.fields == ["multi\nline\r\ntext", "x"] && reader.recordLine == 2)
        #expect(try reader.next() && reader.fields == ["last", "y"] && reader.recordLine == 5)
        #expect(try !reader.next())
    }

    @Test func byteOrderMarkAndDelimiters() throws {
        #expect(
            try rows([0xEF, 0xBB, 0xBF] + Array("id;name\n1;Zoë".utf8), delimiter: ";") == [
                ["id", "name"], ["1", "Zoë"],
            ])
        #expect(try rows("a\tb\n", delimiter: "\t") == [["a", "b"]])
    }

    @Test func strayQuoteInsideUnquotedFieldIsText() throws {
        #expect(try rows("5'10\" tall,x") == [["5'10\" tall", "x"]])
    }

    @Test func errorsNameFileAndLine() {
        #expect(failure("a,b\n1,\"open\n2,3\n").contains("t.csv:2: a quoted field opens here and never closes"))
        #expect(failure("a\n\"x\"y,z").contains("t.csv:2: text follows a closing quote"))
        #expect(throws: SyncError.self) { try rows([0x61, 0x0A, 0x62, 0xFF, 0x63]) }
    }

    @Test func invalidUTF8ErrorSaysWhere() {
        do {
            _ = try rows([0x61, 0x2C, 0x62, 0x0A, 0x63, 0x2C, 0xC3, 0x28])
            Issue.record("expected an error")
        } catch let error as SyncError {
            #expect(error.message == "t.csv:2: field 2 is not valid UTF-8")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    /// Records that straddle the reader's 1 MiB blocks, including quotes, CRLF and multi-byte characters.
    @Test func recordsAcrossBlockBoundaries() throws {
        var text = "id,note,name\r\n"
        var expected: [[String?]] = [["id", "note", "name"]]
        for i in 0..<40_000 {
            let note = i % 3 == 0 ? "line one\nline \"two\", ok" : "plain \(i)"
            let quoted = "\"" + note.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            text += "\(i),\(quoted),Zoë Bérénger \(i)\r\n"
            expected.append(["\(i)", note, "Zoë Bérénger \(i)"])
        }
        let (got, lines) = try readFile(text)
        #expect(got.count == expected.count)
        #expect(got == expected)
        // Every third record spans two lines: records 0, 1, 2, 3 start on lines 2, 4, 5, 6.
        #expect(Array(lines[1...4]) == [2, 4, 5, 6])
    }

    /// A record larger than the reader's 1 MiB buffer, and one with more fields than it first expects.
    @Test func oversizedRecordsAndManyColumns() throws {
        let huge = String(repeating: "line of a long note, \"quoted\"\n", count: 100_000)  // 3.2 MB
        let wide = (0..<300).map { "c\($0)" }
        let text =
            "id,note\n1,\"" + huge.replacingOccurrences(of: "\"", with: "\"\"") + "\"\n"
            + wide.joined(separator: ",") + "\n2,short\n"
        let (got, lines) = try readFile(text)
        #expect(got.count == 4)
        #expect(got[1] == ["1", huge])
        #expect(got[2] == wide)
        #expect(got[3] == ["2", "short"])
        #expect(lines == [1, 2, 100_003, 100_004])
    }

    @Test func unbalancedQuoteAtEndOfLargeFile() throws {
        let body = String(repeating: "1,2\n", count: 300_000) + "3,\"never closed\n4,5\n"
        #expect {
            _ = try readFile(body, name: "bad.csv")
        } throws: { error in
            (error as? SyncError)?.message == "bad.csv:300001: a quoted field opens here and never closes"
        }
    }
}
