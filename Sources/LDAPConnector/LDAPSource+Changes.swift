import CLDAP
import ConnectorCore
import Foundation

/// A directory's change feed (`source.changes`): Active Directory's DirSync here, OpenLDAP's
/// syncrepl in LDAPSource+SyncRepl.
///
/// DirSync: each run asks the domain controller for what changed since the last run's cookie, and
/// reads each changed entry again at its own DN with the job's filter, scope and groups, so that the
/// server decides who the job counts exactly as a full read would: an entry deleted, disabled, moved
/// out of the base or out of the filter is gone. A change the feed cannot place (the members of a
/// scoping group) means a full read.
extension LDAPSource: ChangeFeedSource {
    /// How a job reads changes (`source.changes`).
    public enum ChangeMode: String, Sendable, CaseIterable {
        /// Every run reads everything (the default).
        case off
        /// DirSync on Active Directory (`id: objectGUID`), syncrepl elsewhere (`id: entryUUID`).
        case auto
        /// Active Directory's DirSync control (the account needs "Replicating Directory Changes").
        case dirsync
        /// OpenLDAP's syncrepl, refreshOnly (RFC 4533; the server's syncprov overlay).
        case syncrepl
    }

    public var changeFeed: String? {
        switch changeMode {
        case .off: nil
        case .dirsync: "dirsync"
        case .syncrepl: "syncrepl"
        case .auto:
            idAttribute.caseInsensitiveCompare("objectGUID") == .orderedSame
                ? "dirsync" : idAttribute.caseInsensitiveCompare("entryUUID") == .orderedSame ? "syncrepl" : nil
        }
    }

    public func currentPosition() async throws -> ChangeFeedPosition? {
        changeFeed == "syncrepl" ? try await syncReplPosition() : try await dirSyncPosition()
    }

    public func changes(since position: ChangeFeedPosition, reread: [String]) async throws -> ChangeRead {
        changeFeed == "syncrepl"
            ? try await syncReplChanges(since: position, reread: reread)
            : try await dirSyncChanges(since: position, reread: reread)
    }

    private func dirSyncPosition() async throws -> ChangeFeedPosition? {
        try await onReaderThread { [self] in
            let read = try DirectoryRead(self)
            let (root, server) = try domain(of: read.connection)
            guard try read.connection.seesDeletedObjects(in: root) else {
                logger?.warning("source.changes: \(Self.unseenDeletes(bindDN, root)), so every run reads everything")
                return nil
            }
            do {
                // From an empty cookie DirSync lists every change since the domain began: a filter that
                // matches nothing makes it walk them on the server and answer only the cookie.
                let cookie = try read.connection.dirSync(
                    base: root, filter: "(&(objectClass=top)(!(objectClass=top)))", attributes: ["objectGUID"],
                    cookie: Data()
                ) { _ in }
                return ChangeFeedPosition(feed: "dirsync", server: server, cookie: cookie.base64EncodedString())
            } catch  where read.connection.lastFailure == LDAP_INSUFFICIENT_ACCESS {
                logger?.warning(
                    """
                    source.changes: \(bindDN ?? "the account") may not read changes with DirSync (it needs \
                    "Replicating Directory Changes" on \(root)), so every run reads everything
                    """)
                return nil
            }
        }
    }

