import ConnectorCore
import Foundation
import Logging

@testable import SyncCore

/// A source over records held in memory, optionally failing after some of them.
struct ArraySource: UserSource {
    var items: [SourceRecord]
    var failAfter: Int? = nil
    var description: String { "memory" }

    struct Failure: Error, CustomStringConvertible {
        var description: String { "the directory went away" }
    }

    func records() -> AsyncThrowingStream<SourceRecord, any Error> {
        AsyncThrowingStream { continuation in
            for (i, item) in items.enumerated() {
                if let failAfter, i == failAfter {
                    continuation.finish(throwing: Failure())
                    return
                }
                continuation.yield(item)
            }
            continuation.finish()
        }
    }
}

/// A snapshot kept in memory: the same protocol the SQLite store implements.
///
/// Safety: its mutable state is read and written under `lock` only.
final class MemorySnapshot: SnapshotStore, @unchecked Sendable {
    let description = "memory snapshot"
    let key = SnapshotKey.random()
    private let lock = NSLock()
    private var people: [String: (SnapshotEntry, StoredPerson)] = [:]

    func index() async throws -> SnapshotIndex {
        lock.withLock {
            var index = SnapshotIndex()
            for (id, person) in people { index.append(id, person.0) }
            return index
        }
    }

    func people(_ sourceIDs: [String]) async throws -> [String: StoredPerson] {
        lock.withLock {
            var result: [String: StoredPerson] = [:]
            for id in sourceIDs { result[id] = people[id]?.1 }
            return result
        }
    }

    private var journal: [JournalEntry] = []

    func commit(_ updates: [SnapshotUpdate], resolving journalKey: String?) async throws {
        lock.withLock {
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

    func markUnconfirmed(_ updates: [SnapshotUpdate], resolving journalKey: String?) async throws {
        lock.withLock {
            journal.removeAll { $0.key == journalKey }
            for update in updates {
                let since = people[update.sourceID]?.0.missingSince
                people[update.sourceID] = (
                    SnapshotEntry(fingerprint: .unconfirmed, missingSince: since),
                    StoredPerson(sourceID: update.sourceID, fields: update.fields, missingSince: since)
                )
            }
        }
    }

    /// Every stored person, by source id.
    var all: [String: StoredPerson] { lock.withLock { people.mapValues(\.1) } }

    func setMissing(_ sourceIDs: [String], since: Date?) async throws {
        lock.withLock {
            for id in sourceIDs where people[id] != nil {
                people[id]!.0.missingSince = since
                people[id]!.1.missingSince = since
            }
        }
    }

    func addJournalEntry(_ entry: JournalEntry) async throws { lock.withLock { journal.append(entry) } }

    /// The runs begun and finished, latest state of each, in the order begun.
    private(set) var runs: [RunRecord] = []

    func beginRun(_ run: RunRecord) async throws { lock.withLock { runs.append(run) } }

    /// Keeps runs, not events: this store records none.
    func finishRun(_ run: RunRecord, keep: Int, keepEvents: Int) async throws {
        lock.withLock {
            runs.removeAll { $0.id == run.id }
            runs = Array((runs + [run]).suffix(keep))
        }
    }

    func setImportID(_ importID: String, forJournalKey key: String) async throws {
        lock.withLock {
            if let i = journal.firstIndex(where: { $0.key == key }) { journal[i].importID = importID }
        }
    }

    func removeJournalEntry(_ key: String) async throws { lock.withLock { journal.removeAll { $0.key == key } } }

    func journalEntries() async throws -> [JournalEntry] { lock.withLock { journal } }

    /// Records a plan's creates and updates as if the API accepted them all.
    func accept(_ changes: ChangeSet) async throws {
        let rows = changes.creates + changes.updates.map(\.row)
        try await commit(
            rows.map {
                SnapshotUpdate(
                    sourceID: $0.sourceID, fingerprint: $0.fingerprint,
                    fields: key.storedFields($0.values, layout: changes.layout))
            })
    }
}

/// A person record with the usual attributes.
func person(
    _ id: String, _ first: String = "Ada", _ last: String = "Lovelace", email: String? = nil,
    title: String? = "Engineer", ssn: String? = nil, line: Int? = nil
) -> SourceRecord {
    var attributes: [String: AttributeValue] = ["givenName": .text(first), "sn": .text(last)]
    attributes["mail"] = .text(email ?? "\(id.lowercased())@example.com")
    if let title { attributes["title"] = .text(title) }
    if let ssn { attributes["ssn"] = .text(ssn) }
    attributes["employeeNumber"] = .text(id)
    return SourceRecord(id: id, attributes: attributes, location: line.map { .line($0, of: "people.csv") })
}

let standardMapping: [FieldMapping] = [
    FieldMapping(field: "first_name", input: .attribute("givenName")),
    FieldMapping(field: "last_name", input: .attribute("sn")),
    FieldMapping(field: "email", input: .attribute("mail"), transforms: [.trim, .lowercase]),
    FieldMapping(field: "employee_id", input: .attribute("employeeNumber"), optional: true),
    FieldMapping(field: "job_title", input: .attribute("title"), optional: true),
    FieldMapping(field: "ssn", input: .attribute("ssn"), optional: true),
]

func planner(_ mapping: [FieldMapping] = standardMapping, removals: RemovalPolicy = RemovalPolicy()) -> Planner {
    Planner(mappings: mapping, catalog: FieldCatalog(), removals: removals, logger: Logger(label: "test"))
}

extension ChangeSet {
    func value(_ field: String, of row: PlannedRow) -> String? {
        layout.position(of: field).flatMap { row.values[$0] }
    }
}
