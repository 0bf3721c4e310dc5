import Foundation
import SyncCore

/// A snapshot store kept in memory, for engine tests: the contract the SQLite and PostgreSQL
/// stores keep, people, journal, runs and events, proven by ``SnapshotStoreConformance`` like them.
///
/// Safety: its mutable state is read and written under `lock` only.
public final class InMemorySnapshotStore: SnapshotStore, @unchecked Sendable {
    public let description = "memory snapshot"
    public let key = SnapshotKey.random()
    private let lock = NSLock()
    private var people: [String: (entry: SnapshotEntry, person: StoredPerson)] = [:]
    private var journal: [JournalEntry] = []
    private var history: [RunRecord] = []
    private var log: [PersonEvent] = []
    private var current: RunRecord?

    /// An empty store.
    public init() {}

    /// Every stored person, by source id.
    public var all: [String: StoredPerson] { lock.withLock { people.mapValues(\.person) } }

    /// The runs begun and finished, latest state of each, in the order begun.
    public var runs: [RunRecord] { lock.withLock { history } }

    public func index() async throws -> SnapshotIndex {
        lock.withLock {
            var index = SnapshotIndex()
            for id in people.keys.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
                index.append(id, people[id]!.entry)
            }
            return index
        }
    }

    public func people(_ sourceIDs: [String]) async throws -> [String: StoredPerson] {
        lock.withLock {
            var result: [String: StoredPerson] = [:]
            for id in sourceIDs { result[id] = people[id]?.person }
            return result
        }
    }

    public func commit(_ updates: [SnapshotUpdate], resolving journalKey: String?) async throws {
        lock.withLock {
            if let run = current, !updates.isEmpty {
                var stored: [String: StoredPerson] = [:]
                for id in PersonEvent.idsToCompare(updates) { stored[id] = people[id]?.person }
                log += PersonEvent.accepted(
                    updates, stored: stored, run: run, importID: importID(journalKey), at: Date())
            }
            journal.removeAll { $0.key == journalKey }
            for update in updates {
                for old in update.replacing { people.removeValue(forKey: old) }
                people[update.sourceID] = (
                    SnapshotEntry(fingerprint: update.fingerprint, terminated: update.terminatedAt != nil),
                    StoredPerson(sourceID: update.sourceID, fields: update.fields, terminatedAt: update.terminatedAt)
                )
            }
        }
    }

    public func markUnconfirmed(_ updates: [SnapshotUpdate], resolving journalKey: String?) async throws {
        lock.withLock {
            record(updates.map(\.sourceID), .unconfirmed, importID: importID(journalKey))
            journal.removeAll { $0.key == journalKey }
            for update in updates {
                let since = people[update.sourceID]?.entry.missingSince
                people[update.sourceID] = (
                    SnapshotEntry(fingerprint: .unconfirmed, missingSince: since),
                    StoredPerson(sourceID: update.sourceID, fields: update.fields, missingSince: since)
                )
            }
        }
    }

    public func setMissing(_ sourceIDs: [String], since: Date?) async throws {
        lock.withLock {
            let known = sourceIDs.filter { people[$0] != nil }
            for id in known {
                people[id]!.entry.missingSince = since
                people[id]!.person.missingSince = since
            }
            record(known, .missing(since: since), importID: nil)
        }
    }

    public func addJournalEntry(_ entry: JournalEntry) async throws { lock.withLock { journal.append(entry) } }

    public func setImportID(_ importID: String, forJournalKey key: String) async throws {
        lock.withLock {
            if let i = journal.firstIndex(where: { $0.key == key }) { journal[i].importID = importID }
        }
    }

    public func removeJournalEntry(_ key: String) async throws { lock.withLock { journal.removeAll { $0.key == key } } }

    public func journalEntries() async throws -> [JournalEntry] { lock.withLock { journal } }

    // MARK: History

    public func beginRun(_ run: RunRecord) async throws {
        lock.withLock {
            for i in history.indices where history[i].status == "running" && history[i].id != run.id {
                history[i].status = "interrupted"
            }
            history.removeAll { $0.id == run.id }
            history.append(run)
            current = run
        }
    }

    public func finishRun(_ run: RunRecord, keep: Int, keepEvents: Int) async throws {
        lock.withLock {
            if let i = history.firstIndex(where: { $0.id == run.id }) { history[i] = run } else { history.append(run) }
            let kept = history.sorted { $0.startedAt > $1.startedAt }.prefix(max(keep, 1))
            let keptIDs = Set(kept.map(\.id))
            history.removeAll { !keptIDs.contains($0.id) }
            log.removeAll { !keptIDs.contains($0.runID) }
            if log.count > max(keepEvents, 1) { log.removeFirst(log.count - max(keepEvents, 1)) }
            current = nil
        }
    }

    public func runs(limit: Int) async throws -> [RunRecord] {
        lock.withLock { Array(history.sorted { $0.startedAt > $1.startedAt }.prefix(limit)) }
    }

    public func lastSuccess() async throws -> RunRecord? {
        try await runs(limit: .max).first {
            ["completed", "rejected"].contains($0.status) && ($0.command == .sync || $0.command == .full)
        }
    }

    public func events(of sourceID: String) async throws -> [PersonEvent] {
        lock.withLock { log.filter { $0.sourceID == sourceID } }
    }

    public func health() async throws -> StoreHealth {
        lock.withLock {
            StoreHealth(
                people: people.count, terminated: people.values.filter { $0.entry.terminated }.count,
                missing: people.values.filter { $0.entry.missingSince != nil && !$0.entry.terminated }.count,
                journalPending: journal.count)
        }
    }

    /// The import id of a journal entry (under `lock`).
    private func importID(_ journalKey: String?) -> String? {
        journal.first { $0.key == journalKey }?.importID
    }

    /// One event of a kind for each of these people, in the run going on (under `lock`).
    private func record(_ sourceIDs: [String], _ kind: PersonEvent.Kind, importID: String?) {
        guard let run = current else { return }
        let now = Date()
        log += sourceIDs.map { PersonEvent(sourceID: $0, kind: kind, runID: run.id, importID: importID, at: now) }
    }
}
