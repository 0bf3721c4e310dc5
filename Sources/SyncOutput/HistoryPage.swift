import Foundation
import SyncCore

/// `history --format html`: the last runs as an SVG chart and a table, or one person's story,
/// as one self-contained page.
public enum HistoryPage {
    /// The runs, newest first as the store gives them, drawn oldest to newest: per run a stacked
    /// bar of created, updated, terminated and rejected, and a dot for how long the run took.
    public static func runs(_ runs: [RunRecord], job: String) -> String {
        var page = HTMLText.opening(title: "compliance-sync history: \(job)")
        page += "<h1>Runs of job <code>\(HTMLText.escaped(job))</code></h1>\n"
        guard !runs.isEmpty else { return page + "<p>No run recorded yet.</p></body></html>\n" }
        page += chart(Array(runs.reversed()))
        page += "<h2>Runs, newest first</h2><table><tr><th>started</th><th>command</th><th>status</th><th>took</th>"
        for name in series.map(\.name) + ["read", "invalid"] { page += "<th>\(name)</th>" }
        page += "<th>error</th></tr>\n"
        for run in runs {
            page += "<tr><td>\(Timestamps.iso(run.startedAt))</td><td>\(run.command.rawValue)</td>"
            page +=
                "<td>\(HTMLText.escaped(run.status))</td><td class=\"n\">\(duration(run).map(JobStatus.span) ?? "")</td>"
            for value in series.map({ run[keyPath: $0.value] }) + [run.records, run.invalid] {
                page += "<td class=\"n\">\(value)</td>"
            }
            page += "<td>\(HTMLText.escaped(run.error ?? ""))</td></tr>\n"
        }
        return page + "</table></body></html>\n"
    }

    /// One person's events, oldest first: what each run did, which fields (never their values).
    public static func person(_ events: [PersonEvent], id: String, job: String) -> String {
        var page = HTMLText.opening(title: "compliance-sync history: \(id) in \(job)")
        page +=
            "<h1>History of <code>\(HTMLText.escaped(id))</code> in job <code>\(HTMLText.escaped(job))</code></h1>\n"
        guard !events.isEmpty else {
            return page + "<p>Nothing recorded: this id was never sent in a kept run.</p></body></html>\n"
        }
        page +=
            "<table><tr><th>when</th><th>what</th><th>fields</th><th>other id</th><th>run</th><th>import</th></tr>\n"
        for event in events {
            let cells = [
                Timestamps.iso(event.at), event.kind.rawValue, event.fields.joined(separator: ", "),
                event.otherID ?? "",
                event.runID, event.importID ?? "",
            ]
            page += "<tr>" + cells.map { "<td>\(HTMLText.escaped($0))</td>" }.joined() + "</tr>\n"
        }
        return page + "</table></body></html>\n"
    }

    /// What the chart stacks, in order, with its colour.
    private static let series: [(name: String, color: String, value: any KeyPath<RunRecord, Int> & Sendable)] = [
        ("created", "#2e7d32", \.created), ("updated", "#1565c0", \.updated),
        ("terminated", "#ef6c00", \.terminated), ("rejected", "#c62828", \.rejected),
    ]

    private static func duration(_ run: RunRecord) -> TimeInterval? {
        run.finishedAt.map { $0.timeIntervalSince(run.startedAt) }
    }

    /// An SVG chart: bars on the left axis (people), dots joined by a line on the right (seconds).
    private static func chart(_ runs: [RunRecord]) -> String {
        let width = 960.0, height = 320.0, left = 56.0, right = 56.0, top = 16.0, bottom = 40.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let most = max(1, runs.map { run in series.reduce(0) { $0 + run[keyPath: $1.value] } }.max() ?? 1)
        let longest = max(1, runs.compactMap(duration).max() ?? 1)
        let slot = plotWidth / Double(runs.count), bar = max(1, slot * 0.7)
        var svg = """
            <h2>Changes and duration per run</h2>
            <svg role="img" width="\(Int(width))" height="\(Int(height))" \
            viewBox="0 0 \(Int(width)) \(Int(height))" aria-label="people changed per run, and each run's duration">
            <line x1="\(left)" y1="\(top + plotHeight)" x2="\(left + plotWidth)" y2="\(top + plotHeight)" stroke="#888"/>
            <text x="4" y="\(top + 10)" font-size="11">\(most) people</text>
            <text x="\(left + plotWidth + 4)" y="\(top + 10)" font-size="11">\(JobStatus.span(longest))</text>

            """
        var points: [String] = []
        for (index, run) in runs.enumerated() {
            let x = left + Double(index) * slot + (slot - bar) / 2
            var y = top + plotHeight
            for item in series {
                let value = run[keyPath: item.value]
                guard value > 0 else { continue }
                let h = plotHeight * Double(value) / Double(most)
                y -= h
                svg +=
                    "<rect x=\"\(format(x))\" y=\"\(format(y))\" width=\"\(format(bar))\" height=\"\(format(h))\" fill=\"\(item.color)\"><title>\(item.name) \(value), run \(HTMLText.escaped(run.id))</title></rect>\n"
            }
            if let seconds = duration(run) {
                let cy = top + plotHeight - plotHeight * seconds / longest
                points.append("\(format(x + bar / 2)),\(format(cy))")
                svg +=
                    "<circle cx=\"\(format(x + bar / 2))\" cy=\"\(format(cy))\" r=\"3\" fill=\"#333\"><title>took \(JobStatus.span(seconds))</title></circle>\n"
            }
        }
        if points.count > 1 {
            svg += "<polyline points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"#333\"/>\n"
        }
        var legendX = left
        for item in series {
            svg +=
                "<rect x=\"\(format(legendX))\" y=\"\(format(height - 18))\" width=\"10\" height=\"10\" fill=\"\(item.color)\"/>"
            svg +=
                "<text x=\"\(format(legendX + 14))\" y=\"\(format(height - 9))\" font-size=\"11\">\(item.name)</text>\n"
            legendX += 100
        }
        svg +=
            "<circle cx=\"\(format(legendX + 5))\" cy=\"\(format(height - 13))\" r=\"3\" fill=\"#333\"/><text x=\"\(format(legendX + 14))\" y=\"\(format(height - 9))\" font-size=\"11\">duration</text>\n"
        return svg + "</svg>\n"
    }

    private static func format(_ value: Double) -> String { String(format: "%.1f", value) }
}
