import ConnectorCore
import Foundation
import SyncCore

extension SyncReport {
    /// The one-paragraph summary `sync` prints.
    public var summary: String {
        let seconds = (finishedAt.timeIntervalSince(startedAt) * 10).rounded() / 10
        var lines = [
            "sync \(job): \(records) records read from \(source)",
            "  created \(created), updated \(updated), terminated \(terminated), re-keyed \(rekeys.count), "
                + "unchanged \(unchanged), invalid \(invalid.count), rejected \(rejected.count)",
            "  \(importsSent) import\(importsSent == 1 ? "" : "s") sent in \(seconds)s"
                + (settled > 0 ? "; \(settled) interrupted imports settled" : ""),
        ]
        if importsSent == 0 && rejected.isEmpty && settled == 0 { lines.append("  nothing to do, 0 imports sent") }
        if !reportedGone.isEmpty { lines.append("  \(reportedGone.count) gone from the source (reported only)") }
        if !waiting.isEmpty { lines.append("  \(waiting.count) missing, within the grace period") }
        for rekey in rekeys.prefix(20) {
            lines.append("  re-keyed \(rekey.from) -> \(rekey.to) (same \(rekey.matchedOn)); not terminated")
        }
        if rekeys.count > 20 { lines.append("  … and \(rekeys.count - 20) more re-keyed (see the run report)") }
        for rejection in rejected.prefix(20) {
            lines.append(
                "  rejected: the \(["create": "creation", "update": "update", "terminate": "termination"][rejection.action] ?? rejection.action) of \(rejection.sourceID): "
                    + (rejection.field.map { "\($0): " } ?? "") + rejection.message)
        }
        if rejected.count > 20 { lines.append("  … and \(rejected.count - 20) more rejected (see the run report)") }
        for record in invalid.prefix(20) {
            lines.append(
                "  invalid \(record.sourceID.isEmpty ? "(no id)" : record.sourceID)"
                    + (record.location.map { " (\($0))" } ?? "") + ": \(record.reason)")
        }
        if invalid.count > 20 { lines.append("  … and \(invalid.count - 20) more invalid (see the run report)") }
        for group in unmatched {
            lines.append("  \(group.ids.count) records of \(group.source) matched no one (see the run report)")
        }
        for warning in warnings { lines.append("  warning: \(warning)") }
        return lines.joined(separator: "\n")
    }

    /// Writes the JSON run report.
    public func writeJSON(to out: ByteOutput) {
        var json = JSONWriter(out)
        json.beginObject()
        json.field("format", "compliance-sync.run-report")
        json.field("version", 1)
        json.field("job", job)
        json.field("source", source)
        json.field("started_at", Timestamps.iso(startedAt))
        json.field("finished_at", Timestamps.iso(finishedAt))
        json.field("full", full)
        json.field("exit_status", Int(exitCode))
        json.field("status", status)
        json.field("error", error: failure)
        json.key("summary")
        json.beginObject()
        json.field("records", records)
        json.field("created", created)
        json.field("updated", updated)
        json.field("terminated", terminated)
        json.field("rekeys", rekeys.count)
        json.field("unchanged", unchanged)
        json.field("invalid", invalid.count)
        json.field("rejected", rejected.count)
        json.field("reported_gone", reportedGone.count)
        json.field("waiting", waiting.count)
        json.field("imports_sent", importsSent)
        json.field("settled", settled)
        json.endObject()
        json.key("rejected")
        json.beginArray()
        for rejection in rejected {
            json.beginObject()
            json.field("source_id", rejection.sourceID)
            json.field("action", rejection.action)
            json.field("field", rejection.field)
            json.field("message", rejection.message)
            json.endObject()
        }
        json.endArray()
        json.key("rekeys")
        json.beginArray()
        for rekey in rekeys {
            json.beginObject()
            json.field("from", rekey.from)
            json.field("to", rekey.to)
            json.field("matched_on", rekey.matchedOn)
            json.endObject()
        }
        json.endArray()
        json.key("invalid")
        json.beginArray()
        for record in invalid {
            json.beginObject()
            json.field("source_id", record.sourceID)
            json.field("location", record.location?.description)
            json.field("reason", record.reason)
            json.endObject()
        }
        json.endArray()
        json.key("unmatched")
        json.beginArray()
        for group in unmatched {
            json.beginObject()
            json.field("source", group.source)
            json.field("source_ids", strings: group.ids)
            json.endObject()
        }
        json.endArray()
        json.field("reported_gone", strings: reportedGone)
        json.field("waiting", strings: waiting)
        json.field("warnings", strings: warnings)
        json.endObject()
        out.write("\n")
        out.flush()
    }
}
