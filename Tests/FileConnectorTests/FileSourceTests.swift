import ConnectorCore
import Foundation
import SyncCore
import Testing

@testable import FileConnector

/// A temporary folder with files, removed when the test ends.
final class Scratch {
    let folder: URL
    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("files-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: folder) }

    func write(_ name: String, _ text: String) throws -> String {
        let path = folder.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

func readAll(_ source: some UserSource) async throws -> [SourceRecord] {
    var records: [SourceRecord] = []
    for try await record in source.records() { records.append(record) }
    return records
}

func errorMessage(_ source: some UserSource) async -> String {
    do {
        _ = try await readAll(source)
        return "no error"
    } catch let error as SyncError {
        return error.message
    } catch {
        return "\(error)"
    }
}

@Suite struct CSVSourceTests {
    @Test func readsRecordsWithIdsAndLocations() async throws {
        let scratch = try Scratch()
        let path = try scratch.write("p.csv", "emp,name,mail\nE1,Ada,ada@example.com\nE2,Grace,\n")
        let records = try await readAll(CSVSource(path: path, idColumn: "emp"))
        #expect(records.map(\.id) == ["E1", "E2"])
        #expect(records[0]["name"] == .text("Ada"))
        #expect(records[1]["mail"] == nil)
        #expect(records[1].location?.description == "p.csv:3")
    }

    @Test func headerlessFileWithColumns() async throws {
        let scratch = try Scratch()
        let path = try scratch.write("p.tsv", "E1\tAda\n")
        let records = try await readAll(CSVSource(path: path, idColumn: "id", delimiter: 9, columns: ["id", "name"]))
        #expect(records.first?["name"] == .text("Ada"))
    }

    @Test func badFilesFailWithFileAndLine() async throws {
        let scratch = try Scratch()
        #expect(
            await errorMessage(CSVSource(path: try scratch.write("a.csv", "id,name\n1,x\n2,y,z\n"), idColumn: "id"))
                .hasSuffix("/a.csv:3: this record has 3 fields, the header has 2"))
        #expect(
            await errorMessage(CSVSource(path: try scratch.write("b.csv", "id,name\n"), idColumn: "emp"))
                .hasSuffix("/b.csv:1: there is no column \"emp\" for the source id"))
        #expect(
            await errorMessage(CSVSource(path: try scratch.write("c.csv", "id,name,name\n"), idColumn: "id"))
                .hasSuffix("/c.csv:1: the header names the column \"name\" twice"))
        #expect(
            await errorMessage(CSVSource(path: try scratch.write("d.csv", ""), idColumn: "id"))
                .hasSuffix("/d.csv:1: the file is empty: it has no header row"))
        #expect(
            await errorMessage(CSVSource(path: scratch.folder.appendingPathComponent("none.csv").path, idColumn: "id"))
                .contains("cannot open"))
    }
}

@Suite struct JSONSourceTests {
    @Test func jsonLines() async throws {
        let scratch = try Scratch()
        let path = try scratch.write(
            "p.jsonl",
            """
            {"id": 7, "name": "Zoë", "mail": ["a@example.com", "b@example.com"], "manager": {"name": "Ada"}, "x": null}

            {"id": "E2", "active": true, "score": 1.5}
            """)
        let records = try await readAll(JSONFileSource(path: path, idKey: "id", layout: .lines))
        #expect(records.map(\.id) == ["7", "E2"])
        #expect(records[0]["mail"] == .multiple(["a@example.com", "b@example.com"]))
        #expect(records[0]["manager.name"] == .text("Ada"))
        #expect(records[0]["x"] == nil)
        #expect(records[1]["active"] == .text("true"))
        #expect(records[1]["score"] == .text("1.5"))
        #expect(records[1].location?.description == "p.jsonl:3")
    }

