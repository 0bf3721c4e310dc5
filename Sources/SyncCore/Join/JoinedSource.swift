import ConnectorCore
import Foundation
import Synchronization

/// Several sources read as one (`sources:`): every primary record, with the attributes of the
/// records of each joined source that match it, prefixed with that source's name.
///
/// Every source is read to its end, all at once, before the first record is handed on; any
/// that fails fails the read. A joined record that matches no primary record never makes a
/// person: it is counted in ``unmatched``. Two that match one primary person make that person
/// invalid, naming both, unless the source says `on_duplicate: first`.
public struct JoinedSource: UserSource {
    /// A source joined to the primary.
    public struct Joined: Sendable {
        /// Its settings.
        public var member: JoinSettings.Member
        /// The source itself.
        public var source: any UserSource
    }

    /// The records of a joined source no primary record matched, after a read.
    public struct Unmatched: Sendable, Hashable {
        /// The joined source's name.
        public var source: String
        /// Their source ids (or places, for records without one), in the order read.
        public var ids: [String]
    }

    /// The attribute a record carries when joining found a problem with it (two matches):
    /// the engine makes the record invalid with this text.
    static let problemAttribute = "$join"

    /// The primary's name.
    public let primaryName: String
    /// The primary source.
    public let primary: any UserSource
    /// The joined sources.
    public let joined: [Joined]
    private let outcome = Outcome()

    /// Joins sources to a primary.
    public init(primaryName: String, primary: any UserSource, joined: [Joined]) {
        self.primaryName = primaryName
        self.primary = primary
        self.joined = joined
    }

    public var description: String {
        ([primary.description + " (\(primaryName))"] + joined.map { "\($0.source.description) (\($0.member.name))" })
            .joined(separator: " + ")
    }

    /// The joined records of the last read that matched nobody, by source.
    public var unmatched: [Unmatched] { outcome.unmatched.withLock { $0 } }

    public func records() -> JoinedRecords { JoinedRecords(source: self) }

    // MARK: - Reading

    /// One joined source, read whole: its records by join key.
    struct Index: Sendable {
        var records: [SourceRecord] = []
        /// Whether each record counts (its source's `include:`/`exclude:`).
        var kept: [Bool] = []
        var byKey: [String: [Int]] = [:]
    }

    /// Every source read to its end, all at once: the primary's records and each joined source's index.
    func readEverything() async throws -> (people: [SourceRecord], indexes: [Index]) {
        try await withThrowingTaskGroup(of: (Int, [SourceRecord]).self) { group in
            group.addTask { (-1, try await Self.readAll(primary)) }
            for (i, joined) in joined.enumerated() {
                group.addTask { (i, try await Self.readAll(joined.source)) }
            }
            var people: [SourceRecord] = []
            var indexes = [Index](repeating: Index(), count: joined.count)
            for try await (i, records) in group {
                if i < 0 { people = records } else { indexes[i] = index(records, of: joined[i].member) }
            }
            return (people, indexes)
        }
    }

    /// One primary record with its matches, and the matched records noted in `used`.
    func merge(
        _ person: SourceRecord, indexes: [Index], used: inout [Set<Int>], schemas: inout SchemaCache
    ) -> SourceRecord {
        var matches: [SourceRecord?] = []
        var problems: [String] = []
        for (i, joined) in joined.enumerated() {
            let key = joined.member.to.flatMap { Self.key(of: person, attribute: $0, joined.member) }
            let found = key.flatMap { indexes[i].byKey[$0] } ?? []
            for position in found { used[i].insert(position) }
            if found.count > 1 && !joined.member.firstOfDuplicates {
                let places = found.prefix(3).map { Self.place(indexes[i].records[$0]) }.joined(separator: " and ")
                problems.append(
                    "matches \(found.count) records of \(joined.member.name) (\(places)); "
                        + "fix the data, or set `on_duplicate: first` on \(joined.member.name)")
            }
            matches.append(found.first.map { indexes[i].records[$0] })
        }
        return schemas.merge(person, matches, problem: problems.isEmpty ? nil : problems.joined(separator: "; "))
    }

