import ConnectorCore
import Foundation
import JobConfig
import SyncCore

/// What a webhook is sent about a run: the job, the host, what happened and counts. Never
/// a person's values (no SSN, no birth date, no names) and never a secret.
public enum NotificationBody {
    /// The body for a webhook, as bytes to post with `Content-Type: application/json`.
    public static func render(
        _ report: SyncReport, events: [Webhook.Event], format: Webhook.Format, host: String
    ) -> [UInt8] {
        let object: [String: Any]
        switch format {
        case .json: object = json(report, events: events, host: host)
        case .slack: object = ["text": slackText(report, events: events, host: host)]
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Array(data)
    }

    /// The body for a webhook told by `status --notify` that a job is stale: the same schema,
    /// with `events: ["stale"]`, the status check's `state` and `reasons`, and the last run's counts.
    public static func render(stale status: JobStatus, format: Webhook.Format, host: String) -> [UInt8] {
        let (state, reasons) = status.verdict
        var report = SyncReport(job: status.job, source: "the run history", startedAt: status.checkedAt)
        if let run = status.lastRun {
            (report.startedAt, report.finishedAt) = (run.startedAt, run.finishedAt ?? run.startedAt)
            (report.records, report.created, report.updated, report.terminated) =
                (run.records, run.created, run.updated, run.terminated)
            report.importsSent = run.importsSent
        }
        report.lastSuccessAt = status.lastSuccess.map { $0.finishedAt ?? $0.startedAt }
        report.stale = true
        var object: [String: Any]
        switch format {
        case .json:
            object = json(report, events: [.stale], host: host)
            object["status"] = status.lastRun?.status ?? "none"
            object["exit_status"] = status.lastRun?.exitStatus ?? NSNull()
            object["state"] = state.name.lowercased()
            object["reasons"] = reasons
            object["checked_at"] = Timestamps.iso(status.checkedAt)
        case .slack:
            object = [
                "text": "compliance-sync job *\(status.job)* on \(host) is \(state.name): "
                    + reasons.joined(separator: "; ")
            ]
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Array(data)
    }

    /// The documented JSON schema (docs/operations.md), version 1.
    static func json(_ report: SyncReport, events: [Webhook.Event], host: String) -> [String: Any] {
        var object: [String: Any] = [
            "format": "compliance-sync.notification", "version": 1, "job": report.job, "host": host,
            "source": report.source, "events": events.map(\.rawValue), "status": report.status,
            "exit_status": Int(report.exitCode), "started_at": Timestamps.iso(report.startedAt),
            "finished_at": Timestamps.iso(report.finishedAt), "counts": counts(report),
        ]
        if let failure = report.failure {
            object["error"] = ["message": failure.message, "hint": failure.hint ?? ""]
        }
        if let lastSuccess = report.lastSuccessAt { object["last_success_at"] = Timestamps.iso(lastSuccess) }
        return object
    }

    /// One message for a Slack incoming webhook.
    static func slackText(_ report: SyncReport, events: [Webhook.Event], host: String) -> String {
        let what = events.map { event in
            switch event {
            case .failure: "failed (exit \(report.exitCode))"
            case .guardStopped: "stopped by a guard; nothing was sent"
            case .rejections: "\(report.rejected.count) rows rejected by the API"
            case .invalid: "\(report.invalid.count) records in the source cannot be sent"
            case .removals: "\(report.terminated) terminated, \(report.waiting.count) missing within the grace period"
            case .stale:
                "stale: "
                    + (report.lastSuccessAt.map { "last success \(Timestamps.iso($0))" } ?? "no run has succeeded yet")
            }
        }
        var lines = ["compliance-sync job *\(report.job)* on \(host): " + what.joined(separator: "; ")]
        if let failure = report.failure {
            lines.append("> " + failure.message + (failure.hint.map { "\n> " + $0 } ?? ""))
        }
        let c = counts(report)
        lines.append(
            "read \(c["records"] ?? 0), created \(c["created"] ?? 0), updated \(c["updated"] ?? 0), "
                + "terminated \(c["terminated"] ?? 0), rejected \(c["rejected"] ?? 0), invalid \(c["invalid"] ?? 0)")
        return lines.joined(separator: "\n")
    }

    private static func counts(_ report: SyncReport) -> [String: Int] {
        [
            "records": report.records, "created": report.created, "updated": report.updated,
            "terminated": report.terminated, "rekeyed": report.rekeys.count, "unchanged": report.unchanged,
            "invalid": report.invalid.count, "rejected": report.rejected.count, "waiting": report.waiting.count,
            "imports_sent": report.importsSent,
        ]
    }
}
