import ConnectorTestKit
import Foundation
import ConnectorCore
import Testing
import WorkdayReportConnector

@Suite struct WorkdayReportSourceTests {
    let report = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../../../workday-report.json").standardizedFileURL.path

    @Test func readsMultiInstanceFieldsAsSeveralValues() async throws {
        var records: [SourceRecord] = []
        for try await record in WorkdayReportSource(path: report).records() { records.append(record) }
        #expect(records.count == 12)
        let first = try #require(records.first)
        #expect(first.id == "21001")
        #expect(first["Legal_Name_First_Name"] == .text("Amara"))
        #expect(first["Email_Addresses"] == .multiple(["amara.okafor@example.com", "a.okafor@example.org"]))
        #expect(first["Location"] == .text("Huntsville"))
    }

    @Test func keepsTheConnectorContract() async throws {
        let broken = FileManager.default.temporaryDirectory.appendingPathComponent("broken-\(UUID()).json").path
        let text = try String(contentsOfFile: report, encoding: .utf8)
        try String(text.prefix(text.count / 2)).write(toFile: broken, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: broken) }
        try await ConnectorConformance(
            source: { WorkdayReportSource(path: report) }, failing: { WorkdayReportSource(path: broken) }
        ).verify()
    }
}
