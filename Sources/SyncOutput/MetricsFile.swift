import ConnectorCore
import Foundation
import SyncCore

/// A run's figures in the Prometheus text exposition format, for node_exporter's textfile
/// collector (`metrics.textfile`, `sync --metrics-file`): written whole at the end of every
/// run, failed and stopped ones too. Every series carries the label `sync_job` (not `job`,
/// which Prometheus gives its scrape target). docs/operations.md lists them.
public enum MetricsFile {
    /// Writes the metrics of a run, atomically and readable by the collector (mode 0644).
    /// The last success is carried over from the file's previous contents when this run failed.
    /// - Throws: ``SyncError`` naming the file when it cannot be written.
    public static func write(_ report: SyncReport, to path: String) throws {
        let previous = try? String(contentsOfFile: path, encoding: .utf8)
        let success: Date? =
            report.completed ? report.finishedAt : previous.flatMap { Self.lastSuccess(in: $0, job: report.job) }
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        let file = try ByteOutput(creating: path, mode: 0o644)
        file.write(render(report, lastSuccess: success))
        try file.finish()
    }

    /// The exposition text of a run.
    public static func render(_ report: SyncReport, lastSuccess: Date?) -> String {
        let job = "sync_job=\"\(escape(report.job))\""
        var text = ""
        func metric(_ name: String, _ help: String, _ samples: [(labels: String, value: Double)]) {
            text += "# HELP compliance_sync_\(name) \(help)\n# TYPE compliance_sync_\(name) gauge\n"
            for sample in samples {
                text += "compliance_sync_\(name){\(job)\(sample.labels)} \(format(sample.value))\n"
            }
        }
        func metric(_ name: String, _ help: String, _ value: Double) { metric(name, help, [("", value)]) }
        metric(
            "last_run_start_timestamp_seconds", "When the last run started (Unix time).",
            report.startedAt.timeIntervalSince1970)
        metric(
            "last_run_end_timestamp_seconds", "When the last run ended (Unix time).",
            report.finishedAt.timeIntervalSince1970)
        metric(
            "last_run_duration_seconds", "How long the last run took.",
            report.finishedAt.timeIntervalSince(report.startedAt))
        metric(
            "last_run_exit_status",
            "The last run's exit status: 0 done, 1 failed, 2 configuration, 3 stopped by a guard, 4 rows rejected, 5 locked.",
            Double(report.exitCode))
        if let lastSuccess {
            metric(
                "last_success_timestamp_seconds", "When a run last completed (exit status 0 or 4; Unix time).",
                lastSuccess.timeIntervalSince1970)
        }
        metric("last_run_records_read", "Records the last run read from its source.", Double(report.records))
        if let read = report.read {
            metric(
                "last_run_read_entries", "Entries the last run's read returned, by kind of read (full or changes).",
                [(",read=\"\(read.kind.rawValue)\"", Double(read.entries))])
        }
        metric(
            "last_run_changes", "People the last run sent, by kind of change.",
            [
                (",change=\"create\"", Double(report.created)), (",change=\"update\"", Double(report.updated)),
                (",change=\"rekey\"", Double(report.rekeys.count)),
                (",change=\"termination\"", Double(report.terminated)),
            ])
        metric("last_run_rejected_rows", "Rows the API rejected in the last run.", Double(report.rejected.count))
        metric(
            "last_run_invalid_records", "Records the last run could not send (invalid in the source).",
            Double(report.invalid.count))
        metric("last_run_imports_sent", "Import requests the last run made.", Double(report.importsSent))
        metric("last_run_api_retries", "API requests the last run tried again.", Double(report.apiRetries))
        if let pending = report.journalPending {
            metric(
                "journal_pending_entries", "Submissions not yet settled; the next run settles them.",
                Double(pending))
        }
        return text
    }

    /// The last success a previous file recorded for a job.
    static func lastSuccess(in text: String, job: String) -> Date? {
        let prefix = "compliance_sync_last_success_timestamp_seconds{sync_job=\"\(escape(job))\"} "
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }),
            let seconds = Double(line.dropFirst(prefix.count))
        else { return nil }
        return Date(timeIntervalSince1970: seconds)
    }

    /// A label value as the format wants it: backslash, quote and newline escaped.
    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    private static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
