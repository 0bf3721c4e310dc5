import Foundation

/// What the snapshot knows about one person, enough to diff: loaded for everyone.
public struct SnapshotEntry: Sendable, Hashable {
    /// The fingerprint of what was last sent and accepted.
    public var fingerprint: Fingerprint
    /// Whether the person was terminated by this job.
    public var terminated: Bool
    /// When the person was first found missing from the source, if they are.
    public var missingSince: Date?

    /// Creates an entry.
    public init(fingerprint: Fingerprint, terminated: Bool = false, missingSince: Date? = nil) {
        self.fingerprint = fingerprint
        self.terminated = terminated
        self.missingSince = missingSince
    }
}

/// Every person the snapshot holds, for the diff: ids and entries side by side.
public struct SnapshotIndex: Sendable {
    /// Source ids.
    public private(set) var ids: [String]
    /// The entry of each id, at the same position.
    public private(set) var entries: [SnapshotEntry]

    /// An index of people in any order; the differ sorts it by id bytes when needed.
    public init(ids: [String] = [], entries: [SnapshotEntry] = []) {
        precondition(ids.count == entries.count, "one entry per id")
        self.ids = ids
        self.entries = entries
    }

    /// How many people there are.
    public var count: Int { ids.count }

    /// Adds one person.
    public mutating func append(_ id: String, _ entry: SnapshotEntry) {
        ids.append(id)
        entries.append(entry)
    }

    /// Reserves room for `count` people.
    public mutating func reserveCapacity(_ count: Int) {
        ids.reserveCapacity(count)
        entries.reserveCapacity(count)
    }

    /// The entry of one id (a linear search: for tests and small snapshots).
    public subscript(id: String) -> SnapshotEntry? {
        ids.firstIndex(of: id).map { entries[$0] }
    }

    /// Sorts by the ids' UTF-8 bytes unless they already are.
    mutating func sortByID() {
        let order = ByteOrder.sortedPositions(count: ids.count) { ids[$0] }
        guard order.indices.contains(where: { order[$0] != $0 }) else { return }
        ids = order.map { ids[$0] }
        entries = order.map { entries[$0] }
    }
}

/// What the snapshot holds of one person in full: loaded only for those who changed or left.
public struct StoredPerson: Sendable, Hashable {
    /// The source id.
    public var sourceID: String
    /// The fields last sent and accepted; sensitive ones as `hmac:` digests.
    public var fields: [String: String]
    /// The `terminated_at` sent, when this job terminated the person.
    public var terminatedAt: String?
    /// When the person was first found missing, if they are.
    public var missingSince: Date?

    /// Creates a stored person.
    public init(sourceID: String, fields: [String: String], terminatedAt: String? = nil, missingSince: Date? = nil) {
        self.sourceID = sourceID
        self.fields = fields
        self.terminatedAt = terminatedAt
        self.missingSince = missingSince
    }
}

/// The new state of one person after the API accepted their row.
public struct SnapshotUpdate: Sendable, Hashable {
    /// The source id.
    public var sourceID: String
    /// The fingerprint of the accepted row.
    public var fingerprint: Fingerprint
    /// The accepted fields; sensitive ones as `hmac:` digests.
    public var fields: [String: String]
    /// The termination sent, or `nil` for an active person.
    public var terminatedAt: String?
    /// Source ids whose rows this one replaces (a re-key): removed in the same transaction.
    public var replacing: [String]

    /// Creates an update.
    public init(
        sourceID: String, fingerprint: Fingerprint, fields: [String: String], terminatedAt: String? = nil,
        replacing: [String] = []
    ) {
        self.sourceID = sourceID
        self.fingerprint = fingerprint
        self.fields = fields
        self.terminatedAt = terminatedAt
        self.replacing = replacing
    }
}

/// Reads the snapshot of what the last successful sync sent.
public protocol SnapshotReader: Sendable {
    /// Where the snapshot is, for messages. No secrets.
    var description: String { get }
    /// The key that hashes sensitive fields.
    var key: SnapshotKey { get }
    /// Every person's diff entry, ideally in the byte order of their ids (the diff is a merge).
    func index() async throws -> SnapshotIndex
    /// The full stored state of the given people (those absent are left out).
    func people(_ sourceIDs: [String]) async throws -> [String: StoredPerson]
    /// What a change read needs of the snapshot: the entries of `ids` (the people it lists or calls
    /// gone) and of everyone missing, terminated or unconfirmed, in any order; and how many people are
    /// not terminated. Everyone else is unchanged.
    func changeReadIndex(for ids: Set<String>) async throws -> ChangeReadIndex
}

/// The part of a snapshot's index a change read needs, and how many people are not terminated.
public struct ChangeReadIndex: Sendable {
    /// The entries of the listed people and of everyone missing, terminated or unconfirmed.
    public var index: SnapshotIndex
    /// How many people the snapshot holds who are not terminated.
    public var active: Int

    /// Creates a partial index.
    public init(index: SnapshotIndex, active: Int) {
        self.index = index
        self.active = active
    }
}

