import Foundation
import TestSupport
import Testing

/// `plan --format html` and `--save-html`, rendered by a real browser (Debian's headless Chromium):
/// the page's text read through the DOM, a screenshot kept as an artifact, and a page of 100,000
/// changes that stays small enough to attach and still renders.
@Suite(.enabled(if: TestServers.chromium, "needs Debian's chromium: run scripts/test"))
struct HTMLPlanTests {
    /// Where screenshots are kept after the run (under .build-artifacts, which git ignores).
    static let artifacts = repositoryRoot.appendingPathComponent(".build-artifacts")

    /// Chromium, headless, on a file: its DOM as text, or a screenshot.
    static func chromium(_ arguments: [String], _ file: String) async throws -> ProcessResult {
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("chromium-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: profile) }
        return try await runProcess(
            "/usr/bin/chromium",
            ["--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(profile)"] + arguments
                + ["file://\(file)"])
    }

    /// The text of the page's body, as the browser built it (tags taken out).
    static func domText(_ dom: String) -> String {
        dom.replacingOccurrences(of: "<[^>]+>", with: " ", options: .regularExpression)
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&amp;", with: "&")
    }

    /// A screenshot of `page` kept as an artifact, `named`.png; its size in bytes.
    static func screenshot(_ page: String, named name: String, window: String) async throws -> Int {
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        let shot = artifacts.appendingPathComponent("\(name).png").path
        try? FileManager.default.removeItem(atPath: shot)
        let taken = try await chromium(["--screenshot=\(shot)", "--window-size=\(window)"], page)
        #expect(taken.status == 0, "\(taken.stderr)")
        return (try? FileManager.default.attributesOfItem(atPath: shot)[.size] as? Int) ?? 0
    }

    @Test func anApproverReadsEveryKindOfChange() async throws {
        try await withHarness { harness in
            #expect(try await harness.run("sync").status == 0)
            // A title changed, a leaver, an invalid record, and 3,000 new hires.
            var lines = try harness.example.read("people.csv").split(separator: "\n").map(String.init)
            lines[1] = lines[1].replacingOccurrences(of: "Principal Engineer", with: "Fellow <b>&</b>")
            lines.remove(at: 3)
            lines.append("E9999,No,,Mail,,Analyst,IT,,2026-01-01")
            for n in 0..<3000 {
                lines.append(
                    "N\(n),Given\(n),,Family\(n),new\(n)@example.com,Engineer,IT,123-45-\(String(format: "%04d", n)),2026-01-01"
                )
            }
            try harness.example.write("people.csv", lines.joined(separator: "\n") + "\n")
            let page = harness.example.path("plan.html")
            let plan = try await harness.run("plan", ["--save-html", page, "--allow-mass-removal"])
            #expect(plan.status == 0, "\(plan.all)")
            let html = try String(contentsOfFile: page, encoding: .utf8)
            #expect(
                !html.contains("<script") && !html.contains("http://") && !html.contains("https://"), "self-contained")
            let dom = try await Self.chromium(["--dump-dom"], page)
            #expect(dom.status == 0, "\(dom.stderr)")
            let text = Self.domText(dom.stdout)
            #expect(text.contains("Plan for job  quickstart"), "\(text.prefix(400))")
            #expect(text.contains("No guard would stop this run."))
            #expect(text.contains("Created (3000)") && text.contains("new2999@example.com"))
            #expect(
                text.contains("Updated (1)") && text.contains("Principal Engineer") && text.contains("Fellow <b>&</b>"))
            #expect(text.contains("Removed (terminate) (1)"))
            #expect(text.contains("Invalid records (not sent) (1)") && text.contains("E9999"))
            #expect(!text.contains("123-45-0001") && text.contains("ssn: ***-**-****"), "SSNs masked")
            for ssn in try harness.ssns() { #expect(!html.contains(ssn)) }
            let size = try await Self.screenshot(page, named: "plan", window: "1280,1600")
            #expect(size > 20_000, "a screenshot with something on it: \(size) bytes")
        }
    }

    @Test func aPageOfAHundredThousandChangesStaysSmallAndRenders() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("big-plan-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var csv = "employee_number,first_name,last_name,email,title\n"
        for n in 0..<100_000 { csv += "E\(n),Given\(n),Family\(n),person\(n)@example.com,Engineer\n" }
        try csv.write(to: folder.appendingPathComponent("people.csv"), atomically: true, encoding: .utf8)
        try """
        source: { type: csv, path: people.csv, id: employee_number }
        mapping:
          first_name: first_name
          last_name: last_name
          email: email
          employee_id: employee_number
          job_title: title

        """.write(to: folder.appendingPathComponent("job.yml"), atomically: true, encoding: .utf8)
        let page = folder.appendingPathComponent("plan.html").path
        let plan = try await runCLI(
            ["plan", "--config", folder.appendingPathComponent("job.yml").path, "--format", "html"],
            environment: ["COMPLIANCE_CLIENT_SECRET": "unused"])
        #expect(plan.status == 0, "\(plan.stderr)")
        try plan.stdout.write(toFile: page, atomically: true, encoding: .utf8)
        let size = plan.stdout.utf8.count
        #expect(size < 30_000_000, "\(size) bytes")
        let dom = try await Self.chromium(["--dump-dom"], page)
        #expect(dom.status == 0, "\(dom.stderr)")
        #expect(dom.stdout.contains("person99999@example.com"), "the last row rendered")
    }

    @Test func theHistoryIsAChartAndAPersonsStory() async throws {
        try await withHarness { harness in
            #expect(try await harness.run("sync").status == 0)
            var lines = try harness.example.read("people.csv").split(separator: "\n").map(String.init)
            lines[1] = lines[1].replacingOccurrences(of: "Principal Engineer", with: "Fellow")
            lines.remove(at: 3)
            try harness.example.write("people.csv", lines.joined(separator: "\n") + "\n")
            #expect(try await harness.run("sync", ["--allow-mass-removal"]).status == 0)
            let page = harness.example.path("history.html")
            let history = try await harness.run("history", ["--format", "html"])
            #expect(history.status == 0, "\(history.all)")
            try history.stdout.write(toFile: page, atomically: true, encoding: .utf8)
            #expect(!history.stdout.contains("<script") && !history.stdout.contains("http"), "self-contained")
            let dom = try await Self.chromium(["--dump-dom"], page)
            #expect(dom.status == 0, "\(dom.stderr)")
            #expect(dom.stdout.contains("<svg"), "the chart is in the DOM")
            #expect(
                dom.stdout.components(separatedBy: "<rect").count - 1 >= 3 + 4, "bars for both runs, and the legend")
            let text = Self.domText(dom.stdout)
            #expect(text.contains("Runs of job  quickstart") && text.contains("created 28"), "\(text.prefix(600))")
            #expect(text.contains("updated 1") && text.contains("terminated 1"))
            #expect(try await Self.screenshot(page, named: "history", window: "1100,900") > 10_000)
            let story = try await harness.run("history", ["--format", "html", "--person", "E1001"])
            #expect(story.status == 0, "\(story.all)")
            let storyPage = harness.example.path("story.html")
            try story.stdout.write(toFile: storyPage, atomically: true, encoding: .utf8)
            let storyText = Self.domText(try await Self.chromium(["--dump-dom"], storyPage).stdout)
            #expect(
                storyText.contains("History of  E1001") && storyText.contains("created")
                    && storyText.contains("job_title"))
        }
    }
}
