import ConnectorCore
import Foundation
import Logging

/// Reads a source, maps and validates every record, and diffs the result with
/// the snapshot: the first half of every run, and all of `plan`.
public struct Planner: Sendable {
    /// The job's mapping.
    public var mappings: [FieldMapping]
    /// The API's fields and rules.
    public var catalog: FieldCatalog
    /// How long someone missing from the source waits before they are removed (`removals.grace`).
    public var grace: Duration
    /// HR's start and leaving dates, if the job uses them.
    public var dates = EffectiveDates()
    /// Which records of the source (the primary) count.
    public var filter = RecordFilter()
    /// The job's last successful run, if the caller read it: what its joined sources matched.
    public var lastSuccess: RunRecord?
    /// Where messages go.
    public var logger: Logger
    /// Told the number of records read so far, a batch at a time (for a progress line).
    public var progress: (@Sendable (_ recordsRead: Int) -> Void)?
    /// When a source with a change feed reads only the changes; `nil` reads everything every run.
    public var changeReads: ChangeReadPolicy?
    /// The job's run before this one (any command), whose read a change read continues.
    public var previousRun: RunRecord?

    /// Creates a planner.
    public init(mappings: [FieldMapping], catalog: FieldCatalog, grace: Duration = .zero, logger: Logger) {
        self.mappings = mappings
        self.catalog = catalog
        self.grace = grace
        self.logger = logger
    }

    /// Computes the change set.
    /// - Parameters:
    ///   - source: where people come from; read once, whole.
    ///   - snapshot: what the last sync sent.
    ///   - now: the run's time, for grace periods.
    ///   - resendUnchanged: list unchanged people as updates too (`sync --full`).
    /// - Returns: the change set; guards are not applied here (see ``RemovalGuard``).
    /// - Throws: the source's error if it fails at any point, or the snapshot's.
    public func plan(
        source: some UserSource, snapshot: some SnapshotReader, now: Date = Date(), resendUnchanged: Bool = false
    ) async throws -> ChangeSet {
        guard let feedSource = source as? any ChangeFeedSource, let feed = feedSource.changeFeed,
            let policy = changeReads
        else {
            var changes = try await plan(
                reading: source, snapshot: snapshot, now: now, resendUnchanged: resendUnchanged, unlisted: .missing)
            changes.read = SourceRead(
                kind: .full, reason: "the source reads everything", entries: changes.recordsRead + changes.filtered)
            return changes
        }
        var decision = policy.decide(feed: feed, previous: previousRun, now: now)
        if resendUnchanged, case .changes = decision { decision = .full("sync --full sends everyone") }
        var changes: ChangeSet?
        var read = SourceRead(kind: .full, reason: "")
        if case .changes(let position, let reread) = decision {
            switch try await feedSource.changes(since: position, reread: reread) {
            case .changes(let found):
                let listed = try await plan(
                    reading: ListedRecords(found.records, description: source.description), snapshot: snapshot,
                    now: now, resendUnchanged: false, unlisted: Self.unlisted(after: found))
                if listed.unconfirmedUnread > 0 {
                    decision = .full(
                        "\(listed.unconfirmedUnread) people's last import could not be confirmed, and the changes "
                            + "do not list them")
                } else if let clash = try await emailClash(in: listed, snapshot: snapshot) {
                    decision = .full(clash)
                } else {
                    changes = listed
                    let since = previousRun.map { " since the run of \(Timestamps.iso($0.startedAt))" } ?? ""
                    read = SourceRead(kind: .changes, reason: "\(feed) changes\(since)", entries: found.entriesRead)
                    read.position = found.position
                    read.fullReadAt = previousRun?.read?.fullReadAt
                }
            case .needsFullRead(let reason):
                decision = .full(reason)
            }
        }
        if case .full(let reason) = decision {
            let position = try await feedSource.currentPosition()
            let all = try await plan(
                reading: source, snapshot: snapshot, now: now, resendUnchanged: resendUnchanged, unlisted: .missing)
            changes = all
            read = SourceRead(kind: .full, reason: reason, entries: all.recordsRead + all.filtered)
            read.position = position
            read.fullReadAt = now
        }
        guard var changes else { preconditionFailure("a decision is a full read or a change read") }
        read.settingsDigest = policy.settingsDigest
        read.version = policy.version
        // Who the next change read looks at whatever the feed says: people whose day is still to come, and
        // those held back. An invalid record comes back through the feed when it is fixed; one invalid
        // only beside another's (a shared email) waits for the next full read.
        read.reread = Array(
            Set(changes.starting.map(\.sourceID) + changes.leaving.map(\.sourceID) + changes.held.map(\.row.sourceID))
        ).sorted()
        logger.notice("read \(read.kind == .full ? "everything" : "only the changes"): \(read.reason)")
        changes.read = read
        return changes
    }

