import ConnectorCore
import Foundation

/// A person to create or update: their row as it will be sent.
public struct PlannedRow: Sendable {
    /// The source id.
    public var sourceID: String
    /// One value per layout field; `nil` is absent.
    public var values: [String?]
    /// The row's fingerprint.
    public var fingerprint: Fingerprint
    /// Where the record came from.
    public var location: SourceLocation?
    /// Source ids whose snapshot rows this person takes over (a re-key): they are
    /// moved to this id, in the same transaction that records this row.
    public var replacing: [String] = []
}

/// A person in the snapshot under one source id who is in the source under
/// another (a recreated directory account, a rebuilt directory, an HR re-key):
/// the same `employee_id`, or the same email compared case-insensitively.
/// Never a termination: the snapshot row moves to the new id, and the person
/// is sent once, as an update, if anything about them changed.
public struct PlannedRekey: Sendable {
    /// The snapshot's person under the old id.
    public var previous: StoredPerson
    /// The source id the person has now.
    public var sourceID: String
    /// The field that shows they are the same person (`employee_id` or `email`).
    public var matchedOn: String
    /// The fields that changed since the snapshot (empty when only the id moved and nothing is sent).
    public var changed: [String]
}

/// A person whose row changed since the last sync.
public struct PlannedUpdate: Sendable {
    /// The row as it will be sent.
    public var row: PlannedRow
    /// The fields that changed, in layout order (`terminated_at` when a terminated person is back).
    public var changed: [String]
    /// What the snapshot held; sensitive fields as digests, never values.
    public var previous: StoredPerson
}

/// A person who is gone from the source.
public struct PlannedRemoval: Sendable {
    /// What the snapshot holds of them (identity fields; sensitive ones as digests).
    public var person: StoredPerson
    /// Their fingerprint in the snapshot.
    public var fingerprint: Fingerprint
    /// Since when they have been missing.
    public var missingSince: Date
    /// When the grace period lets them be removed.
    public var dueAt: Date
    /// The leaving day HR gives (`dates.ends_on`), when that, not their absence, removes them.
    public var endedOn: String?
    /// The `terminated_at` to send: the leaving day's, or `nil` for the time of the run.
    public var terminatedAt: String?
}

/// A person held back or about to go by HR's dates: who, and the day.
public struct DatedPerson: Sendable, Hashable {
    /// The source id.
    public var sourceID: String
    /// The day, `yyyy-mm-dd`.
    public var day: String
}

/// A record that cannot be sent as it is.
public struct InvalidRecord: Sendable {
    /// The source id (empty when the record had none).
    public var sourceID: String
    /// Where the record came from.
    public var location: SourceLocation?
    /// Everything wrong with it.
    public var problems: [RecordProblem]

    /// The problems as one sentence.
    public var reason: String { problems.map(\.description).joined(separator: "; ") }
}

/// What a sync would change, computed without sending or writing anything.
public struct ChangeSet: Sendable {
    /// The fields of every row.
    public var layout: RowLayout
    /// New people.
    public var creates: [PlannedRow] = []
    /// Changed people.
    public var updates: [PlannedUpdate] = []
    /// People whose source id changed: created under the new id in the source, gone under the old.
    public var rekeys: [PlannedRekey] = []
    /// Re-keyed people whose row is the same as before: only their snapshot row moves, nothing is sent.
    public var moved: [PlannedRow] = []
    /// New people not sent because the API would match their row to someone else's record.
    public var held: [HeldPerson] = []
    /// People gone from the source, past any grace period.
    public var removals: [PlannedRemoval] = []
    /// People gone from the source, still within the grace period.
    public var waiting: [PlannedRemoval] = []
    /// People in the source whose start day (`dates.starts_on`) is still to come: not created yet.
    public var starting: [DatedPerson] = []
    /// People in the source whose leaving day (`dates.ends_on`) is still to come.
    public var leaving: [DatedPerson] = []
    /// People in the source whose leaving day has passed and who were never sent: nothing to do.
    public var leftUnsent = 0
    /// With joined sources: what each gave the read (records, matches), in file order.
    public var joined: [JoinedSource.MemberCount] = []
    /// The last successful run's primary records and, by joined source, its matches: a joined source
    /// that matches a far smaller share of people now stops the run.
    public var joinedBefore: (records: Int, matched: [String: Int])?
    /// Records of joined sources that matched no primary record: they never make a person.
    public var unmatched: [JoinedSource.Unmatched] = []
    /// With joined sources: the sources each mapped field reads, by field (a bare attribute is the primary's).
    public var fieldSources: [String: [String]] = [:]
    /// People with nothing to send.
    public var unchanged = 0
    /// Records that cannot be sent.
    public var invalid: [InvalidRecord] = []
    /// Things the operator should know once (a mapped attribute no record has).
    public var warnings: [String] = []
    /// Records read from the source that count (its `include:`/`exclude:` applied).
    public var recordsRead = 0
    /// How the source was read (a full read, or the changes since the last run) and why.
    public var read: SourceRead?
    /// After a change read: people whose last import could not be confirmed and whom the read did
    /// not list (their current record is needed to send them again, so the planner reads everything).
    var unconfirmedUnread = 0
    /// Records the source's `include:`/`exclude:` left out: as if the source did not hold them.
    public var filtered = 0
    /// People in the snapshot who are not terminated.
    public var snapshotActive = 0
    /// Source ids that were missing before and are back.
    public var returned: [String] = []
    /// When the plan was made.
    public var plannedAt: Date
    /// The snapshot's key, which hashes sensitive fields for storage.
    let key: SnapshotKey

    init(layout: RowLayout, plannedAt: Date, key: SnapshotKey = .random()) {
        self.layout = layout
        self.plannedAt = plannedAt
        self.key = key
    }

    /// Whether there is anything to send.
    public var isEmpty: Bool { creates.isEmpty && updates.isEmpty && removals.isEmpty && rekeys.isEmpty }
}

extension ChangeSet {
    /// Takes out everyone in `sourceIDs` (people of an earlier import not yet settled): they wait for
    /// it, as a person is never in two imports that may both still apply.
    mutating func withhold(_ sourceIDs: Set<String>) {
        guard !sourceIDs.isEmpty else { return }
        func waits(_ row: PlannedRow) -> Bool {
            sourceIDs.contains(row.sourceID) || row.replacing.contains(where: sourceIDs.contains)
        }
        creates.removeAll(where: waits)
        updates.removeAll { waits($0.row) }
        moved.removeAll(where: waits)
        rekeys.removeAll { sourceIDs.contains($0.sourceID) || sourceIDs.contains($0.previous.sourceID) }
        removals.removeAll { sourceIDs.contains($0.person.sourceID) }
        held.removeAll { sourceIDs.contains($0.sourceID) }
    }
}
