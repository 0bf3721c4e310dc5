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
public struct JoinedSource: JoinReporting {
    /// A source joined to the primary.
    public struct Joined: Sendable {
        /// Its settings.
        public var member: JoinSettings.Member
        /// The source itself.
        public var source: any UserSource

        /// A source joined by its settings.
        public init(member: JoinSettings.Member, source: any UserSource) {
            self.member = member
            self.source = source
        }
    }

    /// The records of a joined source no primary record matched, after a read.
    public struct Unmatched: Sendable, Hashable {
        /// The joined source's name.
        public var source: String
        /// Their source ids (or places, for records without one), in the order read.
        public var ids: [String]
    }

    /// What one joined source gave a read: its records that count, and how many of them matched someone.
    public struct MemberCount: Sendable, Hashable {
        /// The joined source's name.
        public var source: String
        /// Its records that count (its `include:`/`exclude:` applied).
        public var records: Int
        /// Of those, the ones that matched a primary record.
        public var matched: Int
        /// Its `min_records`, if it has one.
        public var minRecords: Int?
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

    /// What each joined source gave the last read, in file order.
    public var counts: [MemberCount] { outcome.counts.withLock { $0 } }

    /// The sources each mapped field reads, by field: a bare attribute is the primary's, `hr.title` is `hr`'s.
    public func fieldSources(of mappings: [FieldMapping]) -> [String: [String]] {
        let names = Set(joined.map(\.member.name))
        func member(of attribute: String) -> String {
            guard let dot = attribute.firstIndex(of: "."), names.contains(String(attribute[..<dot])) else {
                return primaryName
            }
            return String(attribute[..<dot])
        }
        var sources: [String: [String]] = [:]
        for mapping in mappings {
            var read: [String] = []
            for attribute in mapping.attributes where !read.contains(member(of: attribute)) {
                read.append(member(of: attribute))
            }
            sources[mapping.field] = read
        }
        return sources
    }

    public func records() -> JoinedRecords { JoinedRecords(source: self) }

    // MARK: - Reading

    /// One joined source, read whole: its records by join key.
    struct Index: Sendable {
        var records: [SourceRecord] = []
        /// Whether each record counts (its source's `include:`/`exclude:`).
        var kept: [Bool] = []
        var byKey: [String: [Int]] = [:]
        /// Which attributes its filter tests the records carried.
        var sightings = FilterSightings(RecordFilter())

        /// Keeps a record and, for a joined source, indexes it by its join key if it counts.
        mutating func add(_ record: SourceRecord, _ member: JoinSettings.Member?) {
            records.append(record)
            guard let member else { return }
            if records.count == 1 { sightings = FilterSightings(member.filter) }
            sightings.note(record)
            let counts = member.filter.isEmpty || member.filter.keeps(record)
            kept.append(counts)
            if counts, let attribute = member.attribute,
                let key = JoinedSource.key(of: record, attribute: attribute, member)
            {
                byKey[key, default: []].append(records.count - 1)
            }
        }
    }

