import ConnectorCore
import Foundation

/// A run as the snapshot store remembers it: begun by ``SnapshotStore/beginRun(_:)``,
/// finished by ``SnapshotStore/finishRun(_:keep:keepEvents:)``. Holds counts, never a person's values.
public struct RunRecord: Sendable, Hashable {
    /// What the run did.
    public enum Command: String, Sendable {
        /// `sync`, sending changes.
        case sync
        /// `sync --full`, sending every current person.
        case full
        /// `baseline`, recording the account as it stands without sending.
        case baseline
        /// `journal --resolve`, settling an interrupted run's imports.
        case journal
    }

    /// The run's id: the same as the `run` of its log lines.
    public var id: String
    /// What the run did.
    public var command: Command
    /// When it started.
    public var startedAt: Date
    /// When it ended; `nil` while it runs (or if it died without finishing).
    public var finishedAt: Date?
    /// `running`, `interrupted` (died before it finished), or ``SyncReport/status``'s
    /// `completed`, `rejected`, `stopped`, `failed`.
    public var status: String
    /// The exit status, once finished.
    public var exitStatus: Int?
    /// Records read, and what the API applied.
    public var records = 0, created = 0, updated = 0, terminated = 0, rekeyed = 0
    /// Rows rejected, records invalid at the source, people missing within the grace period.
    public var rejected = 0, invalid = 0, waiting = 0
    /// Imports sent.
    public var importsSent = 0
    /// With joined sources: how many records of each matched a person (a joined source that
    /// matches far fewer next time stops that run).
    public var joined: [String: Int] = [:]
    /// Why it failed or stopped (the error's message, which never holds a secret or a sensitive value).
    public var error: String?
    /// The host it ran on.
    public var host: String
    /// How it read the source, and where the source's change feed stood after it.
    public var read: SourceRead?

    /// A run that starts now, on this host.
    public init(id: String, command: Command, startedAt: Date = Date(), host: String = ProcessInfo.processInfo.hostName)
    {
        self.id = id
        self.command = command
        self.startedAt = startedAt
        self.host = host
        status = "running"
    }

    /// Whether this is a sync that went to its end (completed, perhaps with rejected rows): what
    /// "last success" means. A `baseline` or a `journal --resolve` brings nothing from the source.
    public var succeeded: Bool {
        (command == .sync || command == .full) && (status == "completed" || status == "rejected")
    }

    /// The run as a report says it ended.
    public mutating func finish(with report: SyncReport) {
        finishedAt = report.finishedAt
        status = report.status
        exitStatus = Int(report.exitCode)
        records = report.records
        created = report.created
        updated = report.updated
        terminated = report.terminated
        rekeyed = report.rekeys.count
        rejected = report.rejected.count
        invalid = report.invalid.count
        waiting = report.waiting.count
        importsSent = report.importsSent
        joined = Dictionary(report.joined.map { ($0.source, $0.matched) }, uniquingKeysWith: { first, _ in first })
        error = report.failure?.message
        read = report.read
    }
}

/// One thing that happened to one person in one run, as the audit trail keeps it: the kind
/// of change the API accepted and the names of the fields it changed, never their values.
public struct PersonEvent: Sendable, Hashable {
    /// What happened.
    public enum Kind: String, Sendable {
        /// First sent to the account.
        case created
        /// Recorded by `baseline` as already in the account.
        case baselined
        /// Fields changed.
        case updated
        /// Sent again as it was (`sync --full`, or after an unconfirmed import).
        case resent
        /// Terminated (`terminated_at` sent).
        case terminated
        /// Sent live again after a termination.
        case rehired
        /// Their source id changed; ``PersonEvent/otherID`` is the old id (on the new id's
        /// event) or the new one (`rekeyedAway`, on the old id's event).
        case rekeyed
        /// The old id of a re-key: this id now belongs to ``PersonEvent/otherID``.
        case rekeyedAway = "rekeyed-away"
        /// Sent in an import whose outcome could not be confirmed: sent again next run.
        case unconfirmed
        /// Found missing from the source (the grace period, or `removals.action: report`, begins).
        case missing
        /// Back in the source after being missing.
        case returned
    }

    /// The person's source id.
    public var sourceID: String
    /// What happened.
    public var kind: Kind
    /// The fields that changed, by name, sorted.
    public var fields: [String]
    /// The re-key's other id, for ``Kind/rekeyed`` and ``Kind/rekeyedAway``.
    public var otherID: String?
    /// The run it happened in.
    public var runID: String
    /// The import that carried it, when known.
    public var importID: String?
    /// When the snapshot recorded it.
    public var at: Date

    /// Creates an event.
    public init(
        sourceID: String, kind: Kind, fields: [String] = [], otherID: String? = nil, runID: String,
        importID: String? = nil, at: Date
    ) {
        self.sourceID = sourceID
        self.kind = kind
        self.fields = fields
        self.otherID = otherID
        self.runID = runID
        self.importID = importID
        self.at = at
    }

    /// The ids whose stored state ``accepted(_:stored:run:importID:at:)`` needs: each row's, and the
    /// id a re-key replaces.
    public static func idsToCompare(_ updates: [SnapshotUpdate]) -> [String] {
        updates.map(\.sourceID) + updates.compactMap(\.replacing.first)
    }