    /// Reads `source` (everything, or the records a change read listed) and diffs it with the snapshot.
    /// - Parameter unlisted: what the snapshot's people the read did not list are.
    private func plan(
        reading source: some UserSource, snapshot: some SnapshotReader, now: Date, resendUnchanged: Bool,
        unlisted: Differ.Unlisted
    ) async throws -> ChangeSet {
        let mapper = Mapper(mappings, catalog: catalog)
        let duplicates = DuplicateEmails(layout: mapper.layout)
        let preparer = RecordPreparer(
            mapper: mapper, key: snapshot.key, duplicates: duplicates, dates: dates, filter: filter)
        var changes = ChangeSet(layout: preparer.layout, plannedAt: now, key: snapshot.key)

        async let loadedIndex = loadIndex(of: snapshot, for: unlisted)
        let started = ContinuousClock.now
        var pipeline = PreparationPipeline(preparer: preparer)
        pipeline.progress = progress
        do {
            try await pipeline.run(source.records())
        } catch {
            _ = try? await loadedIndex
            throw readFailure(error, of: source, after: pipeline.recordsRead)
        }
        var (candidates, emails) = pipeline.finish()
        duplicates.mark(emails, in: &candidates, today: dates.isEmpty ? nil : dates.today(at: now))
        emails = []
        changes.recordsRead = candidates.count
        changes.filtered = pipeline.filtered
        logger.info("read \(candidates.count) records from \(source.description) in \(ContinuousClock.now - started)")
        if let joined = source as? any JoinReporting {
            changes.unmatched = joined.unmatched
            changes.joined = joined.counts
            changes.fieldSources = joined.fieldSources(of: mappings)
            if let last = lastSuccess, !last.joined.isEmpty { changes.joinedBefore = (last.records, last.joined) }
        }
        // A change read's few records say nothing of what the source carries: the full read that
        // started the feed, with these settings, was checked.
        let read = candidates.count + pipeline.filtered
        if !unlisted.isChangeRead, read > 0, let condition = filter.untested(seen: pipeline.filterAttributesSeen) {
            throw RecordFilter.notCarried(condition, records: read, source: source.description)
        }
        if !unlisted.isChangeRead, candidates.count > 0 {
            try checkCarried(pipeline.unseenAttributes(of: preparer.mapper), source: source, records: candidates.count)
        }

        var differ = Differ(
            layout: preparer.layout, key: snapshot.key, grace: grace, dates: dates,
            resendUnchanged: resendUnchanged)
        differ.filteredDates = pipeline.filteredDates
        differ.unlisted = unlisted
        var (index, activeBeyondIndex) = try await loadedIndex
        differ.activeBeyondIndex = activeBeyondIndex
        let diffStarted = ContinuousClock.now
        try await differ.diff(&candidates, index: &index, snapshot: snapshot, into: &changes)
        logger.info("compared with the snapshot in \(ContinuousClock.now - diffStarted)")
        freeInBackground(&candidates, &index)
        return changes
    }

    /// Whether a change read sends an email that someone it did not list holds in the snapshot: a full
    /// read finds such duplicates among everyone (and sends neither); a change read sees only the
    /// changed, so it reads everything instead. Asked only when the changes create people or change
    /// an email, which loads the snapshot's people.
    private func emailClash(in changes: ChangeSet, snapshot: some SnapshotReader) async throws -> String? {
        let layout = changes.layout
        let fields = layout.catalog.email.compactMap { name in layout.position(of: name).map { (name, $0) } }
        var sent: [String: String] = [:]  // stored form of an email → who sends it
        let rows =
            changes.creates
            + changes.updates.filter { !Set($0.changed).isDisjoint(with: layout.catalog.email) }.map(\.row)
        for row in rows {
            for (name, position) in fields {
                guard let value = row.values[position], !value.isEmpty else { continue }
                let stored =
                    layout.sensitive[position] ? changes.key.digest(field: name, value: value) : value.lowercased()
                sent["\(name)\u{0}\(stored)"] = row.sourceID
            }
        }
        guard !sent.isEmpty else { return nil }
        let index = try await snapshot.index()
        let listed = Set(rows.map(\.sourceID))
        let others = zip(index.ids, index.entries).filter { !$0.1.terminated && !listed.contains($0.0) }.map(\.0)
        for (id, person) in try await snapshot.people(others) {
            for (name, position) in fields {
                guard let value = person.fields[name] else { continue }
                let stored = layout.sensitive[position] ? value : value.lowercased()
                if let sender = sent["\(name)\u{0}\(stored)"] {
                    return
                        "\(sender)'s \(name) is \(id)'s in the snapshot, and only a full read can tell which is right"
                }
            }
        }
        return nil
    }

