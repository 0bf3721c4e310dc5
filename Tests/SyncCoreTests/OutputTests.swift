import ConnectorCore
import Foundation
import Testing

@testable import SyncCore
@testable import SyncOutput

@Suite struct OutputTests {
    @Test func jsonStringsAreEscaped() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("json-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let out = try ByteOutput(creating: path)
        var json = JSONWriter(out)
        json.beginObject()
        json.field("text", "quote \" backslash \\ newline \n tab \t bell \u{07} Zoë")
        json.field("none", nil as String?)
        json.endObject()
        try out.finish()
        let object =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
        #expect(object?["text"] as? String == "quote \" backslash \\ newline \n tab \t bell \u{07} Zoë")
        #expect(object?["none"] is NSNull)
    }

    /// Writes smaller and larger than the buffer, across its boundaries, arrive whole and in order.
    @Test func writesOfEverySizeArriveInOrder() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("out-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let out = try ByteOutput(creating: path)
        var expected: [UInt8] = []
        for i in 0..<3_000 {
            let text = String(repeating: "é\(i % 10)", count: i % 7 == 0 ? 40_000 : i % 50)
            out.write(text)
            out.write(byte: 10)
            out.writeJSONString("\"\(i)\"")
            expected += Array(text.utf8) + [10] + Array("\"\\\"\(i)\\\"\"".utf8)
        }
        try out.finish()
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(expected))
    }

    @Test func aFailedWriteIsReportedNotLost() throws {
        let fd = open("/dev/full", O_WRONLY)
        defer { close(fd) }
        let out = ByteOutput(descriptor: fd)
        out.write(String(repeating: "x", count: 100_000))
        #expect {
            try out.finish()
        } throws: { error in
            (error as? SyncError)?.message.contains("failed: No space left on device") == true
        }
    }

    /// A report is replaced whole when finished, and a link planted where it goes is replaced, never followed.
    @Test func aFileIsReplacedWholeAndLinksAreNotFollowed() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("out-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let target = folder + "/victim", path = folder + "/report.json"
        try "precious".write(toFile: target, atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target)
        let out = try ByteOutput(creating: path)
        out.write("new report")
        out.flush()
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "precious")
        try out.finish()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "new report")
        #expect(
            try String(contentsOfFile: target, encoding: .utf8) == "precious", "the link was replaced, not followed")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == ["report.json", "victim"])
    }
}

/// The creates of a JSON plan are rendered in chunks on two threads; the plan reads as one written in order.
@Suite struct JSONPlanCreatesTests {
    @Test(arguments: [0, 1, PlanRendering.createsPerChunk, 2 * PlanRendering.createsPerChunk + 1, 20_000])
    func createsAreWrittenWholeAndInOrder(count: Int) throws {
        let layout = RowLayout(fields: ["first_name", "email", "ssn", "job_title"], catalog: FieldCatalog())
        var changes = ChangeSet(layout: layout, plannedAt: Date())
        let odd = ["quote \" and \\", "line\nbreak\t\u{07}", "Zoë 美咲", ""]
        for i in 0..<count {
            changes.creates.append(
                PlannedRow(
                    sourceID: "E\(i)",
                    values: [odd[i % 4], "p\(i)@example.com", "123-45-\(i)", i % 3 == 0 ? nil : "T"],
                    fingerprint: Fingerprint(high: 1, low: UInt64(i)),
                    location: i % 5 == 0 ? nil : .line(i + 2, of: "people \"\(i % 7)\".csv")))
        }
        let out = ByteOutput()
        PlanRendering.json(
            changes,
            header: PlanHeader(job: "j", source: "s", snapshot: "n", removalAction: .terminate, stoppedBy: nil),
            to: out)
        let text = out.collected()
        let plan = try #require(try JSONSerialization.jsonObject(with: Data(text)) as? [String: Any])
        let creates = try #require(plan["creates"] as? [[String: Any]])
        #expect(creates.count == count)
        for (i, create) in creates.enumerated() {
            #expect(create["source_id"] as? String == "E\(i)")
            let location = create["location"] as? String
            #expect(location == (i % 5 == 0 ? nil : "people \"\(i % 7)\".csv:\(i + 2)"))
            let fields = try #require(create["fields"] as? [String: String])
            let expected = [
                "first_name": odd[i % 4], "email": "p\(i)@example.com", "job_title": i % 3 == 0 ? nil : "T",
            ]
            #expect(fields.filter { $0.key != "ssn" } == expected.compactMapValues { $0 })
            #expect(fields["ssn"] != nil && fields["ssn"] != "123-45-\(i)", "masked")
        }
        #expect(!String(decoding: text, as: UTF8.self).contains("123-45-"))
    }
}
