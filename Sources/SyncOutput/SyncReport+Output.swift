import ConnectorCore
import Foundation
import SyncCore

extension SyncReport {
    /// The one-paragraph summary `sync` prints.
    public var summary: String {
        let seconds = (finishedAt.timeIntervalSince(startedAt) * 10).rounded() / 10
        var lines = [
            "sync \(job): \(records) records read from \(source)"
                + (read?.kind == .changes ? " (only the changes: \(read?.reason ?? ""))" : ""),
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

    /// The JSON run report (docs/run-report.md).
    public var document: RunReportDocument { RunReportDocument(self) }
}

/// The run report `sync` writes: `compliance-sync.run-report`, version 1 (docs/run-report.md).
public struct RunReportDocument: OutputDocument, Sendable {
    public struct Summary: Encodable, Sendable {
        public var records, created, updated, terminated, rekeys, unchanged, invalid, rejected: Int
        public var reportedGone, waiting, importsSent, settled: Int

        enum CodingKeys: String, CodingKey {
            case records, created, updated, terminated, rekeys, unchanged, invalid, rejected, waiting, settled
            case reportedGone = "reported_gone"
            case importsSent = "imports_sent"
        }
    }

    public struct Rejection: Encodable, Sendable {
        public var sourceId, action: String
        @Nullable public var field: String?
        public var message: String

        enum CodingKeys: String, CodingKey {
            case action, field, message
            case sourceId = "source_id"
        }
    }

    public struct Rekey: Encodable, Sendable {
        public var from, to, matchedOn: String

        enum CodingKeys: String, CodingKey {
            case from, to
            case matchedOn = "matched_on"
        }
    }

    public struct Invalid: Encodable, Sendable {
        public var sourceId: String
        @Nullable public var location: String?
        public var reason: String

        enum CodingKeys: String, CodingKey {
            case location, reason
            case sourceId = "source_id"
        }
    }

    public struct Unmatched: Encodable, Sendable {
        public var source: String
        public var sourceIds: [String]

        enum CodingKeys: String, CodingKey {
            case source
            case sourceIds = "source_ids"
        }
    }

    public var format = "compliance-sync.run-report"
    public var version = 1
    public var job, source, startedAt, finishedAt: String
    public var full: Bool
    public var exitStatus: Int
    public var status: String
    @Nullable public var error: ErrorEntry?
    public var summary: Summary
    public var rejected: [Rejection]
    public var rekeys: [Rekey]
    public var invalid: [Invalid]
    public var unmatched: [Unmatched]
    public var reportedGone, waiting, warnings: [String]
    /// How the source was read; `null` when the run stopped before it read.
    @Nullable public var read: Read?

    /// A run's read of its source: `full` or `changes`, why, and the entries read.
    public struct Read: Encodable, Sendable {
        public var kind, reason: String
        public var entries: Int
    }

    enum CodingKeys: String, CodingKey {
        case format, version, job, source, full, status, error, summary, rejected, rekeys, invalid, unmatched, waiting
        case read
        case warnings
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case exitStatus = "exit_status"
        case reportedGone = "reported_gone"
    }

    init(_ report: SyncReport) {
        job = report.job
        source = report.source
        startedAt = Timestamps.iso(report.startedAt)
        finishedAt = Timestamps.iso(report.finishedAt)
        full = report.full
        exitStatus = Int(report.exitCode)
        status = report.status
        error = ErrorEntry(report.failure)
        summary = Summary(
            records: report.records, created: report.created, updated: report.updated,
            terminated: report.terminated, rekeys: report.rekeys.count, unchanged: report.unchanged,
            invalid: report.invalid.count, rejected: report.rejected.count, reportedGone: report.reportedGone.count,
            waiting: report.waiting.count, importsSent: report.importsSent, settled: report.settled)
        rejected = report.rejected.map {
            Rejection(sourceId: $0.sourceID, action: $0.action, field: $0.field, message: $0.message)
        }
        rekeys = report.rekeys.map { Rekey(from: $0.from, to: $0.to, matchedOn: $0.matchedOn) }
        invalid = report.invalid.map {
            Invalid(sourceId: $0.sourceID, location: $0.location?.description, reason: $0.reason)
        }
        unmatched = report.unmatched.map { Unmatched(source: $0.source, sourceIds: $0.ids) }
        read = report.read.map { Read(kind: $0.kind.rawValue, reason: $0.reason, entries: $0.entries) }
        reportedGone = report.reportedGone
        waiting = report.waiting
        warnings = report.warnings
    }
}
