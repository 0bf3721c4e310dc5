import ConnectorCore

/// The merged schemas of a read, one per combination of the sources' schemas.
struct SchemaCache {
    let primaryName: String
    let joined: [String]
    private var cache: [[ObjectIdentifier?]: AttributeSchema] = [:]
    // perf: the last combination, found without building a key: most records share their schemas.
    private var last: (person: AttributeSchema, matches: [AttributeSchema?], problem: Bool, schema: AttributeSchema)?

    init(primaryName: String, joined: [String]) {
        self.primaryName = primaryName
        self.joined = joined
    }

    /// The primary record with its matches' values, each joined source's attributes prefixed with
    /// its name; the primary's are there by their bare names and, as aliases, prefixed.
    mutating func merge(_ person: SourceRecord, _ matches: [SourceRecord?], problem: String?) -> SourceRecord {
        let schema = self.schema(person.schema, matches.map { $0?.schema }, problem: problem != nil)
        var values = person.values
        values.reserveCapacity(schema.names.count)
        for match in matches { if let match { values += match.values } }
        if let problem { values.append(.text(problem)) }
        return SourceRecord(id: person.id, schema: schema, values: values, location: person.location)
    }

    private mutating func schema(_ person: AttributeSchema, _ matches: [AttributeSchema?], problem: Bool)
        -> AttributeSchema
    {
        if let last, last.person === person, last.problem == problem, last.matches.count == matches.count,
            zip(last.matches, matches).allSatisfy({ $0 === $1 })
        {
            return last.schema
        }
        let key =
            [ObjectIdentifier(person)] + matches.map { $0.map(ObjectIdentifier.init) }
            + [problem ? ObjectIdentifier(SchemaCache.self) : nil]
        let schema: AttributeSchema
        if let cached = cache[key] {
            schema = cached
        } else {
            var names = person.names
            var aliases: [String: Int] = [:]
            for (i, name) in person.names.enumerated() { aliases["\(primaryName).\(name)"] = i }
            for (name, match) in zip(joined, matches) {
                if let match { names += match.names.map { "\(name).\($0)" } }
            }
            if problem { names.append(JoinedSource.problemAttribute) }
            schema = AttributeSchema(names, aliases: aliases)
            cache[key] = schema
        }
        last = (person, matches, problem, schema)
        return schema
    }
}
