import CLDAP
import ConnectorCore
import Foundation

/// Which entries a `groups:` setting admits: the listed groups, and groups
/// nested in them up to the configured depth, read once before the search.
struct GroupScope {
    /// Normalised DNs of the groups that count (listed and nested).
    var groups: Set<String>
    /// Normalised DNs of their members that are not groups themselves.
    var members: Set<String>

    /// Reads every group under the group base once, then follows nesting in memory.
    static func resolve(_ source: LDAPSource, on connection: LDAPConnection) throws -> GroupScope {
        let base = source.groupBaseDN ?? parent(of: source.groups[0])
        let memberLists: [String: [String]]
        do {
            memberLists = try readMemberLists(
                under: base, on: connection, pageSize: source.pageSize, ranged: source.isActiveDirectory)
        } catch var error as SyncError {
            error.hint = "groups are searched under \(base): check source.groups, or set source.group_base_dn"
            throw error
        }
        for group in source.groups {
            source.logger?.debug(
                "\(group): \(memberLists[normalise(group)]?.count ?? 0) members\(source.isActiveDirectory ? ", read in ranges of \(rangeSize)" : "")"
            )
        }
        var scope = GroupScope(groups: [], members: [])
        var level = Set(source.groups.map(normalise))
        for group in level where memberLists[group] == nil {
            throw SyncError(
                .source, "the group \(group) was not found under \(base) on \(source.urls[0])",
                hint: "check source.groups, or set source.group_base_dn to where the groups are")
        }
        var depth = 0
        while !level.isEmpty {
            scope.groups.formUnion(level)
            var next: Set<String> = []
            for group in level {
                for member in memberLists[group] ?? [] {
                    let dn = normalise(member)
                    if memberLists[dn] != nil {
                        if depth < source.nestedGroupDepth && !scope.groups.contains(dn) { next.insert(dn) }
                    } else {
                        scope.members.insert(dn)
                    }
                }
            }
            level = next
            depth += 1
        }
        return scope
    }

    /// The values Active Directory returns of one attribute at a time (its MaxValRange).
    static let rangeSize = 1500

    /// Every group under `base`, by normalised DN, with its member DNs. With `ranged` (Active Directory),
    /// `member` is asked for in ranges of ``rangeSize`` from the start, as AD answers a large group
    /// anyway; Samba returns every value to a plain request, so asking the same way tests AD's path.
    private static func readMemberLists(
        under base: String, on connection: LDAPConnection, pageSize: Int, ranged: Bool
    ) throws -> [String: [String]] {
        var memberLists: [String: [String]] = [:]
        try connection.pagedSearch(
            base: base, scope: LDAP_SCOPE_SUBTREE,
            filter: "(|(objectClass=group)(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))",
            attributes: [ranged ? "member;range=0-\(rangeSize - 1)" : "member", "uniqueMember"],
            pageSize: Int32(pageSize)
        ) { entry in
            memberLists[normalise(entry.dn)] = entry.attributes.filter {
                $0.name.caseInsensitiveCompare("member") == .orderedSame
                    || $0.name.caseInsensitiveCompare("uniqueMember") == .orderedSame
            }.flatMap(\.values).compactMap { value -> String? in
                if case .text(let text) = value { return text }
                return nil
            }
        }
        return memberLists
    }

    /// Whether an entry is in scope, by its `memberOf` values or by the groups' member lists.
    func admits(_ entry: LDAPConnection.Entry, membership: LDAPSource.GroupMembership) -> Bool {
        switch membership {
        case .member:
            return members.contains(Self.normalise(entry.dn))
        case .memberOf:
            let memberOf =
                entry.attributes.first { $0.name.caseInsensitiveCompare("memberOf") == .orderedSame }?.values ?? []
            return memberOf.contains { value in
                if case .text(let dn) = value { return groups.contains(Self.normalise(dn)) }
                return false
            }
        }
    }

    /// A DN for comparison: libldap's LDAPv3 normal form (escapes and spacing made uniform), lower-cased.
    static func normalise(_ dn: String) -> String {
        var out: UnsafeMutablePointer<CChar>?
        guard ldap_dn_normalize(dn, UInt32(LDAP_DN_FORMAT_LDAPV3), &out, UInt32(LDAP_DN_FORMAT_LDAPV3)) == LDAP_SUCCESS,
            let out
        else { return dn.lowercased() }
        defer { ldap_memfree(out) }
        return String(cString: out).lowercased()
    }

    /// The DN one level up.
    static func parent(of dn: String) -> String {
        var escaped = false
        for (offset, character) in dn.enumerated() {
            if escaped { escaped = false; continue }
            if character == "\\" { escaped = true; continue }
            if character == "," { return String(dn.dropFirst(offset + 1)) }
        }
        return dn
    }
}