    /// What a change read leaves the people it did not list: gone if the source says so, or if the
    /// source names everyone present and not them. A listed record the job's include/exclude leaves
    /// out is gone too, as after a full read.
    static func unlisted(after found: SourceChanges) -> Differ.Unlisted {
        let listed = found.gone + found.records.map(\.id)
        if let present = found.present { return .unchangedIfPresent(Set(present).subtracting(listed)) }
        return .unchangedUnlessGone(Set(listed))
    }

    /// Stops the plan when no record carried an attribute a mapping reads, unless the mapping is
    /// `optional`: it would send nothing in that field for everyone (a misspelled name, an id
    /// written as an attribute, a column the export lost). Optional ones are a warning.
    private func checkCarried(_ unseen: [String], source: some UserSource, records: Int) throws {
        guard !unseen.isEmpty else { return }
        let required = mappings.filter { mapping in
            guard !mapping.optional else { return false }
            // A coalesce or an if needs one of its attributes; anything else needs them all.
            if mapping.needsAnyAttribute {
                return !mapping.attributes.isEmpty && mapping.attributes.allSatisfy(unseen.contains)
            }
            return !Set(mapping.attributes).isDisjoint(with: unseen)
        }
        guard let mapping = required.first else {
            for name in unseen { logger.notice("no record has a value of `\(name)`, which an optional mapping reads") }
            return
        }
        let name = mapping.attributes.first(where: unseen.contains) ?? ""
        throw SyncError.config(
            "`mapping.\(mapping.field)` reads `\(name)`, which none of the \(records) records of \(source.description) "
                + "has a value of; nothing was sent",
            at: mapping.location,
            hint: "check the attribute's spelling (the record's own id is `$id`); if the source may lack it, "
                + "write `\(mapping.field): { attribute: \(name), optional: true }`")
    }

    /// Loads the snapshot's index, saying how long it took: for a change read that names who is gone,
    /// only the part it needs (``SnapshotReader/changeReadIndex(for:)``).
    /// - Returns: the index, and how many people not terminated it leaves out (all unchanged).
    private func loadIndex(of snapshot: some SnapshotReader, for unlisted: Differ.Unlisted) async throws
        -> (SnapshotIndex, Int)
    {
        let started = ContinuousClock.now
        if case .unchangedUnlessGone(let listed) = unlisted {
            let part = try await snapshot.changeReadIndex(for: listed)
            let activeInPart = part.index.entries.lazy.filter { !$0.terminated }.count
            logger.info(
                """
                loaded \(part.index.count) people of \(snapshot.description) that the changes need (\(part.active) \
                not terminated) in \(ContinuousClock.now - started)
                """)
            return (part.index, part.active - activeInPart)
        }
        let index = try await snapshot.index()
        logger.info("loaded \(index.count) people from \(snapshot.description) in \(ContinuousClock.now - started)")
        return (index, 0)
    }

    /// The error for a source that failed part-way: its own ``SyncError``, or one saying how far it got.
    private func readFailure(_ error: any Error, of source: some UserSource, after records: Int) -> SyncError {
        if let error = error as? SyncError { return error }
        return SyncError(
            .source, "reading \(source.description) failed after \(records) records: \(error)",
            hint: "nothing was sent; fix the source and run again", underlying: error)
    }

    /// Frees a run's records and index on a background task: a million of each take a tenth
    /// of a second, which the caller spends printing the plan or sending the changes instead.
    private func freeInBackground(_ candidates: inout CandidateList, _ index: inout SnapshotIndex) {
        var spent = (CandidateList(), SnapshotIndex())
        // perf: moved out with `swap`, so the background task holds the only reference.
        swap(&spent.0, &candidates)
        swap(&spent.1, &index)
        Task.detached(priority: .background) { [spent] in withExtendedLifetime(spent) {} }
    }
}

/// The records a change read listed, as a source the planner reads like any other.
struct ListedRecords: UserSource {
    let listed: [SourceRecord]
    let description: String

    init(_ records: [SourceRecord], description: String) {
        listed = records
        self.description = description
    }

    func records() -> AsyncThrowingStream<SourceRecord, any Error> {
        AsyncThrowingStream { continuation in
            for record in listed { continuation.yield(record) }
            continuation.finish()
        }
    }
}
