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
    }

    /// Computes the change set.
    /// - Parameters:
    ///   - source: where people come from; read once, whole.
    ///   - snapshot: what the last sync sent.
    ///   - now: the run's time, for grace periods.
    /// - Returns: the change set; guards are not applied here (see ``RemovalGuard``).
    /// - Throws: the source's error if it fails at any point, or the snapshot's.
    public func plan(source: some UserSource, snapshot: some SnapshotReader, now: Date = Date()) async throws -> ChangeSet {
        let mapper = Mapper(mappings, catalog: catalog)
        let layout = mapper.layout
        let validator = Validator(layout: layout)
        var fingerprinter = Fingerprinter(key: snapshot.key, layout: layout)
        var changes = ChangeSet(layout: layout, plannedAt: now)

        async let loadedIndex = snapshot.index()
        var candidates: [Differ.Candidate] = []
        var duplicates = DuplicateFinder(layout: layout)
        let started = ContinuousClock.now
        do {
            for try await record in source.records() {
                var problems: [RecordProblem] = []
                var values = mapper.map(record, problems: &problems)
                validator.validate(&values, problems: &problems)
                if record.id.isEmpty { problems.append(RecordProblem(field: nil, "has no source id")) }
                duplicates.check(id: record.id, values: values, location: record.location, problems: &problems,
                                 candidates: &candidates)
                let fingerprint = problems.isEmpty ? fingerprinter.fingerprint(values) : nil
                candidates.append(Differ.Candidate(
                    id: record.id, location: record.location, values: values, fingerprint: fingerprint,
                    problems: problems))
            }
        } catch let error as SyncError {
            _ = try? await loadedIndex
            throw error
        } catch {
            _ = try? await loadedIndex
            throw SyncError(.source, "reading \(source.description) failed after \(candidates.count) records: \(error)",
                            hint: "nothing was sent; fix the source and run again")
        }
        changes.recordsRead = candidates.count
        logger.info("read \(candidates.count) records from \(source.description) in \(ContinuousClock.now - started)")
        if candidates.count > 0 {
            changes.warnings = mapper.unseenAttributes.map {
                "no record has the attribute `\($0)` that the mapping reads; check its spelling"
            }
        }
        let differ = Differ(layout: layout, key: snapshot.key, grace: removals.grace)
        try await differ.diff(candidates, index: try await loadedIndex, snapshot: snapshot, into: &changes)
        return changes
    }
}

/// Finds source ids and emails that more than one record has. Every record
/// involved is invalid: there is no telling which one is right.
struct DuplicateFinder {
    private var ids = FirstOccurrences()
    private var emails = FirstOccurrences()
    private let emailPosition: Int?
    private let emailField: String

    init(layout: RowLayout) {
        emailField = layout.catalog.email.first ?? "email"
        emailPosition = layout.position(of: emailField)
    }

    /// Checks the record about to be appended to `candidates`.
    mutating func check(
        id: String, values: [String?], location: SourceLocation?, problems: inout [RecordProblem],
        candidates: inout [Differ.Candidate]
    ) {
        let index = candidates.count
        if !id.isEmpty, let first = ids.insert(id, at: index, keyAt: { [candidates] in candidates[$0].id }) {
            let there = candidates[first].location?.description ?? "an earlier record"
            problems.append(RecordProblem(field: nil, "has the same source id as the record at \(there)"))
            Self.flag(&candidates[first], RecordProblem(
                field: nil, "has the same source id as the record at \(location?.description ?? "a later record")"))
        }
        if let position = emailPosition, let email = values[position] {
            let key = FastText.lowercased(email)
            let first = emails.insert(key, at: index) { [candidates] in
                FastText.lowercased(candidates[$0].values[position] ?? "")
            }
            if let first {
                problems.append(RecordProblem(field: emailField, "is also the email of source id \(candidates[first].id)"))
                Self.flag(&candidates[first], RecordProblem(field: emailField, "is also the email of source id \(id)"))
            }
        }
    }

    private static func flag(_ candidate: inout Differ.Candidate, _ problem: RecordProblem) {
        if !candidate.problems.contains(problem) { candidate.problems.append(problem) }
        candidate.fingerprint = nil
    }
}
