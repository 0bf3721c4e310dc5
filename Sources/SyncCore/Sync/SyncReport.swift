import ConnectorCore
import Foundation

/// What a sync did, for the summary it prints and the JSON run report
/// (documented in docs/run-report.md). Holds no sensitive value.
public struct SyncReport: Sendable {
    /// A row the API did not apply.
    public struct Rejection: Sendable, Hashable {
        /// The person's source id.
        public var sourceID: String
        /// `create`, `update` or `terminate`.
        public var action: String
        /// The field the API named, if any.
        public var field: String?
        /// The API's message.
        public var message: String
    }

    /// A person whose source id changed: their snapshot row moved, and nobody was terminated.
    public struct Rekey: Sendable, Hashable {
        /// The old source id.
        public var from: String
        /// The new source id.
        public var to: String
        /// The field that shows they are the same person.
        public var matchedOn: String
    }

    /// The job's name.
    public var job: String
    /// The source, as it describes itself.
    public var source: String
    /// When the run started.
    public var startedAt: Date
    /// When the run ended.
    public var finishedAt: Date
    /// Whether every current person was sent (`sync --full`).
    public var full = false
    /// Records read.
    public var records = 0
    /// Rows the API applied, by kind.
    public var created = 0, updated = 0, terminated = 0
    /// People with nothing to send.
    public var unchanged = 0
    /// Records not sent because they are invalid at the source.
    public var invalid: [InvalidRecord] = []
    /// People gone from the source but only reported (`removals.action: report`) or within the grace period.
    public var reportedGone: [String] = []
    /// People gone from the source but still within `removals.grace`.
    public var waiting: [String] = []
    /// People whose source id changed (re-keys), never terminated.
    public var rekeys: [Rekey] = []
    /// Rows the API rejected; they are sent again next run.
    public var rejected: [Rejection] = []
    /// Records of joined sources that matched no primary record, by source.
    public var unmatched: [JoinedSource.Unmatched] = []
    /// With joined sources: what each gave the read.
    public var joined: [JoinedSource.MemberCount] = []
    /// Source ids in journal entries of earlier runs that could not be settled: not sent this run.
    public var unsettled: Set<String> = []
    /// Import requests that created an import.
    public var importsSent = 0
    /// Submissions of an earlier, interrupted run that this run confirmed.
    public var settled = 0
    /// Warnings to read once.
    public var warnings: [String] = []
    /// Why the run ended early (a failure, or a guard that stopped it), if it did.
    public var failure: SyncError?
    /// Requests to the API that were tried again (429, 5xx, a lost connection).
    public var apiRetries = 0
    /// Journal entries left at the end of the run (imports not yet settled); `nil` when unknown.
    public var journalPending: Int?
    /// When the job last went to its end (this run, if it did), from the run history; `nil` when unknown.
    public var lastSuccessAt: Date?
    /// Whether the job's last success is older than `history.stale_after` (or none came in that time).
    public var stale = false

    /// An empty report of a run that starts now.
    public init(job: String, source: String, startedAt: Date = Date(), finishedAt: Date = Date()) {
        self.job = job
        self.source = source
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }

    /// Whether the run went to its end (exit status 0 or 4): stopped by nothing, failed at nothing.
    public var completed: Bool { failure == nil }

    /// The exit status: the failure's, else 4 when the API rejected rows, else 0.
    public var exitCode: Int32 { failure?.exitCode ?? (rejected.isEmpty ? 0 : 4) }

    /// How the run ended: `completed`, `rejected` (some rows), `stopped` (by a guard) or `failed`.
    public var status: String {
        guard let failure else { return rejected.isEmpty ? "completed" : "rejected" }
        return failure.kind == .guardStopped ? "stopped" : "failed"
    }

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
