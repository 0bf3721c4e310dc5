import ConnectorCore
import Foundation

/// Compares mapped, validated rows with the snapshot: a merge of both, sorted
/// by the ids' bytes, so it needs no hash table and its output comes sorted.
struct Differ {
    let layout: RowLayout
    let key: SnapshotKey
    let grace: Duration
    /// HR's start and leaving dates.
    var dates = EffectiveDates()
    /// Treat unchanged people as updates (`sync --full`).
    var resendUnchanged = false
    /// HR's dates of the records the source's filter left out, by source id: a leaver a filter
    /// leaves out is terminated on their own day, not on the day of the run.
    var filteredDates: [String: RecordDates] = [:]
    /// What a person the snapshot holds and the read did not list is.
    var unlisted = Unlisted.missing
    /// People not terminated whom a change read's partial index leaves out: unchanged, all of them.
    var activeBeyondIndex = 0

    /// What the snapshot's people that a read did not list are.
    enum Unlisted {
        /// Missing: the read listed everyone (a full read).
        case missing
        /// Unchanged, unless the source says they are gone (a change read).
        case unchangedUnlessGone(Set<String>)
        /// Unchanged if the source says they are still there, else missing (a change read that names
        /// everyone present, as syncrepl's present phase does).
        case unchangedIfPresent(Set<String>)

        /// Whether the read lists only changes.
        var isChangeRead: Bool {
            if case .missing = self { return false }
            return true
        }
    }

    /// One record after mapping and validation.
    struct Candidate: Sendable {
        var id: String
        var location: SourceLocation?
        var values: [String?]
        var fingerprint: Fingerprint?
        var problems: [RecordProblem]
        /// HR's dates for the record, when the job reads them and it has any.
        var dates: RecordDates? = nil
        /// Whether `dates:` keep the record from being sent this run (not started yet, or left):
        /// such a person is nobody's new identity.
        var heldByDates = false
    }

    /// What the merge of the candidates with the index leaves to finish once the stored people are loaded.
    struct Merged {
        /// Rows of people who changed (their values moved out of the candidates).
        var updates: [PlannedRow] = []
        /// Index positions of people the snapshot holds live and the source no longer lists.
        var missing: [Int] = []
        /// People still in the source whose leaving day has come: index position and day.
        var ended: [(position: Int, day: String)] = []
        /// Ids the source gave more than once.
        var duplicateIDs = 0
    }

