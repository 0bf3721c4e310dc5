import ConnectorCore

/// Maps, validates and fingerprints a source's records on worker tasks while
/// the caller's task reads the next batch, and collects the prepared batches
/// in source order.
///
/// Each worker owns a ``RecordPreparer`` (its mapper keeps per-schema caches);
/// a batch goes to an idle worker, and when none is idle the oldest batch in
/// flight is collected first, so at most `workers` batches are ever pending.
/// A source that hands over chunks (``ChunkedRecordSequence``) has each chunk
/// passed on whole, and given back to its recycler once prepared.
struct PreparationPipeline {
    /// The records, prepared, in source order.
    private var candidates = CandidateList()
    /// The hash of every email, with its record's position in ``candidates``.
    private var emails: [EqualHashes.Entry] = []

    /// Records the source's `include:`/`exclude:` left out.
    private(set) var filtered = 0
    /// Of those, the ones with HR's dates, by source id.
    private(set) var filteredDates: [String: RecordDates] = [:]

    /// Told the number of records prepared so far, after each batch.
    var progress: (@Sendable (Int) -> Void)?

    private var idle: [RecordPreparer]
    private var pending: [Task<(RecordPreparer, RecordPreparer.Batch), Never>] = []
    private var batch: [SourceRecord] = []
    private var recycler: (any RecordRecycler)?

    /// Creates a pipeline of `workers` copies of a preparer.
    init(preparer: RecordPreparer, workers: Int = 2) {
        idle = Array(repeating: preparer, count: max(1, workers))
    }

    /// Records taken from the source so far; after ``run(_:)``, every one of them prepared but the last batch's.
    var recordsRead: Int { candidates.count + batch.count }

    /// Reads every record of a sequence through the workers and waits for the last batch.
    /// - Throws: the sequence's error, once every batch taken before it is collected.
    mutating func run(_ records: some AsyncSequence<SourceRecord, any Error>) async throws {
        do {
            if let chunked = records as? any ChunkedRecordSequence {
                try await feed(chunks: chunked)
            } else {
                try await feed(records: records)
            }
            await collectAll()
        } catch {
            await collectAll()
            throw error
        }
    }

    /// The mapped attributes no worker saw in any record.
    func unseenAttributes(of mapper: Mapper) -> [String] {
        let unseen = idle.reduce(Set(mapper.attributes)) { $0.intersection($1.mapper.unseenAttributes) }
        return mapper.attributes.filter(unseen.contains)
    }

    /// The attributes the filter tests that some worker saw a record carry a value of.
    var filterAttributesSeen: Set<String> {
        idle.reduce(into: Set<String>()) { $0.formUnion($1.filterSightings.seenNames) }
    }

    /// Hands the prepared records and their email hashes over, leaving the pipeline empty.
    mutating func finish() -> (candidates: CandidateList, emails: [EqualHashes.Entry]) {
        var taken = (CandidateList(), [EqualHashes.Entry]())
        // perf: moved out, not copied: a copy would duplicate a million records.
        swap(&taken.0, &candidates)
        swap(&taken.1, &emails)
        return taken
    }

    private mutating func feed(chunks records: some ChunkedRecordSequence) async throws {
        var iterator = records.makeChunkIterator()
        recycler = iterator.recycler
        while let chunk = try await iterator.nextChunk() {
            batch = chunk
            await dispatch()
        }
    }

    private mutating func feed(records: some AsyncSequence<SourceRecord, any Error>) async throws {
        for try await record in records {
            batch.append(record)
            if batch.count >= RecordPreparer.batchSize { await dispatch() }
        }
        await dispatch()
    }

    private mutating func dispatch() async {
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

    private mutating func collectOldest() async {
        let (returned, prepared) = await pending.removeFirst().value
        idle.append(returned)
        let offset = Int32(truncatingIfNeeded: candidates.count)
        emails.append(
            contentsOf: prepared.emails.lazy.map { EqualHashes.Entry(hash: $0.hash, position: $0.position + offset) })
        candidates.append(contentsOf: prepared.candidates)
        filtered += prepared.filtered
        filteredDates.merge(prepared.filteredDates) { first, _ in first }
        progress?(candidates.count + filtered)
    }

    private mutating func collectAll() async {
        while !pending.isEmpty { await collectOldest() }
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
