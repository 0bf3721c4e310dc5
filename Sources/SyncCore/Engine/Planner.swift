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
        let mapper = Mapper(mappings, catalog: catalog)
        let duplicates = DuplicateEmails(layout: mapper.layout)
        let preparer = RecordPreparer(
            mapper: mapper, key: snapshot.key, duplicates: duplicates, dates: dates, filter: filter)
        var changes = ChangeSet(layout: preparer.layout, plannedAt: now, key: snapshot.key)

        async let loadedIndex = loadIndex(of: snapshot)
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
        let read = candidates.count + pipeline.filtered
        if read > 0, let condition = filter.untested(seen: pipeline.filterAttributesSeen) {
            throw RecordFilter.notCarried(condition, records: read, source: source.description)
        }
        if candidates.count > 0 {
            try checkCarried(pipeline.unseenAttributes(of: preparer.mapper), source: source, records: candidates.count)
        }

        var differ = Differ(
            layout: preparer.layout, key: snapshot.key, grace: grace, dates: dates,
            resendUnchanged: resendUnchanged)
        differ.filteredDates = pipeline.filteredDates
        var index = try await loadedIndex
        let diffStarted = ContinuousClock.now
        try await differ.diff(&candidates, index: &index, snapshot: snapshot, into: &changes)
        logger.info("compared with the snapshot in \(ContinuousClock.now - diffStarted)")
        freeInBackground(&candidates, &index)
        return changes
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

    /// Loads the snapshot's index, saying how long it took.
    private func loadIndex(of snapshot: some SnapshotReader) async throws -> SnapshotIndex {
        let started = ContinuousClock.now
        let index = try await snapshot.index()
        logger.info("loaded \(index.count) people from \(snapshot.description) in \(ContinuousClock.now - started)")
        return index
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
