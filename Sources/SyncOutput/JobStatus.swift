import ConnectorCore
import Foundation
import SyncCore

/// Where a job stands, as `status` tells a monitoring system: a Nagios/Icinga plugin state,
/// its one-line output with performance data, or a JSON object. Read from the run history
/// and the snapshot, never from the source or the API.
public struct JobStatus: Sendable {
    /// The plugin states, whose raw values are the exit statuses monitoring systems expect.
    public enum State: Int32, Sendable {
        case ok = 0, warning = 1, critical = 2, unknown = 3

        /// `OK`, `WARNING`...
        public var name: String {
            switch self {
            case .ok: "OK"
            case .warning: "WARNING"
            case .critical: "CRITICAL"
            case .unknown: "UNKNOWN"
            }
        }
    }

    /// The job's name.
    public var job: String
    /// The latest run that ended (or died), if any is recorded.
    public var lastRun: RunRecord?
    /// A run still going (or one that died without a word, until the next run says so).
    public var running: RunRecord?
    /// The latest run that went to its end.
    public var lastSuccess: RunRecord?
    /// When the oldest recorded run started: the job's age, when it never succeeded.
    public var firstStart: Date?
    /// The snapshot's counts.
    public var health: StoreHealth
    /// When the check was made.
    public var checkedAt: Date
    /// The last success may be this old before the job is critical.
    public var maxAge: Duration
    /// The last success may be this old before the job is a warning, if set.
    public var warningAge: Duration?
    /// Runs in a row, newest first, that had rows rejected (of the sync runs that went to their end).
    public var rejectedRuns = 0
    /// That many runs in a row with rejected rows make the job critical.
    public var rejectedRunsCritical = 3

    /// Reads a job's status from its store's history.
    /// - Parameter counts: whether to count the snapshot's people too (``health``), a scan of the
    ///   people table; a run that only wants to know if the job is stale leaves them at zero.
    public static func read(
        _ history: any RunHistoryReader, job: String, maxAge: Duration, warningAge: Duration? = nil,
        rejectedRunsCritical: Int = 3, now: Date = Date(), counts: Bool = true
    ) async throws -> JobStatus {
        // A run recorded as running while no run holds the lock, before and after the read, has died
        // (killed, a reboot): it holds the lock from before its record until its process ends.
        let before = try await history.writerRunning()
        var runs = try await history.runs(limit: 100_000)
        if before == false, try await history.writerRunning() == false {
            for i in runs.indices where runs[i].status == "running" { runs[i].status = "interrupted" }
        }
        let finished = runs.filter { ($0.command == .sync || $0.command == .full) && $0.finishedAt != nil }
        return JobStatus(
            job: job, lastRun: runs.first { $0.status != "running" }, running: runs.first { $0.status == "running" },
            lastSuccess: try await history.lastSuccess(), firstStart: runs.last?.startedAt,
            health: counts ? try await history.health() : StoreHealth(), checkedAt: now, maxAge: maxAge,
            warningAge: warningAge, rejectedRuns: finished.prefix { $0.rejected > 0 }.count,
            rejectedRunsCritical: rejectedRunsCritical)
    }

    /// How long ago the last success ended, or `nil` when there was none.
    public var age: TimeInterval? {
        lastSuccess.map { checkedAt.timeIntervalSince($0.finishedAt ?? $0.startedAt) }
    }

    /// Whether the last success is older than ``maxAge``, or none came in that long since the first run.
    public var isStale: Bool {
        HistoryPolicy.isStale(
            lastSuccess: lastSuccess.map { $0.finishedAt ?? $0.startedAt }, firstStart: firstStart, now: checkedAt,
            maxAge: maxAge)
    }

    /// The state, and the reasons for it, worst first.
    public var verdict: (state: State, reasons: [String]) {
        guard let lastRun = lastRun ?? running else {
            return (.unknown, ["no run of job \(job) is recorded yet (run `sync` once)"])
        }
        var critical: [String] = [], warning: [String] = []
        if isStale {
            critical.append(
                lastSuccess == nil
                    ? "no run has succeeded since \(Timestamps.iso(firstStart ?? lastRun.startedAt))"
                    : "last success \(Self.span(age ?? 0)) ago, more than \(Self.span(Double(maxAge.components.seconds)))"
            )
        } else if let warningAge, let age, age > Double(warningAge.components.seconds) {
            warning.append(
                "last success \(Self.span(age)) ago, more than \(Self.span(Double(warningAge.components.seconds)))")
        }
        if self.lastRun != nil {
            let ago = Self.span(checkedAt.timeIntervalSince(lastRun.finishedAt ?? lastRun.startedAt))
            switch lastRun.status {
            case "failed": critical.append("last run failed \(ago) ago: \(lastRun.error ?? "see its report")")
            case "interrupted": critical.append("last run (\(lastRun.id)) died before it finished")
            case "stopped": warning.append("last run was stopped by a guard \(ago) ago: \(lastRun.error ?? "")")
            default: break
            }
            if rejectedRuns >= rejectedRunsCritical {
                critical.append(
                    "rows rejected by the API in each of the last \(rejectedRuns) runs (\(lastRun.rejected) in the last): "
                        + "the account is not what the source says; see the run report")
            } else if lastRun.rejected > 0 {
                warning.append("\(lastRun.rejected) rows rejected by the API in the last run")
            }
            if lastRun.invalid > 0 { warning.append("\(lastRun.invalid) invalid records in the source") }
        }
        if health.journalPending > 0 && running == nil {
            warning.append("\(health.journalPending) imports not yet settled (the next run settles them)")
        }
        if !critical.isEmpty { return (.critical, critical + warning) }
        if !warning.isEmpty { return (.warning, warning) }
        return (.ok, [])
    }

