import ConnectorCore
import Foundation
import Logging
import SnapshotStoreTestKit

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

/// The engine tests' snapshot: the in-memory store ``SnapshotStoreConformance`` proves.
typealias MemorySnapshot = InMemorySnapshotStore

extension InMemorySnapshotStore {
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
    Planner(mappings: mapping, catalog: FieldCatalog(), grace: removals.grace, logger: Logger(label: "test"))
}

extension ChangeSet {
    func value(_ field: String, of row: PlannedRow) -> String? {
        layout.position(of: field).flatMap { row.values[$0] }
    }
}
