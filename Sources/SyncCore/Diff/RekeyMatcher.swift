import Foundation

/// Finds the people gone from the snapshot under one source id who are still
/// in the source under another: the same `employee_id`, or the same email
/// compared case-insensitively. The API matches rows on exactly these, so a
/// create for the new id and a termination for the old one would land on one
/// person and leave them terminated. Such a person is a re-key, never a removal.
struct RekeyMatcher {
    let differ: Differ
    /// The people missing from the source, as the snapshot holds them.
    let gone: [StoredPerson]
    private var byEmployeeID: [String: [Int]] = [:]
    private var byEmail: [String: [Int]] = [:]
    /// The best match found for each gone person so far.
    private var matches: [Match?]

    /// Where a gone person was found.
    enum Target: Hashable {
        case create(Int), update(Int), unchanged(Int), invalid(Int)
    }

    struct Match {
        var target: Target
        var field: String
    }

    init(differ: Differ, gone: [StoredPerson]) {
        self.differ = differ
        self.gone = gone
        matches = Array(repeating: nil, count: gone.count)
        let catalog = differ.layout.catalog
        for (n, person) in gone.enumerated() {
            if let id = person.fields[catalog.employeeID], !id.isEmpty { byEmployeeID[id, default: []].append(n) }
            for field in catalog.email {
                if let email = person.fields[field], !email.isEmpty {
                    byEmail[normalisedEmail(email, field: field, stored: true), default: []].append(n)
                }
            }
        }
    }

    /// Moves every re-keyed person out of the removals and onto their new id.
    /// - Returns: the positions in ``gone`` of those who really are gone.
    mutating func apply(
        updates: inout [PlannedRow], candidates: inout CandidateList,
        stored: inout [String: StoredPerson], snapshot: some SnapshotReader, changes: inout ChangeSet,
        fingerprints: [String: Fingerprint]
    ) async throws -> [Int] {
        var creates: [PlannedRow] = []
        swap(&creates, &changes.creates)
        defer { swap(&creates, &changes.creates) }
        for i in creates.indices { see(creates[i].values, .create(i)) }
        for i in updates.indices { see(updates[i].values, .update(i)) }
        // Creates and updates had their values moved out; everyone left still has theirs.
        for position in candidates.indices where !candidates[position].values.isEmpty {
            let valid = candidates[position].problems.isEmpty
            see(candidates[position].values, valid ? .unchanged(position) : .invalid(position))
        }
        guard matches.contains(where: { $0 != nil }) else { return Array(gone.indices) }

        var byTarget: [Target: [Int]] = [:]
        for (n, match) in matches.enumerated() { if let match { byTarget[match.target, default: []].append(n) } }
        var spentCreates: Set<Int> = []
        var extra: [PlannedRow] = []
        for (target, people) in byTarget.sorted(by: { $0.value[0] < $1.value[0] }) {
            let oldIDs = people.map { gone[$0].sourceID }
            let newID: String
            switch target {
            case .create(let i):
                spentCreates.insert(i)
                var row = creates[i]
                row.replacing = oldIDs
                newID = row.sourceID
                if people.count == 1, fingerprints[oldIDs[0]] == row.fingerprint {
                    changes.moved.append(row)
                } else {
                    updates.append(row)
                }
            case .update(let i):
                updates[i].replacing += oldIDs
                newID = updates[i].sourceID
            case .unchanged(let position):
                // Already in the snapshot under its own id: sent once more, taking over the old rows.
                let candidate = candidates[position]
                newID = candidate.id
                extra.append(
                    PlannedRow(
                        sourceID: candidate.id, values: candidate.values, fingerprint: candidate.fingerprint!,
                        location: candidate.location, replacing: oldIDs))
                changes.unchanged -= 1
            case .invalid(let position):
                for n in people {
                    changes.warnings.append(
                        """
                        \(gone[n].sourceID) is gone from the source, but the invalid record \(candidates[position].id) \
                        has its \(matches[n]!.field); not removed until that record is fixed
                        """)
                }
                continue
            }
            for n in people {
                let row = rowOf(target, creates: creates, updates: updates, extra: extra)
                changes.rekeys.append(
                    PlannedRekey(
                        previous: gone[n], sourceID: newID, matchedOn: matches[n]!.field,
                        changed: row.map { differ.changedFields($0.values, gone[n]) } ?? []))
            }
        }
        if !extra.isEmpty {
            let found = try await snapshot.people(extra.map(\.sourceID))
            stored.merge(found) { old, _ in old }
            updates += extra
        }
        creates = creates.indices.filter { !spentCreates.contains($0) }.map { creates[$0] }
        return gone.indices.filter { matches[$0] == nil }
    }

    private func rowOf(_ target: Target, creates: [PlannedRow], updates: [PlannedRow], extra: [PlannedRow])
        -> PlannedRow?
    {
        switch target {
        case .create(let i): creates[i]
        case .update(let i): updates[i]
        case .unchanged: extra.last
        case .invalid: nil
        }
    }

    /// Records a person of the source as the match of any gone person who shares their identity;
    /// an `employee_id` match outranks an email match, and the first found wins among equals.
    private mutating func see(_ values: [String?], _ target: Target) {
        let layout = differ.layout
        let catalog = layout.catalog
        if let p = layout.position(of: catalog.employeeID), let value = values[p], !value.isEmpty {
            let key = layout.sensitive[p] ? differ.key.digest(field: catalog.employeeID, value: value) : value
            for n in byEmployeeID[key] ?? [] where matches[n]?.field != catalog.employeeID {
                matches[n] = Match(target: target, field: catalog.employeeID)
            }
        }
        for field in catalog.email {
            guard let p = layout.position(of: field), let value = values[p], !value.isEmpty else { continue }
            for n in byEmail[normalisedEmail(value, field: field, stored: false)] ?? [] where matches[n] == nil {
                matches[n] = Match(target: target, field: field)
            }
        }
    }

    /// An email as compared: lower-cased, or (for a job that keeps emails as sensitive) its stored digest.
    private func normalisedEmail(_ value: String, field: String, stored: Bool) -> String {
        guard differ.layout.position(of: field).map({ differ.layout.sensitive[$0] }) == true else {
            return FastText.lowercased(value)
        }
        return stored ? value : differ.key.digest(field: field, value: value)
    }
}
