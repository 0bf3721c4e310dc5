import ConnectorCore

extension Differ {
    /// Moves every re-keyed person out of the removals and onto their new id (see ``RekeyMatcher``).
    /// - Parameters:
    ///   - matcher: the people gone from the source under their old id.
    ///   - updates: the run's updates so far; re-keyed creates and unchanged people join them.
    ///   - stored: the stored people loaded so far; the unchanged people who take over an old row join them.
    ///   - fingerprints: the snapshot's fingerprint of each gone person: a create whose row is theirs
    ///     exactly only moves the snapshot row (``ChangeSet/moved``), nothing is sent.
    /// - Returns: the positions in the matcher's `gone` of those who really are gone.
    func rekey(
        _ matcher: RekeyMatcher, updates: inout [PlannedRow], candidates: CandidateList,
        stored: inout [String: StoredPerson], snapshot: some SnapshotReader, changes: inout ChangeSet,
        fingerprints: [String: Fingerprint]
    ) async throws -> [Int] {
        let gone = matcher.gone
        let matches = matcher.matches(creates: changes.creates, updates: updates, candidates: candidates)
        guard matches.contains(where: { $0 != nil }) else { return Array(gone.indices) }

        var byTarget: [RekeyMatcher.Target: [Int]] = [:]
        for (n, match) in matches.enumerated() { if let match { byTarget[match.target, default: []].append(n) } }
        var spentCreates: Set<Int> = []
        // Unchanged people who take over an old row: sent once more.
        var extra: [PlannedRow] = []
        for (target, people) in byTarget.sorted(by: { $0.value[0] < $1.value[0] }) {
            let oldIDs = people.map { gone[$0].sourceID }
            let row: PlannedRow
            switch target {
            case .create(let i):
                spentCreates.insert(i)
                row = changes.creates[i]
                var moving = row
                moving.replacing = oldIDs
                if people.count == 1, fingerprints[oldIDs[0]] == row.fingerprint {
                    changes.moved.append(moving)
                } else {
                    updates.append(moving)
                }
            case .update(let i):
                updates[i].replacing += oldIDs
                row = updates[i]
            case .unchanged(let position):
                // Already in the snapshot under its own id: sent once more, taking over the old rows.
                let candidate = candidates[position]
                row = PlannedRow(
                    sourceID: candidate.id, values: candidate.values, fingerprint: candidate.fingerprint!,
                    location: candidate.location, replacing: oldIDs)
                extra.append(row)
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
                changes.rekeys.append(
                    PlannedRekey(
                        previous: gone[n], sourceID: row.sourceID, matchedOn: matches[n]!.field,
                        changed: changedFields(row.values, gone[n])))
            }
        }
        if !extra.isEmpty {
            let found = try await snapshot.people(extra.map(\.sourceID))
            stored.merge(found) { old, _ in old }
            updates += extra
        }
        if !spentCreates.isEmpty {
            changes.creates = changes.creates.indices.filter { !spentCreates.contains($0) }.map { changes.creates[$0] }
        }
        return gone.indices.filter { matches[$0] == nil }
    }
}
