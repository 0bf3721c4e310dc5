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
    /// How the source was read, and why: kept with the run, with the change feed's position.
    public var read: SourceRead?
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
}
