import Foundation
import Testing

/// docs/connector-api.md is the connector modules' public surface as the compiler's symbol graph gives it.
@Suite struct ConnectorAPIPageTests {
    @Test func thePageSaysWhatTheModulesDeclare() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        check.arguments = [root.appendingPathComponent("scripts/connector-api").path, "--check"]
        let errors = Pipe()
        check.standardError = errors
        try check.run()
        check.waitUntilExit()
        let said = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(check.terminationStatus == 0, "\(said)")
        let page = try String(contentsOf: root.appendingPathComponent("docs/connector-api.md"), encoding: .utf8)
        for needed in [
            "case text(String)", "func records() -> Self.Records", "static func row(_ row: Int, of source: String)",
            "init(name: String, chunkSize: Int = 2048, produce:", "func error(_ message: String",
            "static func attributes(of object: [String : Any], location: SourceLocation, nestedLists:",
            "init(source: @escaping ConnectorConformance.Factory, failing: @escaping ConnectorConformance.Factory)",
        ] {
            #expect(page.contains(needed), "the page lacks \(needed)")
        }
    }
}
