import CLDAP
import ConnectorCore
import Foundation

/// OpenLDAP's change feed, syncrepl in refreshOnly mode (RFC 4533; the server's syncprov overlay).
/// The search is the job's own (base, scope, filter), so the server decides who is in it: entries
/// added or changed come whole, and either the deleted ones are named (the session log covers the
/// cookie) or every entry still present is (the present phase), and any other is gone. A cookie the
/// server no longer knows (e-syncRefreshRequired) means a full read.
extension LDAPSource {
    func syncReplPosition() async throws -> ChangeFeedPosition? {
        try await onReaderThread { [self] in
            let read = try DirectoryRead(self)
            do {
                // From no cookie the server sends every entry: a filter that matches none gives the cookie alone.
                guard
                    let refresh = try read.connection.syncRefresh(
                        base: baseDN, scope: scope.value, filter: "(&(objectClass=*)(!(objectClass=*)))",
                        attributes: ["1.1"], cookie: Data(), each: { _, _ in })
                else { return nil }
                return ChangeFeedPosition(
                    feed: "syncrepl", server: urls.joined(separator: " "), cookie: refresh.cookie.base64EncodedString())
            } catch
                where [LDAP_UNAVAILABLE_CRITICAL_EXTENSION, LDAP_INSUFFICIENT_ACCESS, LDAP_UNWILLING_TO_PERFORM]
                .contains(read.connection.lastFailure)
            {
                logger?.warning(
                    """
                    source.changes: \(urls[0]) does not offer syncrepl to this account (it needs the syncprov \
                    overlay, and read access to the entries' entryCSN), so every run reads everything
                    """)
                return nil
            }
        }
    }

    func syncReplChanges(since position: ChangeFeedPosition, reread: [String]) async throws -> ChangeRead {
        if !groups.isEmpty && groupMembership == .member {
            return .needsFullRead(
                reason: "the job is scoped by groups' member lists, whose changes syncrepl does not report")
        }
        if !followedAttributes.isEmpty {
            return .needsFullRead(reason: "a mapping follows DNs, whose renames syncrepl does not report")
        }
        guard position.server == urls.joined(separator: " ") else {
            return .needsFullRead(reason: "the job reads another server")
        }
        guard let cookie = Data(base64Encoded: position.cookie) else {
            return .needsFullRead(reason: "the stored syncrepl cookie cannot be read")
        }
        return try await onReaderThread { [self] in
            let read = try DirectoryRead(self)
            var records: [String: SourceRecord] = [:]
            var gone: Set<String> = []
            var listed: Set<String> = []
            let refresh: LDAPConnection.SyncRefresh?
            do {
                refresh = try read.connection.syncRefresh(
                    base: baseDN, scope: scope.value, filter: read.filter, attributes: read.layout.serverAttributes,
                    cookie: cookie
                ) { entry, uuid in
                    let id = Self.uuidString(uuid)
                    listed.insert(id)
                    if let record = try read.record(of: entry) { records[record.id] = record } else { gone.insert(id) }
                }
            } catch  where read.connection.lastFailure == LDAP_SIZELIMIT_EXCEEDED {
                return .needsFullRead(reason: "the server's size limit cut the changes short")
            }
            guard let refresh else {
                return .needsFullRead(reason: "the server no longer knows the cookie (e-syncRefreshRequired)")
            }
            gone.formUnion(refresh.deleted.map(Self.uuidString))
            // People whose outcome was not final, read again whatever the feed says.
            for id in reread where records[id] == nil && !gone.contains(id) {
                var found = false
                try read.records(
                    under: baseDN, scope: scope.value, narrowedBy: "(entryUUID=\(Self.escapedFilterValue(id)))"
                ) {
                    records[$0.id] = $0
                    found = true
                }
                if !found { gone.insert(id) }
                listed.insert(id)
            }
            read.finish()
            var changes = SourceChanges(
                records: Array(records.values), gone: Array(gone),
                position: ChangeFeedPosition(
                    feed: "syncrepl", server: position.server, cookie: refresh.cookie.base64EncodedString()),
                entriesRead: refresh.returned + reread.count)
            if !refresh.refreshDeletes {
                // The present phase: everyone still there is named, changed or not; anyone else is gone.
                changes.present = refresh.present.map(Self.uuidString) + listed
                logger?.debug(
                    """
                    syncrepl: the server named the \(refresh.present.count) unchanged entries still present (its \
                    session log no longer covers the cookie): anyone else is gone
                    """)
            }
            return .changes(changes)
        }
    }

    /// A 16-byte UUID as entryUUID writes it (RFC 4122: lower-case hex, 8-4-4-4-12).
    static func uuidString(_ bytes: Data) -> String {
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        var out = ""
        for (i, character) in hex.enumerated() {
            if [8, 12, 16, 20].contains(i) { out.append("-") }
            out.append(character)
        }
        return out
    }
}
