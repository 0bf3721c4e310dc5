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
        switch format {
        case .json: encode(NotificationDocument(report, events: events, host: host))
        case .slack: encode(SlackMessage(text: slackText(report, events: events, host: host)))
        }
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
        switch format {
        case .json:
            var document = NotificationDocument(report, events: [.stale], host: host)
            document.status = status.lastRun?.status ?? "none"
            document.exitStatus = status.lastRun?.exitStatus
            document.state = state.name.lowercased()
            document.reasons = reasons
            document.checkedAt = Timestamps.iso(status.checkedAt)
            return encode(document)
        case .slack:
            return encode(
                SlackMessage(
                    text: "compliance-sync job *\(status.job)* on \(host) is \(state.name): "
                        + reasons.joined(separator: "; ")))
        }
    }

    private static func encode(_ body: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(body)) ?? Data("{}".utf8))
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
        lines.append(
            "read \(report.records), created \(report.created), updated \(report.updated), "
                + "terminated \(report.terminated), rejected \(report.rejected.count), invalid \(report.invalid.count)")
        return lines.joined(separator: "\n")
    }
}

/// A Slack incoming webhook's message.
struct SlackMessage: Encodable {
    var text: String
}

/// What a webhook is sent as JSON: `compliance-sync.notification`, version 1 (docs/operations.md).
/// `error` and `last_success_at` are left out when there is none; a stale job's body adds `state`,
/// `reasons` and `checked_at`.
public struct NotificationDocument: OutputDocument, Sendable {
    public struct Counts: Encodable, Sendable {
        public var records, created, updated, terminated, rekeyed, unchanged, invalid, rejected, waiting: Int
        public var importsSent: Int

        enum CodingKeys: String, CodingKey {
            case records, created, updated, terminated, rekeyed, unchanged, invalid, rejected, waiting
            case importsSent = "imports_sent"
        }
    }

    public struct Failure: Encodable, Sendable {
        public var message: String
        /// Empty when there is no hint.
        public var hint: String
    }

    public var format = "compliance-sync.notification"
    public var version = 1
    public var job, host, source: String
    public var events: [String]
    public var status: String
    @Nullable public var exitStatus: Int?
    public var startedAt, finishedAt: String
    public var counts: Counts
    public var error: Failure?
    public var lastSuccessAt: String?
    public var state: String?
    public var reasons: [String]?
    public var checkedAt: String?

    enum CodingKeys: String, CodingKey {
        case format, version, job, host, source, events, status, counts, error, state, reasons
        case exitStatus = "exit_status"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case lastSuccessAt = "last_success_at"
        case checkedAt = "checked_at"
    }

    init(_ report: SyncReport, events: [Webhook.Event], host: String) {
        job = report.job
        self.host = host
        source = report.source
        self.events = events.map(\.rawValue)
        status = report.status
        exitStatus = Int(report.exitCode)
        startedAt = Timestamps.iso(report.startedAt)
        finishedAt = Timestamps.iso(report.finishedAt)
        counts = Counts(
            records: report.records, created: report.created, updated: report.updated, terminated: report.terminated,
            rekeyed: report.rekeys.count, unchanged: report.unchanged, invalid: report.invalid.count,
            rejected: report.rejected.count, waiting: report.waiting.count, importsSent: report.importsSent)
        error = report.failure.map { Failure(message: $0.message, hint: $0.hint ?? "") }
        lastSuccessAt = report.lastSuccessAt.map(Timestamps.iso)
    }
}
