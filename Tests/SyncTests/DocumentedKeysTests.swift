import Foundation
import TestSupport
import Testing

/// Every key the JSON plan and the run report emit is documented: the documents are the contract
/// other tools read, and they lagged (the joined-source fields were undocumented).
@Suite struct DocumentedKeysTests {
    /// The keys of a JSON document, recursively, but not those that are data (field names).
    static func keys(_ value: Any, skipping data: Set<String>) -> Set<String> {
        var found: Set<String> = []
        if let object = value as? [String: Any] {
            for (key, inner) in object {
                found.insert(key)
                if !data.contains(key) { found.formUnion(keys(inner, skipping: data)) }
            }
        } else if let list = value as? [Any] {
            for item in list { found.formUnion(keys(item, skipping: data)) }
        }
        return found
    }

    /// The keys `document` never names in backquotes (`key`, `summary.key`, `key[]`).
    static func undocumented(_ keys: Set<String>, in document: String) throws -> [String] {
        let text = try String(
            contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../../docs/\(document)"), encoding: .utf8)
        return keys.sorted().filter { key in
            text.range(of: "[`.\"]\(NSRegularExpression.escapedPattern(for: key))[`\\[\"]", options: .regularExpression)
                == nil
        }
    }

    @Test func everyPlanAndReportKeyIsDocumented() async throws {
        try await withHarness { harness in
            // Something of every kind: a create, an update, a removal, an invalid record.
            #expect(try await harness.run("sync").status == 0)
            let lines = try harness.example.read("people.csv").split(separator: "\n").map(String.init)
            let edited =
                [lines[0], lines[1].replacingOccurrences(of: "Principal Engineer", with: "Fellow")]
                + lines.dropFirst(2).dropLast() + ["E2001,No,,Mail,,Analyst,IT,,2026-01-01"]
            try harness.example.write("people.csv", edited.joined(separator: "\n") + "\n")
            let plan = try await harness.run("plan", ["--format", "json"])
            let json = try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8))
            let fieldNames: Set<String> = ["fields", "previous", "field_sources"]
            let undocumented = try Self.undocumented(Self.keys(json, skipping: fieldNames), in: "plan-format.md")
            #expect(undocumented.isEmpty, "keys of the JSON plan missing from docs/plan-format.md: \(undocumented)")
            #expect(try await harness.run("sync").status == 0)
            let report = try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: harness.example.path(".state/quickstart.report.json"))))
            let missing = try Self.undocumented(Self.keys(report, skipping: []), in: "run-report.md")
            #expect(missing.isEmpty, "keys of the run report missing from docs/run-report.md: \(missing)")
        }
    }
}
