import Foundation
import Testing
@testable import SyncCore

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
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
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
        let out = try ByteOutput(creating: "/dev/full")
        out.write(String(repeating: "x", count: 100_000))
        #expect {
            try out.finish()
        } throws: { error in
            (error as? SyncError)?.message.hasPrefix("writing /dev/full failed") == true
        }
    }
}