    /// Classifies every candidate against `index`, then loads the people who changed or left.
    /// The values of the rows to send move into `changes`; the candidates are spent.
    func diff(
        _ candidates: inout CandidateList, index: inout SnapshotIndex, snapshot: some SnapshotReader,
        into changes: inout ChangeSet
    ) async throws {
        index.sortByID()
        changes.snapshotActive = index.entries.lazy.filter { !$0.terminated }.count + activeBeyondIndex
        changes.unchanged += activeBeyondIndex
        let today = dates.isEmpty ? "" : dates.today(at: changes.plannedAt)
        var merged = merge(&candidates, with: index, today: today, into: &changes)
        var stored = try await snapshot.people(
            merged.updates.map(\.sourceID) + merged.missing.map { index.ids[$0] }
                + merged.ended.map { index.ids[$0.position] })
        if !merged.missing.isEmpty {
            let gone = merged.missing.map { index.ids[$0] }
            let matcher = RekeyMatcher(
                layout: layout, key: key, gone: gone.map { stored[$0] ?? StoredPerson(sourceID: $0, fields: [:]) })
            let kept = try await rekey(
                matcher, updates: &merged.updates, candidates: candidates, stored: &stored, snapshot: snapshot,
                changes: &changes,
                fingerprints: Dictionary(
                    merged.missing.map { (index.ids[$0], index.entries[$0].fingerprint) },
                    uniquingKeysWith: { first, _ in first }))
            merged.missing = kept.map { merged.missing[$0] }
        }
        for row in merged.updates {
            // A re-keyed person's previous state is the one stored under their old id.
            guard let previous = stored[row.sourceID] ?? row.replacing.first.flatMap({ stored[$0] }) else {
                throw SyncError.damagedSnapshot(
                    snapshot.description, "it lists \(row.sourceID) but holds no fields for it")
            }
            let update = PlannedUpdate(row: row, changed: changedFields(row.values, previous), previous: previous)
            if let warning = unmatchableEmailChange(update) { changes.warnings.append(warning) }
            changes.updates.append(update)
        }
        let now = changes.plannedAt
        for (s, day) in merged.ended {
            let id = index.ids[s]
            changes.removals.append(
                PlannedRemoval(
                    person: stored[id] ?? StoredPerson(sourceID: id, fields: [:]),
                    fingerprint: index.entries[s].fingerprint, missingSince: now, dueAt: now, endedOn: day,
                    terminatedAt: dates.terminatedAt(day)))
        }
        // A source that gives one id twice may have left others out (a page read twice, the next
        // never): the people it did not list wait for a read that lists everyone once.
        let holdMissing = merged.duplicateIDs > 0
        var held = 0
        for s in merged.missing {
            let id = index.ids[s]
            let person = stored[id] ?? StoredPerson(sourceID: id, fields: [:])
            let fingerprint = index.entries[s].fingerprint
            let (verdict, leavesLater) = Self.classifyGone(
                index.entries[s], filteredDates: filteredDates[id], today: today, now: now, grace: grace)
            if let day = leavesLater {
                changes.warnings.append(
                    "\(id) is left out by the source's filter, but HR says they leave on \(day), which is still to "
                        + "come: they are removed as missing, on the day of the run")
            }
            switch verdict {
            case .ends(let day):
                changes.removals.append(
                    PlannedRemoval(
                        person: person, fingerprint: fingerprint, missingSince: now, dueAt: now, endedOn: day,
                        terminatedAt: dates.terminatedAt(day)))
            case .remove(let since, let due) where holdMissing:
                held += 1
                changes.waiting.append(
                    PlannedRemoval(person: person, fingerprint: fingerprint, missingSince: since, dueAt: due))
            case .remove(let since, let due):
                changes.removals.append(
                    PlannedRemoval(person: person, fingerprint: fingerprint, missingSince: since, dueAt: due))
            case .wait(let since, let due):
                changes.waiting.append(
                    PlannedRemoval(person: person, fingerprint: fingerprint, missingSince: since, dueAt: due))
            }
        }
        if held > 0 {
            let ids = merged.duplicateIDs == 1 ? "an id" : "\(merged.duplicateIDs) ids"
            changes.warnings.append(
                "the source gave \(ids) twice (invalid, not sent): a source that repeats people may have left "
                    + "others out, so the \(held) it did not list wait instead of being removed; the next read that "
                    + "lists everyone once removes them if they are still not there")
        }
        var holds = IdentityHolds(layout: layout, key: key)
        try await holds.hold(&changes) {
            let terminated = index.entries.indices.filter { index.entries[$0].terminated }.map { index.ids[$0] }
            return terminated.isEmpty ? [] : Array(try await snapshot.people(terminated).values)
        }
    }

