import Foundation

/// Compares mapped, validated rows with the snapshot.
struct Differ {
    let layout: RowLayout
    let key: SnapshotKey
    let grace: Duration

    /// One record after mapping and validation.
    struct Candidate {
        var id: String
        var location: SourceLocation?
        var values: [String?]
        var fingerprint: Fingerprint?
        var problems: [RecordProblem]
    }

    /// Classifies every candidate against `index`, then loads the people who changed or left.
    func diff(
        _ candidates: [Candidate], index: [String: SnapshotEntry], snapshot: some SnapshotReader,
        into changes: inout ChangeSet
    ) async throws {
        var remaining = index
        changes.snapshotActive = index.values.lazy.filter { !$0.terminated }.count
        var updates: [PlannedRow] = []
        for candidate in candidates {
            let entry = remaining.removeValue(forKey: candidate.id)
            guard candidate.problems.isEmpty, let fingerprint = candidate.fingerprint else {
                changes.invalid.append(InvalidRecord(
                    sourceID: candidate.id, location: candidate.location, problems: candidate.problems))
                continue
            }
            let row = PlannedRow(
                sourceID: candidate.id, values: candidate.values, fingerprint: fingerprint, location: candidate.location)
            guard let entry else {
                changes.creates.append(row)
                continue
            }
            if entry.missingSince != nil { changes.returned.append(candidate.id) }
            if entry.fingerprint == fingerprint && !entry.terminated {
                changes.unchanged += 1
            } else {
                updates.append(row)
            }
        }
        let missing = remaining.filter { !$0.value.terminated }
        let stored = try await snapshot.people(updates.map(\.sourceID) + missing.keys)
        for row in updates {
            guard let previous = stored[row.sourceID] else {
                throw SyncError(.snapshot, "the snapshot lists \(row.sourceID) but holds no fields for it",
                                hint: "the snapshot may be damaged; run `sync --full` to rebuild it")
            }
            changes.updates.append(PlannedUpdate(row: row, changed: changedFields(row.values, previous), previous: previous))
        }
        for (id, entry) in missing {
            let person = stored[id] ?? StoredPerson(sourceID: id, fields: [:])
            let since = entry.missingSince ?? changes.plannedAt
            let removal = PlannedRemoval(person: person, missingSince: since, dueAt: since.addingTimeInterval(grace.seconds))
            if removal.dueAt <= changes.plannedAt {
                changes.removals.append(removal)
            } else {
                changes.waiting.append(removal)
            }
        }
        changes.creates.sort { $0.sourceID.utf8.lexicographicallyPrecedes($1.sourceID.utf8) }
        changes.updates.sort { $0.row.sourceID.utf8.lexicographicallyPrecedes($1.row.sourceID.utf8) }
        changes.removals.sort { $0.person.sourceID < $1.person.sourceID }
        changes.waiting.sort { $0.person.sourceID < $1.person.sourceID }
        changes.invalid.sort { $0.sourceID.utf8.lexicographicallyPrecedes($1.sourceID.utf8) }
    }

    /// The fields whose sent value differs from the stored one, in layout order.
    func changedFields(_ values: [String?], _ previous: StoredPerson) -> [String] {
        var changed: [String] = []
        for (i, value) in values.enumerated() {
            let name = layout.fields[i]
            let now = value.map { layout.sensitive[i] ? key.digest(field: name, value: $0) : $0 }
            if now != previous.fields[name] { changed.append(name) }
        }
        for name in previous.fields.keys.sorted() where layout.position(of: name) == nil {
            changed.append(name)
        }
        let terminatedAt = layout.catalog.terminatedAt
        if previous.terminatedAt != nil, !changed.contains(terminatedAt) { changed.append(terminatedAt) }
        return changed
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: TimeInterval {
        let (s, atto) = components
        return TimeInterval(s) + TimeInterval(atto) / 1e18
    }
}
