import CLDAP
import ConnectorCore
import Foundation

/// One connection's read of a directory with a job's settings: bound, the attributes the job needs
/// asked for, disabled accounts and group scope applied, the entries a mapping follows read once.
///
/// Not thread-safe: made, used and dropped on the one thread that reads a source.
final class DirectoryRead {
    let source: LDAPSource
    let connection: LDAPConnection
    /// The attributes asked for, and how an entry becomes a record.
    let layout: LDAPValues
    /// Group scope read from the groups, or `nil` (no groups, or scoped in the search itself).
    private let scope: GroupScope?
    /// Whether group scope is in the search filter (the in-chain rule).
    private let inChain: Bool
    /// Entries a mapping follows a DN to (`manager`), by normalised DN and attribute.
    private var followed: [String: AttributeValue?] = [:]

    /// Connects, binds and resolves the job's group scope.
    init(_ source: LDAPSource) throws {
        self.source = source
        let options = LDAPConnection.Options(
            startTLS: source.startTLS, caFile: source.caFile, verifyCertificates: source.verifyCertificates,
            timeoutSeconds: source.timeoutSeconds)
        connection = try LDAPConnection(url: source.urls.joined(separator: " "), options: options)
        connection.logger = source.logger
        if let kerberos = source.kerberos {
            try connection.bind(kerberos: kerberos)
        } else {
            try connection.bind(dn: source.bindDN, password: source.bindPassword)
        }
        try connection.readAhead(bytes: 1 << 16)
        var requested = source.attributes
        let flags =
            source.attributes.contains { $0.caseInsensitiveCompare(AccountFlags.attribute) == .orderedSame }
            ? AccountFlags.sources : []
        for extra in [source.idAttribute] + (source.excludeDisabled ? ["userAccountControl"] : []) + flags
            + (!source.groups.isEmpty && source.groupMembership == .memberOf ? ["memberOf"] : [])
        where !requested.contains(where: { $0.caseInsensitiveCompare(extra) == .orderedSame }) {
            requested.append(extra)
        }
        inChain = source.scopesInChain
        scope = try source.groups.isEmpty || inChain ? nil : GroupScope.resolve(source, on: connection)
        if inChain {
            // Fail closed: a group that is not there would match nobody, read as "everyone left".
            for group in source.groups where try connection.entry(at: group, attributes: ["objectClass"]) == nil {
                throw SyncError(
                    .source, "the group \(group) was not found on \(source.urls[0])",
                    hint: "check source.groups: each must be a group's full DN; nothing was sent")
            }
            source.logger?.debug("groups at any depth by the in-chain matching rule, in the search itself")
        }
        layout = LDAPValues(attributes: requested, idAttribute: source.idAttribute)
    }

    /// The job's filter as the server evaluates it.
    var filter: String { inChain ? source.inChainFilter : source.filter }

    /// The records of the entries under `base` (or at it, for a base search) that the job counts.
    /// - Parameter counts: whether an entry's DN is one the job reads (a change read's entries, read
    ///   at their own DN, are checked against the job's base and scope).
    /// - Parameter narrowedBy: a filter the job's is narrowed by, such as `(manager=DN)`.
    func records(
        under base: String, scope depth: Int32, counts: (String) -> Bool = { _ in true }, narrowedBy: String? = nil,
        each: (SourceRecord) throws -> Void
    ) throws {
        let own = filter.hasPrefix("(") ? filter : "(\(filter))"
        try connection.pagedSearch(
            base: base, scope: depth, filter: narrowedBy.map { "(&\(own)\($0))" } ?? filter,
            attributes: layout.serverAttributes,
            pageSize: Int32(source.pageSize)
        ) { entry in
            guard counts(entry.dn), let record = try record(of: entry) else { return }
            try each(record)
        }
    }

    /// The record of an entry the server returned, or `nil` when the job does not count it (a
    /// disabled account, or one outside the groups).
    func record(of entry: LDAPConnection.Entry) throws -> SourceRecord? {
        if source.excludeDisabled, LDAPValues.isDisabled(entry) { return nil }
        if let scope, !scope.admits(entry, membership: source.groupMembership) { return nil }
        return try layout.record(entry, follow: follow)
    }

    /// Says what the read followed, at debug level.
    func finish() {
        if !followed.isEmpty {
            source.logger?.debug("read \(followed.count) entries that mappings follow (manager)")
        }
    }

    /// An attribute of the entry `dn` names, read once however many people name it.
    private func follow(_ dn: String, _ attribute: String) throws -> AttributeValue? {
        let key = GroupScope.normalise(dn) + "\u{0}" + attribute.lowercased()
        if let known = followed[key] { return known }
        let found = try connection.entry(at: dn, attributes: [attribute]).flatMap { entry in
            entry.attributes.first { $0.name.caseInsensitiveCompare(attribute) == .orderedSame }
                .map { LDAPValues.value(LDAPValues.Kind(attribute), $0.values) }
        }
        followed[key] = found
        return found
    }
}