    @Test func malformedLineIsNamed() async throws {
        let scratch = try Scratch()
        let path = try scratch.write("p.jsonl", "{\"id\": 1}\n{\"id\": 2,,}\n")
        #expect(
            await errorMessage(JSONFileSource(path: path, idKey: "id", layout: .lines)).hasPrefix(
                "p.jsonl:2: not valid JSON"))
        let notObject = try scratch.write("q.jsonl", "[1, 2]\n")
        #expect(
            await errorMessage(JSONFileSource(path: notObject, idKey: "id", layout: .lines))
                == "q.jsonl:1: a record must be a JSON object, not list")
    }

    @Test func jsonArrayIsReadElementByElement() async throws {
        let scratch = try Scratch()
        let path = try scratch.write(
            "p.json",
            """
            [
              {"id": "E1", "note": "brace } and [bracket] in \\"text\\""},
              {"id": "E2", "nested": {"deep": [1, 2]}}
            ]
            """)
        let records = try await readAll(JSONFileSource(path: path, idKey: "id", layout: .array))
        #expect(records.map(\.id) == ["E1", "E2"])
        #expect(records[0]["note"] == .text("brace } and [bracket] in \"text\""))
        #expect(records[1]["nested.deep"] == .multiple(["1", "2"]))
        #expect(records[1].location?.description == "p.json:3")
        let truncated = try scratch.write("t.json", "[{\"id\": 1}, {\"id\": 2")
        #expect(
            await errorMessage(JSONFileSource(path: truncated, idKey: "id", layout: .array)).contains(
                "ends before the array closes"))
        let object = try scratch.write("o.json", "{\"id\": 1}")
        #expect(await errorMessage(JSONFileSource(path: object, idKey: "id", layout: .array)).contains("expected `[`"))
    }
}

@Suite struct CSVColumnSelectionTests {
    @Test func onlyTheNeededColumnsAreDecoded() async throws {
        let scratch = try Scratch()
        let path = try scratch.write("p.csv", "id,name,notes\nE1,Ada,\"long, unused\"\n")
        let records = try await readAll(CSVSource(path: path, idColumn: "id", columnsNeeded: ["name"]))
        #expect(records.first?.id == "E1")
        #expect(records.first?["name"] == .text("Ada"))
        #expect(records.first?["notes"] == nil)
    }
}

/// Malformed input fails naming where, with memory bounded by `max_record_bytes`; a file still being written is refused.
@Suite struct FileLimitTests {
    var small: FileLimits {
        var limits = FileLimits()
        limits.maxRecordBytes = 4096
        return limits
    }

    @Test func anUnclosedQuoteFailsAtTheLimitNamingItsLine() async throws {
        let scratch = try Scratch()
        let path = try scratch.write(
            "p.csv", "id,name\nE1,Ada\nE2,\"never closed\n" + String(repeating: "x,y\n", count: 5000))
        var source = CSVSource(path: path, idColumn: "id")
        source.limits = small
        let message = await errorMessage(source)
        #expect(
            message.contains("p.csv:3: the record starting here is longer than source.max_record_bytes (4096 bytes)"),
            "\(message)")
        // The same file under the default limit is read to its end and fails on the quote instead.
        #expect(
            await errorMessage(CSVSource(path: path, idColumn: "id")).contains(
                "p.csv:3: a quoted field opens here and never closes"))
    }

    @Test func aJSONLineOrElementWithoutEndFailsAtTheLimit() async throws {
        let scratch = try Scratch()
        let lines = try scratch.write(
            "p.jsonl", "{\"id\": 1}\n{\"id\": 2, \"x\": \"" + String(repeating: "y", count: 10000))
        let lineMessage = await errorMessage(JSONFileSource(path: lines, idKey: "id", layout: .lines, limits: small))
        #expect(
            lineMessage.contains(
                "p.jsonl:2: the line starting here is longer than source.max_record_bytes (4096 bytes)"),
            "\(lineMessage)")
        let array = try scratch.write("p.json", "[{\"id\": 1},\n {\"id\": \"" + String(repeating: "y", count: 10000))
        let arrayMessage = await errorMessage(JSONFileSource(path: array, idKey: "id", layout: .array, limits: small))
        #expect(
            arrayMessage.contains("p.json:2: the array element starting here is longer than source.max_record_bytes"),
            "\(arrayMessage)")
    }

    @Test func aFileChangedJustNowIsRefusedWhenTheJobAsksToWait() async throws {
        let scratch = try Scratch()
        let path = try scratch.write("p.csv", "id,name\nE1,Ada\n")
        var source = CSVSource(path: path, idColumn: "id")
        source.limits.settleSeconds = 60
        #expect(await errorMessage(source).contains("less than source.settle_seconds (60); nothing was read"))
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-120)], ofItemAtPath: path)
        #expect(try await readAll(source).map(\.id) == ["E1"])
    }
}
