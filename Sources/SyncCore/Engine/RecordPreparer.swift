/// Maps, validates and fingerprints records: the per-record work of a plan,
/// which needs nothing from other records and so runs a batch at a time.
struct RecordPreparer: Sendable {
    /// Records handed over at a time.
    static let batchSize = 2048

    private(set) var mapper: Mapper
    private let validator: Validator
    private var fingerprinter: Fingerprinter

    init(mapper: Mapper, key: SnapshotKey) {
        self.mapper = mapper
        validator = Validator(layout: mapper.layout)
        fingerprinter = Fingerprinter(key: key, layout: mapper.layout)
    }

    var layout: RowLayout { mapper.layout }

    mutating func prepare(_ records: [SourceRecord]) -> [Differ.Candidate] {
        var candidates: [Differ.Candidate] = []
        candidates.reserveCapacity(records.count)
        // By index rather than `map`, whose iterator copies (retains and releases) each whole record.
        for i in records.indices {
            var problems: [RecordProblem] = []
            var values = mapper.map(records[i], problems: &problems)
            validator.validate(&values, problems: &problems)
            if records[i].id.isEmpty { problems.append(RecordProblem(field: nil, "has no source id")) }
            candidates.append(Differ.Candidate(
                id: records[i].id, location: records[i].location, values: values,
                fingerprint: problems.isEmpty ? fingerprinter.fingerprint(values) : nil, problems: problems))
        }
        return candidates
    }
}
