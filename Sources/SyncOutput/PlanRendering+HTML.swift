import ConnectorCore
import Foundation
import SyncCore

extension PlanRendering {
    /// The plan as one self-contained HTML page for an approver to read before `sync --approve`:
    /// the counts, whether a guard would stop the run and why, and each change as a row, an
    /// update's old and new values side by side. Built from the JSON plan, so it shows exactly
    /// what that says, sensitive values masked; no script, font or style from elsewhere.
    /// - Throws: ``SyncError`` if that JSON cannot be read back: a page without it would show an
    ///   approver an empty plan that no guard stops.
    public static func html(_ changes: ChangeSet, header: PlanHeader, to out: ByteOutput) throws {
        let memory = ByteOutput()
        json(changes, header: header, to: memory)
        guard let plan = (try? JSONSerialization.jsonObject(with: Data(memory.collected()))) as? [String: Any] else {
            throw SyncError(
                .io, "the plan could not be read back to write it as HTML; no page was written",
                hint: "report this as a bug, with `plan --format json` of the same job")
        }
        HTMLPlan(plan: plan, out: out).write()
        out.flush()
    }
}

/// Writes one plan document as HTML.
struct HTMLPlan {
    let plan: [String: Any]
    let out: ByteOutput

    func write() {
        let job = text(plan["job"])
        out.write(
            HTMLText.opening(title: "compliance-sync plan: \(job)")
                + """
                <h1>Plan for job <code>\(escaped(job))</code></h1>
                <p>Source: \(escaped(text(plan["source"]))) · Snapshot: \(escaped(text(plan["snapshot"]))) · Planned at \(escaped(text(plan["planned_at"]))) · Removals: \(escaped(text(plan["removal_action"])))</p>

                """)
        guards()
        counts()
        if let read = plan["read"] as? [String: Any] {
            out.write("<p>Read: \(escaped(text(read["kind"]))) (\(escaped(text(read["reason"]))))</p>\n")
        }
        if let warnings = plan["warnings"] as? [String], !warnings.isEmpty {
            out.write("<h2 id=\"warnings\">Warnings</h2><ul>")
            for warning in warnings { out.write("<li>\(escaped(warning))</li>") }
            out.write("</ul>\n")
        }
        // What an approver weighs first: changes to people who exist, then removals; new hires last.
        updates()
        people(
            "rekeys", "Re-keyed (a new source id for the same person)",
            columns: ["from", "to", "matched on", "changed", "fields"]
        ) {
            row in
            [
                text(row["from"]), text(row["source_id"]), text(row["matched_on"]), list(row["changed"]),
                fields(row["fields"]),
            ]
        }
        people(
            "removals", "Removed (\(escaped(text(plan["removal_action"]))))",
            columns: ["source id", "who", "missing since", "due at"]
        ) {
            row in
            [text(row["source_id"]), fields(row["fields"]), text(row["missing_since"]), text(row["due_at"])]
        }
        people(
            "waiting", "Missing, not removed yet (grace period, or held: see the warnings)",
            columns: ["source id", "who", "missing since", "due at"]
        ) {
            row in
            [text(row["source_id"]), fields(row["fields"]), text(row["missing_since"]), text(row["due_at"])]
        }
        people("held", "Held back", columns: ["source id", "where", "field", "reason"]) { row in
            [text(row["source_id"]), text(row["location"]), text(row["field"]), text(row["reason"])]
        }
        people("invalid", "Invalid records (not sent)", columns: ["source id", "where", "reason"]) { row in
            [text(row["source_id"]), text(row["location"]), text(row["reason"])]
        }
        people("creates", "Created", columns: ["source id", "where", "fields"]) { row in
            [text(row["source_id"]), text(row["location"]), fields(row["fields"])]
        }
        out.write("<p><small>Written by compliance-sync. Sensitive values are masked.</small></p></body></html>\n")
    }

    private func guards() {
        if let stopped = plan["stopped"] as? [String: Any] {
            out.write(
                "<div class=\"stopped\" id=\"guard\"><strong>A guard would stop this run:</strong> \(escaped(text(stopped["message"])))"
                    + "<br>\(escaped(text(stopped["hint"])))</div>\n")
        } else {
            out.write("<div class=\"ok\" id=\"guard\">No guard would stop this run.</div>\n")
        }
    }

    private func counts() {
        guard let summary = plan["summary"] as? [String: Any] else { return }
        out.write("<h2 id=\"summary\">Summary</h2><table class=\"counts\"><tr>")
        let keys = ["records", "creates", "updates", "rekeys", "held", "removals", "waiting", "unchanged", "invalid"]
        for key in keys where summary[key] != nil { out.write("<th>\(key)</th>") }
        out.write("</tr><tr>")
        for key in keys where summary[key] != nil { out.write("<td>\(escaped(text(summary[key])))</td>") }
        out.write("</tr></table>\n")
    }

    private func updates() {
        guard let rows = plan["updates"] as? [[String: Any]], !rows.isEmpty else { return }
        out.write(
            "<h2 id=\"updates\">Updated (\(rows.count))</h2><table><tr><th>source id</th><th>where</th><th>field</th><th>was</th><th>becomes</th></tr>\n"
        )
        for row in rows {
            let new = row["fields"] as? [String: Any] ?? [:], old = row["previous"] as? [String: Any] ?? [:]
            let changed = (row["changed"] as? [String]) ?? []
            for (index, field) in changed.enumerated() {
                let lead =
                    index == 0
                    ? "<td rowspan=\"\(changed.count)\">\(escaped(text(row["source_id"])))</td><td rowspan=\"\(changed.count)\">\(escaped(text(row["location"])))</td>"
                    : ""
                out.write(
                    "<tr>\(lead)<td>\(escaped(field))</td><td class=\"old\">\(escaped(text(old[field])))</td>"
                        + "<td class=\"new\">\(escaped(text(new[field])))</td></tr>\n")
            }
        }
        out.write("</table>\n")
    }

    private func people(
        _ key: String, _ title: String, columns: [String], cells: ([String: Any]) -> [String]
    ) {
        guard let rows = plan[key] as? [[String: Any]], !rows.isEmpty else { return }
        out.write("<h2 id=\"\(key)\">\(title) (\(rows.count))</h2><table><tr>")
        for column in columns { out.write("<th>\(column)</th>") }
        out.write("</tr>\n")
        for row in rows {
            out.write("<tr>")
            for cell in cells(row) { out.write("<td>\(escaped(cell))</td>") }
            out.write("</tr>\n")
        }
        out.write("</table>\n")
    }

    private func fields(_ value: Any?) -> String {
        guard let fields = value as? [String: Any] else { return "" }
        return fields.keys.sorted().map { "\($0): \(text(fields[$0]))" }.joined(separator: "; ")
    }

    private func list(_ value: Any?) -> String { (value as? [String])?.joined(separator: ", ") ?? "" }

    private func text(_ value: Any?) -> String {
        switch value {
        case let text as String: text
        case let number as NSNumber: number.stringValue
        case nil, is NSNull: ""
        default: "\(value!)"
        }
    }

    private func escaped(_ text: String) -> String { HTMLText.escaped(text) }
}
