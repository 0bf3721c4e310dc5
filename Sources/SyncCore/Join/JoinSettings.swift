import ConnectorCore

/// A job's `sources:`: several named sources, one of them primary, the others joined to it.
///
/// The primary alone decides who exists and gives the source id. Each other source names its
/// attribute and the primary's to compare (after trimming; without regard to case unless
/// `case_sensitive: true`). The mapping reads `NAME.attribute`; a bare name is the primary's.
public struct JoinSettings: Sendable {
    /// One named source of a job.
    public struct Member: Sendable {
        /// Its name in the job (`hr`, `ad`): the prefix of its attributes in the mapping.
        public var name: String
        /// Its section, read by the connector its `type:` names.
        public var node: ConfigNode
        /// Its `type:`.
        public var type: String
        /// For a joined source: its attribute compared (`join.attribute`).
        public var attribute: String?
        /// For a joined source: the primary's attribute it is compared with (`join.to`).
        public var to: String?
        /// Whether the comparison minds case (`join.case_sensitive`).
        public var caseSensitive = false
        /// Whether a second record that matches one primary person is ignored (`on_duplicate: first`)
        /// rather than making that person invalid.
        public var firstOfDuplicates = false
        /// Which of its records count (`include:`, `exclude:`).
        public var filter = RecordFilter()
        /// For a joined source: the fewest records that count it may give a run (`min_records`);
        /// the primary's is the job's `source.min_records`.
        public var minRecords: Int?

        /// A member named `name`, of `type`, written at `node`.
        public init(name: String, node: ConfigNode, type: String) {
            self.name = name
            self.node = node
            self.type = type
        }
    }

    /// The primary source.
    public var primary: Member
    /// The joined sources, in file order.
    public var secondaries: [Member]

    /// Settings made in code.
    public init(primary: Member, secondaries: [Member]) {
        self.primary = primary
        self.secondaries = secondaries
    }

    /// Every member, the primary first.
    public var members: [Member] { [primary] + secondaries }

    /// Reads `sources:`.
    package init(node: ConfigNode) throws {
        let section = try node.section()
        var primary: Member?
        var secondaries: [Member] = []
        for name in section.keys {
            guard let member = section.node(name) else { continue }
            guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                throw member.error(
                    "is not a usable source name", hint: "name sources with letters, digits and _ (hr, ad, badges)")
            }
            let fields = try member.section()
            let type = try fields.requiredString("type", hint: "see `compliance-sync connectors` for the types")
            var read = Member(name: name, node: member, type: type)
            read.filter = try RecordFilter(section: fields)
            if try fields.bool("primary") == true {
                if let first = primary {
                    throw member.error(
                        "is a second primary source (\(first.name) is one)",
                        hint: "exactly one source is `primary: true`: the one that decides who exists")
                }
                if fields.has("join") {
                    throw member.error("is the primary source: it joins nothing", hint: "remove its `join:`")
                }
                primary = read
                continue
            }
            guard let join = try fields.section("join") else {
                throw member.error(
                    "needs `join:` (or `primary: true`)",
                    hint: "for example `join: { attribute: employeeNumber, to: employee_number }`")
            }
            read.attribute = try join.requiredString("attribute", hint: "this source's attribute to compare")
            read.to = try join.requiredString("to", hint: "the primary source's attribute it matches")
            read.caseSensitive = try join.bool("case_sensitive") ?? false
            try join.finish()
            read.firstOfDuplicates = try fields.choice("on_duplicate", ["invalid", "first"]) == "first"
            read.minRecords = try fields.int("min_records", in: 0...Int.max)
            secondaries.append(read)
        }
        guard let primary else {
            throw node.error(
                "has no primary source", hint: "mark the source that decides who exists with `primary: true`")
        }
        self.primary = primary
        self.secondaries = secondaries
    }

    /// The member an attribute name of the mapping belongs to, and the name within it:
    /// `ad.mail` is `ad`'s `mail`; a bare name (or one whose prefix names no source) is the primary's.
    public func member(of attribute: String) -> (member: String, name: String) {
        if let dot = attribute.firstIndex(of: "."), members.contains(where: { $0.name == attribute[..<dot] }) {
            return (String(attribute[..<dot]), String(attribute[attribute.index(after: dot)...]))
        }
        return (primary.name, attribute)
    }

    /// The attributes one member must fetch: those of the mapping (and `dates:`) that are its, those
    /// its `include:`/`exclude:` test, and those its join compares.
    public func attributes(of name: String, mapped: [String]) -> [String] {
        var names: [String] = []
        func add(_ attribute: String) { if !names.contains(attribute) { names.append(attribute) } }
        for attribute in mapped {
            let (owner, own) = member(of: attribute)
            if owner == name { add(own) }
        }
        for attribute in members.first(where: { $0.name == name })?.filter.attributes ?? [] { add(attribute) }
        if name == primary.name {
            for secondary in secondaries { if let to = secondary.to { add(to) } }
        } else if let attribute = secondaries.first(where: { $0.name == name })?.attribute {
            add(attribute)
        }
        return names
    }
}