    private func dirSyncChanges(since position: ChangeFeedPosition, reread: [String]) async throws -> ChangeRead {
        try await onReaderThread { [self] in
            let read = try DirectoryRead(self)
            let (root, server) = try domain(of: read.connection)
            guard server == position.server else {
                return .needsFullRead(reason: "the domain controller is another one (\(server))")
            }
            guard let cookie = Data(base64Encoded: position.cookie) else {
                return .needsFullRead(reason: "the stored DirSync cookie cannot be read")
            }
            guard try read.connection.seesDeletedObjects(in: root) else {
                return .needsFullRead(reason: Self.unseenDeletes(bindDN, root))
            }
            var changed: [(id: String, dn: String)] = []
            var gone: Set<String> = []
            var groupChanged: String?
            var followedMoved = false
            let follows = !followedAttributes.isEmpty
            var entries = 0
            let next: Data
            do {
                next = try read.connection.dirSync(
                    base: root, filter: "(objectClass=*)", attributes: [], cookie: cookie
                ) {
                    entry in
                    entries += 1
                    logger?.trace("dirsync: \(entry.dn) \(entry.attributes.map(\.name))")
                    // Fail closed: a change that names no one cannot be placed, and might be a delete.
                    guard let id = Self.guid(of: entry) else {
                        throw SyncError(
                            .source,
                            "a DirSync answer of \(urls[0]) holds \(entry.dn) without its objectGUID; nothing was sent",
                            hint: "set source.changes: off and report this")
                    }
                    // A DN a mapping may follow went away (deleted, renamed, moved): who named it is unknown.
                    if follows, entry.attributes.contains(where: { ["isDeleted", "name"].contains($0.name) }) {
                        followedMoved = true
                    }
                    if entry.attributes.contains(where: { $0.name == "isDeleted" }) {
                        gone.insert(id)
                    } else {
                        if entry.attributes.contains(where: { LDAPValues.baseName($0.name).lowercased() == "member" }),
                            scopes(byGroup: entry.dn)
                        {
                            groupChanged = entry.dn
                        }
                        changed.append((id, entry.dn))
                    }
                }
            } catch
                where [
                    LDAP_INSUFFICIENT_ACCESS, LDAP_UNWILLING_TO_PERFORM, LDAP_PROTOCOL_ERROR,
                    LDAP_UNAVAILABLE_CRITICAL_EXTENSION,
                ]
                .contains(read.connection.lastFailure)
            {
                return .needsFullRead(reason: "the domain controller refused the DirSync cookie (\(error))")
            }
            if followedMoved {
                return .needsFullRead(reason: "an entry was deleted, renamed or moved, and a mapping follows DNs")
            }
            if let groupChanged {
                return .needsFullRead(reason: "the members of \(groupChanged), which scopes the job, changed")
            }
            // Entries outside the base are gone as they are; the rest, and those the engine asks for, are
            // read again at their own DN with the job's filter: the server decides, as in a full read.
            var ids: [String] = []
            for (id, dn) in changed {
                if counts(dn) { ids.append(id) } else { gone.insert(id) }
            }
            for followed in followedAttributes where !changed.isEmpty {
                for (_, dn) in changed {
                    try read.records(
                        under: baseDN, scope: scope.value, narrowedBy: "(\(followed)=\(Self.escapedFilterValue(dn)))"
                    ) { ids.append($0.id) }
                }
            }
            var records: [String: SourceRecord] = [:]
            for id in Set(ids + reread) where records[id] == nil {
                var found = false
                do {
                    try read.records(under: "<GUID=\(id)>", scope: LDAP_SCOPE_BASE, counts: counts) {
                        records[$0.id] = $0
                        found = true
                    }
                } catch  where read.connection.lastFailure == LDAP_NO_SUCH_OBJECT {}
                if found { gone.remove(id) } else { gone.insert(id) }
            }
            read.finish()
            return .changes(
                SourceChanges(
                    records: Array(records.values), gone: Array(gone),
                    position: ChangeFeedPosition(feed: "dirsync", server: server, cookie: next.base64EncodedString()),
                    entriesRead: entries + records.count))
        }
    }

    /// Why a feed that may miss deletes is not used.
    private static func unseenDeletes(_ account: String?, _ root: String) -> String {
        "\(account ?? "the account") sees no deleted object in \(root) (it may not list CN=Deleted Objects, or "
            + "nothing was ever deleted), so a change read could miss a delete"
    }

    /// The domain's root (where DirSync reads) and the domain controller answering.
    private func domain(of connection: LDAPConnection) throws -> (root: String, server: String) {
        let dse = try connection.rootDSE()
        guard let root = dse.namingContext, let server = dse.server else {
            throw SyncError(
                .source, "\(urls[0]) does not say its naming context and name, as Active Directory does",
                hint: "source.changes: dirsync needs an Active Directory domain controller; set source.changes: off")
        }
        return (root, server)
    }

    /// Whether an entry at `dn` is one the job reads: under `base_dn` as `scope` says.
    func counts(_ dn: String) -> Bool {
        let entry = GroupScope.normalise(dn)
        let base = GroupScope.normalise(baseDN)
        switch scope {
        case .base: return entry == base
        case .one: return GroupScope.normalise(GroupScope.parent(of: dn)) == base
        case .sub: return entry == base || entry.hasSuffix("," + base)
        }
    }

    /// Whether a change to the members of the group at `dn` can change who the job counts.
    private func scopes(byGroup dn: String) -> Bool {
        guard !groups.isEmpty else { return false }
        if nestedGroupDepth > 0 { return true }
        return groups.map(GroupScope.normalise).contains(GroupScope.normalise(dn))
    }

    /// The attributes whose DN a mapping follows (`manager` of `manager->mail`).
    var followedAttributes: [String] {
        Array(Set(attributes.compactMap { LDAPValues.followed($0)?.source }))
    }

    /// An entry's `objectGUID` as its canonical string.
    private static func guid(of entry: LDAPConnection.Entry) -> String? {
        guard let value = entry.attributes.first(where: { $0.name == "objectGUID" })?.values.first else { return nil }
        return LDAPValues.guidString(value.data)
    }
}

/// Runs blocking libldap work on a thread of its own, off Swift's cooperative pool.
func onReaderThread<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.name = "ldap-reader"
        thread.start()
    }
}