    /// Walks the candidates and the index, both sorted by id bytes, and files each candidate by its
    /// ``Verdict``: creates, the unchanged, the invalid and dated people go straight into `changes`;
    /// updates, the missing and the ended wait in the result for their stored fields.
    private func merge(
        _ candidates: inout CandidateList, with index: SnapshotIndex, today: String, into changes: inout ChangeSet
    ) -> Merged {
        var merged = Merged()
        let order = Self.sortedPositions(candidates)
        var s = 0
        var i = 0
        while i < order.count {
            // A run of candidates with the same id: more than one is a duplicate.
            var end = i + 1
            while end < order.count, ByteOrder.compare(candidates[order[end]].id, candidates[order[i]].id) == 0 {
                end += 1
            }
            let id = candidates[order[i]].id
            while s < index.count, ByteOrder.compare(index.ids[s], id) < 0 {
                fileUnlisted(s, of: index, into: &merged, &changes)
                s += 1
            }
            var entry: SnapshotEntry? = nil
            let entryPosition = s
            if s < index.count, ByteOrder.compare(index.ids[s], id) == 0 {
                entry = index.entries[s]
                s += 1
            }
            if end - i > 1 && !id.isEmpty {
                markDuplicates(order[i..<end], in: &candidates)
                merged.duplicateIDs += 1
            }
            // Anyone matched is back, valid or not: a later absence starts a new grace period.
            if entry?.missingSince != nil { changes.returned.append(id) }
            var ended = false
            for position in order[i..<end] {
                // perf: Fields are read in place: copying a million candidates whole is most of a merge's time.
                let verdict = Self.classify(
                    candidates[position], stored: entry, today: today, resendUnchanged: resendUnchanged)
                if verdict.heldByDates { candidates[position].heldByDates = true }
                switch verdict {
                case .invalid:
                    changes.invalid.append(
                        InvalidRecord(
                            sourceID: candidates[position].id, location: candidates[position].location,
                            problems: candidates[position].problems))
                    continue
                case .unchanged(let leavingOn):
                    if let day = leavingOn { changes.leaving.append(DatedPerson(sourceID: id, day: day)) }
                    changes.unchanged += 1
                    continue
                case .ends(let day):
                    merged.ended.append((entryPosition, day))
                    ended = true
                    continue
                case .endedUnsent:
                    changes.leftUnsent += 1
                    continue
                case .endedBefore:
                    changes.unchanged += 1
                    continue
                case .startsLater(let day):
                    changes.starting.append(DatedPerson(sourceID: id, day: day))
                    continue
                case .create(let leavingOn), .update(let leavingOn):
                    if let day = leavingOn { changes.leaving.append(DatedPerson(sourceID: id, day: day)) }
                }
                // perf: Moved, not copied: the candidates are done with once merged.
                var values: [String?] = []
                swap(&values, &candidates[position].values)
                let row = PlannedRow(
                    sourceID: id, values: values, fingerprint: candidates[position].fingerprint!,
                    location: candidates[position].location)
                if entry == nil { changes.creates.append(row) } else { merged.updates.append(row) }
            }
            // Still in the source but left (reported, with `removals.action: report`): not back.
            if ended, changes.returned.last == id { changes.returned.removeLast() }
            i = end
        }
        while s < index.count {
            fileUnlisted(s, of: index, into: &merged, &changes)
            s += 1
        }
        return merged
    }

    /// Files a person the snapshot holds and the read did not list: missing after a full read; after a
    /// change read, missing only if the source says they are gone or they were missing already.
    private func fileUnlisted(_ s: Int, of index: SnapshotIndex, into merged: inout Merged, _ changes: inout ChangeSet)
    {
        guard !index.entries[s].terminated else { return }
        if unlisted.isChangeRead, index.entries[s].fingerprint == .unconfirmed { changes.unconfirmedUnread += 1 }
        let unchanged =
            switch unlisted {
            case .missing: false
            case .unchangedUnlessGone(let gone): index.entries[s].missingSince == nil && !gone.contains(index.ids[s])
            case .unchangedIfPresent(let present):
                index.entries[s].missingSince == nil && present.contains(index.ids[s])
            }
        if unchanged {
            changes.unchanged += 1
        } else {
            merged.missing.append(s)
        }
    }

    /// Candidate positions sorted by id bytes, then by position (so duplicates keep source order).
    static func sortedPositions(_ candidates: CandidateList) -> [Int] {
        ByteOrder.sortedPositions(count: candidates.count) { candidates[$0].id }
    }

    /// Every record of a run with one id is invalid: there is no telling which is right.
    private func markDuplicates(_ positions: ArraySlice<Int>, in candidates: inout CandidateList) {
        let places = positions.map { candidates[$0].location?.description ?? "record \($0 + 1)" }
        for (n, position) in positions.enumerated() {
            let others = places.enumerated().filter { $0.offset != n }.map(\.element).joined(separator: ", ")
            candidates[position].problems.append(
                RecordProblem(field: nil, "has the same source id as the record at \(others)"))
            candidates[position].fingerprint = nil
        }
    }

    /// The API matches a row on `employee_id`, else on email: an email change in a row without an
    /// `employee_id` creates a new person and leaves the old one as it was. Said, never silent.
    func unmatchableEmailChange(_ update: PlannedUpdate) -> String? {
        let catalog = layout.catalog
        guard let field = catalog.email.first(where: update.changed.contains) else { return nil }
        if let p = layout.position(of: catalog.employeeID), update.row.values[p] != nil { return nil }
        return "\(update.row.sourceID)'s \(field) changes, and its row carries no \(catalog.employeeID): the API will "
            + "create a new person and leave the old one as it is; map \(catalog.employeeID), or fix the old record by hand"
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