extension SnapshotReader {
    /// The partial index from the whole one: for stores that cannot select it in a query.
    public func changeReadIndex(for ids: Set<String>) async throws -> ChangeReadIndex {
        let whole = try await index()
        var part = SnapshotIndex()
        var active = 0
        for (id, entry) in zip(whole.ids, whole.entries) {
            if !entry.terminated { active += 1 }
            if ids.contains(id) || entry.terminated || entry.missingSince != nil || entry.fingerprint == .unconfirmed {
                part.append(id, entry)
            }
        }
        return ChangeReadIndex(index: part, active: active)
    }
}

/// An import submitted or about to be: what the snapshot will record for
/// each of its rows if the API accepts them, in request order. Written before
/// the submission, so a run that dies at any moment is finished by the next.
public struct JournalEntry: Sendable, Hashable {
    /// The submission's idempotency key.
    public var key: String
    /// The import's id, once the API has answered.
    public var importID: String?
    /// When it was journaled.
    public var createdAt: Date
    /// The snapshot state of each row, in the order of the request's rows.
    public var updates: [SnapshotUpdate]

    /// Creates an entry.
    public init(key: String, importID: String? = nil, createdAt: Date, updates: [SnapshotUpdate]) {
        self.key = key
        self.importID = importID
        self.createdAt = createdAt
        self.updates = updates
    }
}

/// A snapshot that a sync may write, with its run history (which it records and reads). Each call is one transaction.
///
/// Between ``beginRun(_:)`` and ``finishRun(_:keep:keepEvents:)``, every call that changes a person
/// also records, in its own transaction, what happened to them (``PersonEvent``) in that run.
public protocol SnapshotStore: SnapshotReader, RunHistoryReader {
    /// Records that a run starts: the people changed from now on are changed by it. A run
    /// recorded earlier and never finished (its process died) is marked `interrupted`.
    func beginRun(_ run: RunRecord) async throws
    /// Records how the run ended, and forgets the oldest runs (and their events) beyond the last `keep`,
    /// and the oldest events beyond the last `keepEvents` (a nightly `--full` adds everyone every night).
    func finishRun(_ run: RunRecord, keep: Int, keepEvents: Int) async throws
    /// Records accepted rows and, in the same transaction, forgets the journal entry they came from.
    /// Each row's ``SnapshotUpdate/replacing`` ids are removed in that transaction too.
    func commit(_ updates: [SnapshotUpdate], resolving journalKey: String?) async throws
    /// Records that the account's state of these people is unknown (an import whose
    /// outcome cannot be confirmed), so that the next plan sends each of them again in
    /// their current state: present, as a full live row; gone, as a termination. Each
    /// row gets the ``Fingerprint/unconfirmed`` fingerprint and no `terminated_at`,
    /// keeps its `missing_since`, and takes the given fields; people the snapshot does
    /// not hold yet are added. Forgets the journal entry in the same transaction.
    func markUnconfirmed(_ updates: [SnapshotUpdate], resolving journalKey: String?) async throws
    /// Notes when people were first found missing (`nil` clears it, for people back in the source).
    func setMissing(_ sourceIDs: [String], since: Date?) async throws
    /// Journals a submission before it is sent.
    func addJournalEntry(_ entry: JournalEntry) async throws
    /// Records the import id the API gave a journaled submission.
    func setImportID(_ importID: String, forJournalKey key: String) async throws
    /// Forgets a journal entry whose import applied nothing.
    func removeJournalEntry(_ key: String) async throws
    /// The journaled submissions, oldest first.
    func journalEntries() async throws -> [JournalEntry]
}

extension SnapshotStore {
    /// Records how the run ended, keeping at most `keep` runs and 2,000,000 events.
    public func finishRun(_ run: RunRecord, keep: Int) async throws {
        try await finishRun(run, keep: keep, keepEvents: 2_000_000)
    }

    /// Records accepted rows, all or nothing.
    public func commit(_ updates: [SnapshotUpdate]) async throws {
        try await commit(updates, resolving: nil)
    }
}

/// A snapshot opened for reading (`plan`, `status`, `history`): its people and its run history.
public typealias ReadableSnapshot = SnapshotReader & RunHistoryReader

/// The snapshot before the first sync: nobody, no runs, and a key nobody keeps.
public struct EmptySnapshot: SnapshotReader, RunHistoryReader {
    public let description: String
    public let key = SnapshotKey.random()

    /// An empty snapshot described as `description`.
    public init(description: String = "no snapshot yet") { self.description = description }

    public func index() async throws -> SnapshotIndex { SnapshotIndex() }
    public func people(_ sourceIDs: [String]) async throws -> [String: StoredPerson] { [:] }
    public func runs(limit: Int) async throws -> [RunRecord] { [] }
    public func lastSuccess() async throws -> RunRecord? { nil }
    public func events(of sourceID: String) async throws -> [PersonEvent] { [] }
    public func health() async throws -> StoreHealth { StoreHealth() }
}

extension SnapshotKey {
    /// A row's fields as the snapshot keeps them: absent ones left out,
    /// sensitive ones replaced by their keyed hash.
    public func storedFields(_ row: [String?], layout: RowLayout) -> [String: String] {
        var fields: [String: String] = [:]
        for (i, value) in row.enumerated() {
            guard let value else { continue }
            let name = layout.fields[i]
            fields[name] = layout.sensitive[i] ? digest(field: name, value: value) : value
        }
        return fields
    }
}
