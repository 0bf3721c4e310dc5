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
        // Fail closed: slapd answers a cookie whose CSN it cannot read as no cookie at all, every entry
        // "added" and no deletes named, which would leave the deleted looking unchanged.
        guard let cookie = Data(base64Encoded: position.cookie), let sent = Self.csns(of: cookie) else {
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
            } catch  where read.connection.lastFailure == LDAP_UNWILLING_TO_PERFORM {
                // slapd refuses a cookie from its future ("consumer state is newer than provider").
                return .needsFullRead(
                    reason: "the server refused the stored cookie (a restored database, or another server)")
            }
            guard let refresh else {
                return .needsFullRead(reason: "the server no longer knows the cookie (e-syncRefreshRequired)")
            }
            // The server's changes must reach at least as far as the cookie, for every server id it names: a
            // server that answers from an earlier state (a restored database, another server) tells nothing.
            let next = refresh.cookie.isEmpty ? cookie : refresh.cookie
            guard let reached = Self.csns(of: next),
                sent.allSatisfy({ sid, csn in reached[sid].map { $0 >= csn } ?? false })
            else {
                return .needsFullRead(
                    reason:
                        "the server's changes end before the stored cookie's (a restored database, or another server)")
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
                    feed: "syncrepl", server: position.server, cookie: next.base64EncodedString()),
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

    /// The change sequence numbers of a syncprov cookie (`rid=000,csn=20261206194227.273500Z#000000#000#000000`,
    /// several joined by `;` for several providers), by server id; `nil` when it has none or one is not a
    /// CSN. A CSN's fields are fixed-width, so two compare as text.
    static func csns(of cookie: Data) -> [String: String]? {
        guard let text = String(data: cookie, encoding: .utf8),
            let field = text.split(separator: ",").first(where: { $0.hasPrefix("csn=") })
        else { return nil }
        var csns: [String: String] = [:]
        for csn in field.dropFirst(4).split(separator: ";") {
            let parts = csn.split(separator: "#", omittingEmptySubsequences: false)
            guard parts.count == 4, parts[0].count == 22, parts[0].hasSuffix("Z"), parts[2].count == 3,
                parts[0].dropLast().allSatisfy({ $0.isNumber || $0 == "." }),
                parts[1...].allSatisfy({ $0.allSatisfy(\.isHexDigit) })
            else { return nil }
            csns[String(parts[2])] = String(csn)
        }
        return csns.isEmpty ? nil : csns
    }

    /// A 16-byte UUID (syncrepl's entryUUID) as entryUUID writes it: RFC 4122, lower-case.
    static func uuidString(_ bytes: Data) -> String {
        bytes.withUnsafeBytes { UUID(uuid: $0.loadUnaligned(as: uuid_t.self)) }.uuidString.lowercased()
    }
}
