import Foundation
import Logging

/// Reads a source, maps and validates every record, and diffs the result with
/// the snapshot: the first half of every run, and all of `plan`.
public struct Planner: Sendable {
    /// The job's mapping.
    public var mappings: [FieldMapping]
    /// The API's fields and rules.
    public var catalog: FieldCatalog
    /// What happens to people who left.
    public var removals: RemovalPolicy
    /// The other limits that stop a run.
    public var guards = GuardPolicy()
    /// Where messages go.
    public var logger: Logger

    /// Creates a planner.
    public init(mappings: [FieldMapping], catalog: FieldCatalog, removals: RemovalPolicy, logger: Logger) {
        self.mappings = mappings
        self.catalog = catalog
        self.removals = removals
        self.logger = logger
    }

    /// Creates a planner for a job.
    public init(job: JobConfiguration, logger: Logger) {
        self.init(mappings: job.mapping, catalog: job.api.fields, removals: job.removals, logger: logger)
        guards = job.guards
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
        let preparer = RecordPreparer(mapper: mapper, key: snapshot.key, duplicates: duplicates)
        let layout = preparer.layout
        var changes = ChangeSet(layout: layout, plannedAt: now, key: snapshot.key)

        let log = logger
        async let loadedIndex = {
            let started = ContinuousClock.now
            let index = try await snapshot.index()
            log.info("loaded \(index.count) people from \(snapshot.description) in \(ContinuousClock.now - started)")
            return index
        }()
        var candidates = CandidateList()
        var emails: [EqualHashes.Entry] = []
        // Records are mapped, validated and fingerprinted a batch at a time on
        // two other tasks, while this one reads the next batch and collects the
        // finished ones in source order: the per-record work uses both cores.
        var batch: [SourceRecord] = []
        var idle = [preparer, preparer]
        var pending: [Task<(RecordPreparer, RecordPreparer.Batch), Never>] = []
        func collectOldest() async {
            let (returned, prepared) = await pending.removeFirst().value
            idle.append(returned)
            let offset = Int32(truncatingIfNeeded: candidates.count)
            emails.append(
                contentsOf: prepared.emails.lazy.map {
                    EqualHashes.Entry(hash: $0.hash, position: $0.position + offset)
                })
            candidates.append(contentsOf: prepared.candidates)
        }
        func collect() async {
            while !pending.isEmpty { await collectOldest() }
        }
        var recycler: ThreadedRecordStream.Recycler?
        func dispatch() async {
            if idle.isEmpty { await collectOldest() }
            let work = Transfer(batch)
            let worker = idle.removeLast()
            batch = []
            batch.reserveCapacity(RecordPreparer.batchSize)
            pending.append(
                Task { [recycler] in
                    var worker = worker
                    let records = work.take()
                    let prepared = worker.prepare(records)
                    // Freed by the thread that made them, when it is the source's own.
                    recycler?.giveBack(consume records)
                    return (worker, prepared)
                })
        }
        let started = ContinuousClock.now
        do {
            let records = source.records()
            if let threaded = records as? ThreadedRecordStream {
                // Hand the producer's chunks on whole rather than record by record.
                var iterator = threaded.makeAsyncIterator()
                recycler = iterator.recycler
                while let chunk = try await iterator.nextChunk() {
                    batch = chunk
                    await dispatch()
                }
            } else {
                for try await record in records {
                    batch.append(record)
                    if batch.count >= RecordPreparer.batchSize { await dispatch() }
                }
                await dispatch()
            }
            await collect()
        } catch {
            await collect()
            _ = try? await loadedIndex
            if let error = error as? SyncError { throw error }
            throw SyncError(
                .source,
                "reading \(source.description) failed after \(candidates.count + batch.count) records: \(error)",
                hint: "nothing was sent; fix the source and run again", underlying: error)
        }
        duplicates.mark(emails, in: &candidates)
        emails = []
        changes.recordsRead = candidates.count
        logger.info("read \(candidates.count) records from \(source.description) in \(ContinuousClock.now - started)")
        if candidates.count > 0 {
            // An attribute counts as seen when either worker saw it.
            let unseen = idle.reduce(Set(preparer.mapper.attributes)) { $0.intersection($1.mapper.unseenAttributes) }
            changes.warnings = preparer.mapper.attributes.filter(unseen.contains).map {
                "no record has the attribute `\($0)` that the mapping reads; check its spelling"
            }
        }
        let differ = Differ(layout: layout, key: snapshot.key, grace: removals.grace, resendUnchanged: resendUnchanged)
        var index = try await loadedIndex
        let diffStarted = ContinuousClock.now
        try await differ.diff(&candidates, index: &index, snapshot: snapshot, into: &changes)
        logger.info("compared with the snapshot in \(ContinuousClock.now - diffStarted)")
        // Freeing a million records and index entries takes a tenth of a second: a background
        // task does it while the caller goes on (prints the plan, sends the changes).
        var spent = (CandidateList(), SnapshotIndex())
        swap(&spent.0, &candidates)
        swap(&spent.1, &index)
        Task.detached(priority: .background) { [spent] in withExtendedLifetime(spent) {} }
        return changes
    }
}

/// Hands a value to another task as its only owner, so that the task can pass
/// it on (`consume`) rather than share it.
///
/// Safety: the creating task never touches the value again after handing it over, and
/// the receiving task takes it once; there is never a second owner at the same time.
private final class Transfer<Value>: @unchecked Sendable {
    private var value: Value?

    init(_ value: Value) { self.value = value }

    func take() -> Value {
        defer { value = nil }
        return value!
    }
}