    /// The plugin output: `COMPLIANCE-SYNC OK - job …: … | perfdata`.
    public var pluginOutput: String {
        let (state, reasons) = verdict
        var text = "COMPLIANCE-SYNC \(state.name) - job \(job): "
        if !reasons.isEmpty {
            text += reasons.joined(separator: "; ")
        } else if let lastSuccess {
            text +=
                "last success \(Self.span(age ?? 0)) ago (\(lastSuccess.created) created, "
                + "\(lastSuccess.updated) updated, \(lastSuccess.terminated) terminated)"
        } else {
            text += "no run has finished yet"
        }
        if let running { text += "; a run (\(running.id)) started \(Timestamps.iso(running.startedAt))" }
        if health.missing > 0 { text += "; \(health.missing) missing from the source" }
        // One line, and no `|` before the performance data's.
        let line = String(text.map { $0 == "\n" || $0 == "\r" ? " " : $0 == "|" ? "/" : $0 })
        return line + " | " + performanceData
    }

    /// Nagios performance data: the last success's age (with the thresholds) and the counts.
    public var performanceData: String {
        let critical = maxAge.components.seconds
        let warning = warningAge.map { String($0.components.seconds) } ?? ""
        var parts = [
            "last_success_age=\(age.map { String(Int($0)) } ?? "U")s;\(warning);\(critical);0;"
        ]
        parts.append("journal_pending=\(health.journalPending);;;0;")
        parts.append("missing=\(health.missing);;;0;")
        parts.append("people=\(health.people);;;0;")
        if let lastRun {
            parts.append("rejected=\(lastRun.rejected);;;0;")
            parts.append("invalid=\(lastRun.invalid);;;0;")
        }
        return parts.joined(separator: " ")
    }

    /// The status as JSON (`status --format json`, documented in docs/operations.md).
    public var document: StatusDocument { StatusDocument(self) }

    /// `3d 4h`, `2h 5m`, `12m`, `40s`: a span as a person reads it.
    public static func span(_ seconds: TimeInterval) -> String {
        let s = max(0, Int(seconds))
        switch s {
        case ..<60: return "\(s)s"
        case ..<3600: return "\(s / 60)m"
        case ..<86400: return "\(s / 3600)h \(s % 3600 / 60)m"
        default: return "\(s / 86400)d \(s % 86400 / 3600)h"
        }
    }
}

/// `status --format json`: `compliance-sync.status`, version 1 (docs/operations.md).
public struct StatusDocument: OutputDocument, Sendable {
    public var format = "compliance-sync.status"
    public var version = 1
    public var job: String
    /// `ok`, `warning`, `critical` or `unknown`.
    public var state: String
    public var exitStatus: Int
    public var checkedAt: String
    public var reasons: [String]
    public var maxAgeSeconds: Int
    @Nullable public var lastSuccessAgeSeconds: Int?
    @Nullable public var lastRun: RunEntry?
    @Nullable public var lastSuccess: RunEntry?
    @Nullable public var running: RunEntry?
    public var people, terminated, missing, journalPending: Int

    enum CodingKeys: String, CodingKey {
        case format, version, job, state, reasons, running, people, terminated, missing
        case exitStatus = "exit_status"
        case checkedAt = "checked_at"
        case maxAgeSeconds = "max_age_seconds"
        case lastSuccessAgeSeconds = "last_success_age_seconds"
        case lastRun = "last_run"
        case lastSuccess = "last_success"
        case journalPending = "journal_pending"
    }

    init(_ status: JobStatus) {
        let (state, reasons) = status.verdict
        job = status.job
        self.state = state.name.lowercased()
        exitStatus = Int(state.rawValue)
        checkedAt = Timestamps.iso(status.checkedAt)
        self.reasons = reasons
        maxAgeSeconds = Int(status.maxAge.components.seconds)
        lastSuccessAgeSeconds = status.age.map { Int($0) }
        lastRun = status.lastRun.map(RunEntry.init)
        lastSuccess = status.lastSuccess.map(RunEntry.init)
        running = status.running.map(RunEntry.init)
        (people, terminated, missing) = (status.health.people, status.health.terminated, status.health.missing)
        journalPending = status.health.journalPending
    }
}