    /// Every source read to its end, all at once: the primary's records and each joined source's
    /// index, built as its records arrive.
    func readEverything() async throws -> (people: [SourceRecord], indexes: [Index]) {
        try await withThrowingTaskGroup(of: (Int, Index).self) { group in
            group.addTask { (-1, try await Self.read(primary, member: nil)) }
            for (i, joined) in joined.enumerated() {
                group.addTask { (i, try await Self.read(joined.source, member: joined.member)) }
            }
            var people: [SourceRecord] = []
            var indexes = [Index](repeating: Index(), count: joined.count)
            for try await (i, index) in group {
                if i < 0 { people = index.records } else { indexes[i] = index }
            }
            try checkKeys(people, indexes)
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

    /// Fails closed on a join that cannot be what was meant, before anything is merged: a joined
    /// source none of whose records has its `join.attribute`, or a primary none of whose records has
    /// `join.to` (a misspelling, an attribute not fetched). Read as "nobody matched", either would
    /// send every person with that source's attributes absent.
    private func checkKeys(_ people: [SourceRecord], _ indexes: [Index]) throws {
        for (i, joined) in joined.enumerated() {
            let member = joined.member
            if !indexes[i].records.isEmpty, let condition = member.filter.untested(seen: indexes[i].sightings.seenNames)
            {
                throw RecordFilter.notCarried(
                    condition, records: indexes[i].records.count,
                    source: "\(joined.source.description) (\(member.name))")
            }
            let counted = indexes[i].kept.filter { $0 }.count
            guard counted > 0, !people.isEmpty, let attribute = member.attribute, let to = member.to else { continue }
            if indexes[i].byKey.isEmpty {
                throw member.node.error(
                    "joins on `\(attribute)`, but none of the \(counted) records of \(member.name) has a value of `\(attribute)`; nothing was sent",
                    hint: "check the spelling of join.attribute (an LDAP attribute's, a column's)")
            }
            if !people.contains(where: { Self.key(of: $0, attribute: to, member) != nil }) {
                throw member.node.error(
                    "joins to `\(to)`, but none of the \(people.count) records of \(primaryName) has a value of `\(to)`; nothing was sent",
                    hint: "check the spelling of join.to: the attribute of the primary source, \(primaryName)")
            }
        }
    }

    /// Notes, at the end of a read, the joined records nobody matched.
    /// - Throws: when a joined source with keys matched nobody at all: its keys and the primary's never
    ///   meet (`E1001` against `1001`, an attribute of another meaning), which no run should act on.
    func finish(people: Int, indexes: [Index], used: [Set<Int>]) throws {
        // An empty primary is the empty-source guard's to stop, with its own message.
        for (i, joined) in joined.enumerated() where people > 0 && used[i].isEmpty && !indexes[i].byKey.isEmpty {
            let member = joined.member
            throw member.node.error(
                "no record of \(member.name) matched anyone in \(primaryName): its `\(member.attribute ?? "")` values never "
                    + "equal \(primaryName)'s `\(member.to ?? "")`; nothing was sent",
                hint: "compare a value of each (E1001 and 1001 differ: make them alike in the query or with another "
                    + "attribute), or check join.attribute and join.to")
        }
        outcome.counts.withLock { counts in
            counts = joined.indices.map { i in
                MemberCount(
                    source: joined[i].member.name, records: indexes[i].kept.filter { $0 }.count,
                    matched: used[i].count, minRecords: joined[i].member.minRecords)
            }
        }
        outcome.unmatched.withLock { unmatched in
            unmatched = joined.indices.compactMap { i in
                let ids = indexes[i].records.indices.filter { !used[i].contains($0) && indexes[i].kept[$0] }.map {
                    Self.place(indexes[i].records[$0])
                }
                return ids.isEmpty ? nil : Unmatched(source: joined[i].member.name, ids: ids)
            }
        }
    }

    /// Every record of a source, a chunk at a time when it hands chunks over, indexed by the
    /// member's join key as they arrive (the primary, `member` nil, is only kept).
    private static func read(_ source: some UserSource, member: JoinSettings.Member?) async throws -> Index {
        var index = Index()
        let sequence = source.records()
        if let chunked = sequence as? any ChunkedRecordSequence {
            try await readChunks(chunked, into: &index, member: member)
        } else {
            for try await record in sequence { index.add(record, member) }
        }
        return index
    }

    private static func readChunks(
        _ sequence: some ChunkedRecordSequence, into index: inout Index, member: JoinSettings.Member?
    ) async throws {
        var iterator = sequence.makeChunkIterator()
        while let chunk = try await iterator.nextChunk() {
            index.records.reserveCapacity(index.records.count + chunk.count)
            for record in chunk { index.add(record, member) }
        }
    }

    /// A record's join key: the attribute's first value, trimmed, case-folded unless the join minds case.
    static func key(of record: SourceRecord, attribute: String, _ member: JoinSettings.Member) -> String? {
        guard let position = record.schema.position(of: attribute), let value = record.values[position] else {
            return nil
        }
        let raw: String?
        switch value {
        case .text(let text): raw = text
        case .multiple(let values): raw = values.first
        case .binary: raw = value.texts.first
        }
        guard let raw else { return nil }
        let text = FastText.trimmed(raw)
        guard !text.isEmpty else { return nil }
        return member.caseSensitive ? text : FastText.lowercased(text)
    }

    /// How a joined record is named in messages: its id, or its place.
    static func place(_ record: SourceRecord) -> String {
        record.id.isEmpty ? (record.location?.description ?? "a record without an id") : record.id
    }

    /// What a read found besides its records. Safety of sharing: the value sits in a `Mutex`.
    private final class Outcome: Sendable {
        let unmatched = Mutex<[Unmatched]>([])
        let counts = Mutex<[MemberCount]>([])
    }
}
