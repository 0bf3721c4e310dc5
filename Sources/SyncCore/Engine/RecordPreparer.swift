import ConnectorCore

/// Maps, validates and fingerprints records: the per-record work of a plan,
/// which needs nothing from other records and so runs a batch at a time.
struct RecordPreparer: Sendable {
    /// Records handed over at a time: a chunk of the candidate list, so batches are kept whole.
    static let batchSize = CandidateList.chunkSize

    /// A batch of records, prepared.
    struct Batch: Sendable {
        /// The records in source order.
        var candidates: [Differ.Candidate] = []
        /// The hash of each email, with its record's position in ``candidates``.
        var emails: [EqualHashes.Entry] = []
        /// Records the source's `include:`/`exclude:` left out.
        var filtered = 0
        /// Of those, the ones with HR's dates (`dates.ends_on`, `ended_when`): by source id.
        var filteredDates: [String: RecordDates] = [:]
    }

    private(set) var mapper: Mapper
    private let validator: Validator
    private var fingerprinter: Fingerprinter
    private let duplicates: DuplicateEmails
    /// Reads `dates.starts_on` and `dates.ends_on`, in that order, when the job has either.
    private var dateMapper: Mapper?
    private let dateFields: [String]
    /// `dates.ended_when`, if the job has it.
    private let endedWhen: Condition?
    private let filter: RecordFilter
    /// Which attributes the filter tests that records carried, filtered out or not.
    private(set) var filterSightings: FilterSightings

    init(
        mapper: Mapper, key: SnapshotKey, duplicates: DuplicateEmails, dates: EffectiveDates = EffectiveDates(),
        filter: RecordFilter = RecordFilter()
    ) {
        self.mapper = mapper
        self.filter = filter
        filterSightings = FilterSightings(filter)
        let dateMappings = [dates.startsOn, dates.endsOn].compactMap { $0 }
        dateMapper = dateMappings.isEmpty ? nil : Mapper(dateMappings, catalog: mapper.layout.catalog)
        dateFields = [dates.startsOn == nil ? nil : "starts_on", dates.endsOn == nil ? nil : "ends_on"]
            .compactMap { $0 }
        endedWhen = dates.endedWhen
        validator = Validator(layout: mapper.layout)
        fingerprinter = Fingerprinter(key: key, layout: mapper.layout)
        self.duplicates = duplicates
    }

    var layout: RowLayout { mapper.layout }

    mutating func prepare(_ records: [SourceRecord]) -> Batch {
        var batch = Batch()
        batch.candidates.reserveCapacity(records.count)
        batch.emails.reserveCapacity(records.count)
        // perf: The loop works on locals, and reads records in place: with `self`'s properties or `map`,
        // the compiler copies each whole record (and the mapper) around every call, and every
        // copy retains and releases objects that the reader's thread touches too.
        var mapper = mapper, fingerprinter = fingerprinter, dateMapper = dateMapper, sightings = filterSightings
        defer {
            self.mapper = mapper
            self.fingerprinter = fingerprinter
            self.dateMapper = dateMapper
            filterSightings = sightings
        }
        let validator = validator, duplicates = duplicates
        // A joined record may carry a problem the join found (`JoinedSource.problemAttribute`).
        var joinSchema: AttributeSchema?, joinPosition: Int?
        let filtering = !filter.isEmpty
        // perf: elements borrowed through the buffer; through the array, each record was copied whole.
        records.withUnsafeBufferPointer { records in
            for i in records.indices {
                if filtering {
                    sightings.note(records[i])
                    if !filter.keeps(records[i]) {
                        batch.filtered += 1
                        // A leaver a filter leaves out still leaves on HR's day, not on the day of the run.
                        var ignored: [RecordProblem] = []
                        let ended = endedWhen?.holds(for: records[i]) ?? false
                        if dateMapper != nil {
                            dateMapper!.prepare(for: records[i].schema)
                            let values = dateMapper!.mapResolved(records[i], problems: &ignored)
                            if let dates = readDates(values, ended: ended, problems: &ignored) {
                                batch.filteredDates[records[i].id] = dates
                            }
                        } else if ended {
                            batch.filteredDates[records[i].id] = RecordDates(startsOn: nil, endsOn: nil, ended: true)
                        }
                        continue
                    }
                }
                var problems: [RecordProblem] = []
                if records[i].schema !== joinSchema {
                    joinSchema = records[i].schema
                    joinPosition = records[i].schema.position(of: JoinedSource.problemAttribute)
                }
                if let joinPosition, let problem = records[i].values[joinPosition]?.texts.first {
                    problems.append(RecordProblem(field: nil, problem))
                }
                mapper.prepare(for: records[i].schema)
                mapper.note(records[i].values)
                var values = mapper.mapResolved(records[i], problems: &problems)
                validator.validate(&values, problems: &problems)
                var dates: RecordDates?
                let ended = endedWhen?.holds(for: records[i]) ?? false
                if dateMapper != nil {
                    dateMapper!.prepare(for: records[i].schema)
                    dates = readDates(
                        dateMapper!.mapResolved(records[i], problems: &problems), ended: ended, problems: &problems)
                } else if ended {
                    dates = RecordDates(startsOn: nil, endsOn: nil, ended: true)
                }
                if records[i].id.isEmpty {
                    problems.append(RecordProblem(field: nil, "has no source id"))
                } else if let offset = Self.controlCharacter(in: records[i].id) {
                    problems.append(
                        RecordProblem(
                            field: nil,
                            "has a control character in its source id (at byte \(offset + 1)), which no snapshot can keep"
                        ))
                }
                if let hash = duplicates.hash(of: values) {
                    batch.emails.append(
                        EqualHashes.Entry(hash: hash, position: Int32(truncatingIfNeeded: batch.candidates.count)))
                }
                batch.candidates.append(
                    Differ.Candidate(
                        id: records[i].id, location: records[i].location, values: values,
                        fingerprint: problems.isEmpty ? fingerprinter.fingerprint(values) : nil, problems: problems,
                        dates: dates))
            }
        }
        return batch
    }

    /// A record's dates from the date mapper's values; one that is not a date is a problem of the record,
    /// which is then neither sent nor terminated.
    private func readDates(_ values: [String?], ended: Bool, problems: inout [RecordProblem]) -> RecordDates? {
        var startsOn: String?, endsOn: String?
        for (field, value) in zip(dateFields, values) {
            guard let value else { continue }
            guard let day = RecordDates.day(value) else {
                problems.append(
                    RecordProblem(
                        field: "dates.\(field)", "is not a date (yyyy-mm-dd); give its format with a `date` transform"))
                continue
            }
            if field == "starts_on" { startsOn = day } else { endsOn = day }
        }
        return startsOn == nil && endsOn == nil && !ended
            ? nil : RecordDates(startsOn: startsOn, endsOn: endsOn, ended: ended)
    }

    /// The offset of the first control character (U+0000 to U+001F, U+007F) in an id, if any:
    /// PostgreSQL cannot store NUL, and an id the store truncates would be another person's.
    static func controlCharacter(in id: String) -> Int? {
        UTF8Text.withBytes(of: id) { bytes in bytes.firstIndex { $0 < 0x20 || $0 == 0x7F } }
    }
}