    /// What accepted rows do to people, given what the snapshot held of them before (`stored`,
    /// read in the transaction that writes the rows, by ``idsToCompare(_:)``): the events a store
    /// records in that transaction.
    public static func accepted(
        _ updates: [SnapshotUpdate], stored: [String: StoredPerson], run: RunRecord, importID: String?, at: Date
    ) -> [PersonEvent] {
        updates.flatMap { update in
            accepted(
                update, before: stored[update.sourceID], replaced: update.replacing.first.flatMap { stored[$0] },
                run: run, importID: importID, at: at)
        }
    }

    /// What an accepted row did to a person, from what the snapshot held of them before
    /// (`before`, `nil` if nothing) and the row. A re-key gives two events, one for each id.
    static func accepted(
        _ update: SnapshotUpdate, before: StoredPerson?, replaced: StoredPerson?, run: RunRecord, importID: String?,
        at: Date
    ) -> [PersonEvent] {
        func event(_ id: String, _ kind: Kind, _ fields: [String] = [], other: String? = nil) -> PersonEvent {
            PersonEvent(
                sourceID: id, kind: kind, fields: fields, otherID: other, runID: run.id, importID: importID, at: at)
        }
        var events = update.replacing.map { event($0, .rekeyedAway, other: update.sourceID) }
        let previous = before ?? replaced
        let changed = changedFields(previous?.fields ?? [:], update.fields)
        if before == nil, replaced != nil {
            events.append(event(update.sourceID, .rekeyed, changed, other: update.replacing.first))
            return events
        }
        let kind: Kind
        switch (previous?.terminatedAt, update.terminatedAt) {
        case _ where previous == nil:
            events.append(event(update.sourceID, run.command == .baseline ? .baselined : .created))
            return events
        case (_?, nil): kind = .rehired
        case (nil, _?): kind = .terminated
        default: kind = changed.isEmpty ? .resent : .updated
        }
        events.append(event(update.sourceID, kind, changed))
        return events
    }

    /// The names of the fields whose stored values differ (sensitive ones compare by digest), sorted.
    static func changedFields(_ old: [String: String], _ new: [String: String]) -> [String] {
        Set(old.keys).union(new.keys).filter { old[$0] != new[$0] }.sorted()
    }
}

/// The kinds of events a store records for calls other than ``SnapshotStore/commit(_:resolving:)``.
extension PersonEvent.Kind {
    /// The event of ``SnapshotStore/setMissing(_:since:)``: missing, or returned.
    public static func missing(since: Date?) -> Self { since == nil ? .returned : .missing }
}

/// Where a job stands, as `status` reports it: read from the store without its lock.
public struct StoreHealth: Sendable, Hashable {
    /// People in the snapshot, and how many of them this job terminated.
    public var people = 0, terminated = 0
    /// People missing from the source and not terminated: within the grace period, or only reported.
    public var missing = 0
    /// Journaled imports not yet settled (the next run settles them).
    public var journalPending = 0

    /// Creates a health summary.
    public init(people: Int = 0, terminated: Int = 0, missing: Int = 0, journalPending: Int = 0) {
        self.people = people
        self.terminated = terminated
        self.missing = missing
        self.journalPending = journalPending
    }
}

/// The runs and audit trail a store keeps, for `status` and `history`.
public protocol RunHistoryReader: Sendable {
    /// The latest runs, newest first, at most `limit`.
    func runs(limit: Int) async throws -> [RunRecord]
    /// The latest run that went to its end, if any is kept.
    func lastSuccess() async throws -> RunRecord?
    /// One person's events, oldest first (by source id; a re-key's events name the other id).
    func events(of sourceID: String) async throws -> [PersonEvent]
    /// Counts for `status`.
    func health() async throws -> StoreHealth
    /// Whether a writing run holds the job's lock right now, seen without taking it (a probe that
    /// took it could make a run starting that instant skip); `nil` when this store cannot tell.
    func writerRunning() async throws -> Bool?
}

extension RunHistoryReader {
    /// This store cannot tell.
    public func writerRunning() async throws -> Bool? { nil }
}

extension RunRecord {
    /// ``joined`` as the stores keep it: a JSON object (counts as strings), `nil` when empty.
    public var joinedJSON: String? { joined.isEmpty ? nil : JSONWriter.object(joined.mapValues(String.init)) }

    /// ``read`` as the stores keep it: JSON, `nil` when the run has none.
    public var readJSON: String? {
        guard let read else { return nil }
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = .sortedKeys
        return (try? encoder.encode(read)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Reads ``read`` from what ``readJSON`` wrote; anything else reads as nothing (and the next
    /// run of a job with a change feed reads everything).
    public static func read(fromJSON text: String?) -> SourceRead? {
        guard let data = text?.data(using: .utf8) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return try? decoder.decode(SourceRead.self, from: data)
    }

    /// Reads ``joined`` from what ``joinedJSON`` wrote; anything else reads as nothing.
    public static func joined(fromJSON text: String?) -> [String: Int] {
        guard let data = text?.data(using: .utf8),
            let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        else { return [:] }
        return object.compactMapValues { ($0 as? String).flatMap { Int($0) } ?? ($0 as? Int) }
    }
}