    /// Notes, at the end of a read, the joined records nobody matched.
    func finish(indexes: [Index], used: [Set<Int>]) {
        outcome.unmatched.withLock { unmatched in
            unmatched = joined.indices.compactMap { i in
                let ids = indexes[i].records.indices.filter { !used[i].contains($0) && indexes[i].kept[$0] }.map {
                    Self.place(indexes[i].records[$0])
                }
                return ids.isEmpty ? nil : Unmatched(source: joined[i].member.name, ids: ids)
            }
        }
    }

    /// Every record of a source; a chunk at a time when it hands chunks over.
    private static func readAll(_ source: some UserSource) async throws -> [SourceRecord] {
        let sequence = source.records()
        if let chunked = sequence as? any ChunkedRecordSequence { return try await readChunks(chunked) }
        var records: [SourceRecord] = []
        for try await record in sequence { records.append(record) }
        return records
    }

    private static func readChunks(_ sequence: some ChunkedRecordSequence) async throws -> [SourceRecord] {
        var iterator = sequence.makeChunkIterator()
        var records: [SourceRecord] = []
        while let chunk = try await iterator.nextChunk() { records += chunk }
        return records
    }

    private func index(_ records: [SourceRecord], of member: JoinSettings.Member) -> Index {
        var index = Index()
        index.records = records
        index.kept = records.map { member.filter.keeps($0) }
        for (position, record) in records.enumerated() where index.kept[position] {
            if let key = member.attribute.flatMap({ Self.key(of: record, attribute: $0, member) }) {
                index.byKey[key, default: []].append(position)
            }
        }
        return index
    }

    /// A record's join key: the attribute's first value, trimmed, case-folded unless the join minds case.
    static func key(of record: SourceRecord, attribute: String, _ member: JoinSettings.Member) -> String? {
        guard let position = record.schema.position(of: attribute),
            let text = record.values[position]?.texts.first?.trimmingCharacters(in: .whitespacesAndNewlines),
            !text.isEmpty
        else { return nil }
        return member.caseSensitive ? text : text.lowercased()
    }

    /// How a joined record is named in messages: its id, or its place.
    static func place(_ record: SourceRecord) -> String {
        record.id.isEmpty ? (record.location?.description ?? "a record without an id") : record.id
    }

    /// What a read found besides its records. Safety of sharing: the value sits in a `Mutex`.
    private final class Outcome: Sendable {
        let unmatched = Mutex<[Unmatched]>([])
    }
}

/// The merged schemas of a read, one per combination of the sources' schemas.
struct SchemaCache {
    let primaryName: String
    let joined: [String]
    private var cache: [[ObjectIdentifier?]: AttributeSchema] = [:]

    init(primaryName: String, joined: [String]) {
        self.primaryName = primaryName
        self.joined = joined
    }

    /// The primary record with its matches' values, each joined source's attributes prefixed with
    /// its name, and the primary's both bare and prefixed.
    mutating func merge(_ person: SourceRecord, _ matches: [SourceRecord?], problem: String?) -> SourceRecord {
        let key =
            [ObjectIdentifier(person.schema)] + matches.map { $0.map { ObjectIdentifier($0.schema) } }
            + [problem == nil ? nil : ObjectIdentifier(SchemaCache.self)]
        let schema: AttributeSchema
        if let cached = cache[key] {
            schema = cached
        } else {
            var names = person.schema.names + person.schema.names.map { "\(primaryName).\($0)" }
            for (name, match) in zip(joined, matches) {
                if let match { names += match.schema.names.map { "\(name).\($0)" } }
            }
            if problem != nil { names.append(JoinedSource.problemAttribute) }
            schema = AttributeSchema(names)
            cache[key] = schema
        }
        var values = person.values + person.values
        for match in matches { if let match { values += match.values } }
        if let problem { values.append(.text(problem)) }
        return SourceRecord(id: person.id, schema: schema, values: values, location: person.location)
    }
}
