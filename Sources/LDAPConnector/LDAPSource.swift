import CLDAP
import ConnectorCore
import Foundation
import Logging
import NetworkNames

/// People from an LDAP directory, OpenLDAP or Active Directory (`source.type: ldap`).
///
/// Settings: `url` (`ldap://` or `ldaps://`; a list for fail-over), `start_tls`,
/// `ca_file`, `tls_verify` (default true), `bind_dn` with `bind_password_env` or
/// `bind_password_file` (anonymous without) or `bind` (`mechanism: gssapi`, `keytab`,
/// `principal`: Kerberos, no password), `base_dn`, `scope` (`base`, `one`,
/// `sub`), `filter`, `attributes` (default: those the mapping reads), `id`
/// (default `entryUUID`; `objectGUID` for Active Directory), `page_size`
/// (default 500), `timeout_seconds` (default 30).
///
/// Active Directory and scoping: `exclude_disabled` (skip accounts whose
/// `userAccountControl` has bit 2 set, so they count as gone), `groups` (only
/// members of these group DNs), `group_membership` (`member_of`, the default,
/// reads each person's `memberOf`; `member` reads the groups' `member` lists,
/// for servers without `memberOf`), `nested_groups` (how many levels of groups
/// within groups count, default 0), `group_base_dn` (where groups are searched
/// for nesting; default the first group's parent).
///
/// Every page is read with the RFC 2696 paged-results control, so servers that
/// cap results per request are read whole; a failure on any page fails the read.
public struct LDAPSource: UserSource, SourceConnector {
    public static let type = "ldap"
    public static let summary =
        "an LDAP directory (OpenLDAP, Active Directory), paged: url, base_dn, filter, id, bind_dn"

    /// How far below the base a search looks.
    public enum Scope: String, Sendable {
        case base, one, sub
        var value: Int32 {
            switch self {
            case .base: LDAP_SCOPE_BASE
            case .one: LDAP_SCOPE_ONELEVEL
            case .sub: LDAP_SCOPE_SUBTREE
            }
        }
    }

    /// Server URLs, tried in order.
    public var urls: [String]
    /// Upgrade `ldap://` with StartTLS.
    public var startTLS = false
    /// The CA certificates that sign the server's certificate.
    public var caFile: String?
    /// Check the server's certificate (on by default; off only for tests).
    public var verifyCertificates = true
    /// Who to bind as; anonymous when `nil`.
    public var bindDN: String?
    /// The bind password.
    public var bindPassword: Secret?
    /// A Kerberos bind (SASL GSSAPI) instead of a simple one; `nil` for a simple or anonymous bind.
    public var kerberos: KerberosBind?
    /// Where to search.
    public var baseDN: String
    /// How deep.
    public var scope = Scope.sub
    /// Which entries.
    public var filter = "(objectClass=*)"
    /// Which attributes to fetch (the id attribute is always added).
    public var attributes: [String]
    /// The attribute that identifies a person.
    public var idAttribute = "entryUUID"
    /// Entries per page.
    public var pageSize = 500
    /// Seconds to wait for the server on each operation.
    public var timeoutSeconds = 30
    /// Skip Active Directory accounts that are disabled (`userAccountControl` bit 2).
    public var excludeDisabled = false
    /// Only members of these groups (DNs); everyone when empty.
    public var groups: [String] = []
    /// How membership is read.
    public var groupMembership = GroupMembership.memberOf
    /// Levels of groups within groups that count.
    public var nestedGroupDepth = 0
    /// `nested_groups: all`: groups within groups at any depth. On Active Directory, with `memberOf`,
    /// one search with the in-chain matching rule (`LDAP_MATCHING_RULE_IN_CHAIN`) instead of a walk.
    public var allNestedGroups = false
    /// Where groups are searched when nesting is followed or `member` lists are read.
    public var groupBaseDN: String?
    /// Whether runs read only what changed, through the directory's change feed (`source.changes`).
    public var changeMode = ChangeMode.off
    /// Where the read says what it did (at debug level: ranged reads, references skipped).
    public var logger: Logger?

    /// A bind by Kerberos (SASL GSSAPI): with a keytab, logged in by the run itself; without, with the
    /// tickets the user already holds (`kinit`, or the system's client keytab).
    public struct KerberosBind: Sendable {
        /// The keytab holding the principal's keys.
        public var keytab: String?
        /// Who to log in as, such as `sync@CORP.EXAMPLE.COM`; by default the keytab's first principal.
        public var principal: String?

        /// Creates a Kerberos bind.
        public init(keytab: String? = nil, principal: String? = nil) {
            self.keytab = keytab
            self.principal = principal
        }
    }

    /// How group membership is read.
    public enum GroupMembership: String, Sendable {
        /// From each person's `memberOf` values.
        case memberOf = "member_of"
        /// From each group's `member` values.
        case member
    }

    /// Creates a source.
    public init(urls: [String], baseDN: String, attributes: [String]) {
        self.urls = urls
        self.baseDN = baseDN
        self.attributes = attributes
    }

    public static func makeSource(section: ConfigSection, context: SourceContext) throws -> any UserSource {
        guard let urls = try section.strings("url"), !urls.isEmpty else {
            throw section.node.error("needs `url:`, such as ldaps://dc1.example.com")
        }
        for url in urls where !(url.hasPrefix("ldap://") || url.hasPrefix("ldaps://")) {
            throw section.node.error("has a url that is not ldap:// or ldaps://: \(url)")
        }
        var source = LDAPSource(
            urls: urls, baseDN: try section.requiredString("base_dn", hint: "for example dc=example,dc=com"),
            attributes: try section.strings("attributes") ?? context.mappedAttributes)
        source.startTLS = try section.bool("start_tls") ?? false
        source.caFile = try section.path("ca_file", relativeTo: context.folder)
        source.verifyCertificates = try section.bool("tls_verify") ?? true
        source.bindDN = try section.string("bind_dn")
        source.bindPassword = try section.secret("bind_password", relativeTo: context.folder)?.resolve(
            logger: context.logger)
        if source.bindPassword != nil && source.bindDN == nil {
            throw section.node.error("has a bind password but no bind_dn")
        }
        if let bind = try section.section("bind") {
            _ =
                try bind.choice("mechanism", ["gssapi"])
                ?? {
                    throw bind.node.error("needs `mechanism: gssapi` (a simple bind is written with bind_dn)")
                }()
            source.kerberos = KerberosBind(
                keytab: try bind.path("keytab", relativeTo: context.folder), principal: try bind.string("principal"))
            try bind.finish()
            if source.kerberos?.keytab == nil, source.kerberos?.principal != nil {
                throw bind.node.error(
                    "names a principal and no keytab",
                    hint: "add keytab: /etc/compliance-sync/sync.keytab; without one, the bind uses the "
                        + "tickets of the user the job runs as (kinit), and names no principal")
            }
            if source.bindDN != nil {
                throw bind.node.error(
                    "is a Kerberos bind, and bind_dn is set too",
                    hint: "remove bind_dn and its password: Kerberos names the account by its principal")
            }
        }
        let allowPlaintext = try section.bool("allow_plaintext_bind") ?? false
        if source.bindPassword != nil, !source.startTLS, !allowPlaintext,
            let exposed = urls.first(where: { $0.hasPrefix("ldap://") && !Hosts.isLoopback(Self.host(of: $0)) })
        {
            throw section.node.error(
                "would send the bind password in clear text to \(exposed) (ldap:// without StartTLS)",
                hint: "use ldaps://, or set start_tls: true; allow_plaintext_bind: true accepts the risk")
        }
        source.scope = try section.choice("scope", ["base", "one", "sub"]).flatMap(Scope.init) ?? .sub
        source.filter = try section.string("filter") ?? source.filter
        source.idAttribute = try section.string("id") ?? source.idAttribute
        source.pageSize = try section.int("page_size", in: 1...100_000) ?? source.pageSize
        source.timeoutSeconds = try section.int("timeout_seconds", in: 1...3600) ?? source.timeoutSeconds
        source.excludeDisabled = try section.bool("exclude_disabled") ?? false
        source.groups = try section.strings("groups") ?? []
        for group in source.groups where !group.contains(",") || !group.contains("=") {
            throw section.node.error(
                "lists the group \"\(group)\", which is not a full DN",
                hint: "write each group DN on its own line (- cn=staff,ou=groups,dc=example,dc=com); "
                    + "in [a, flow, list] YAML splits a DN at its commas unless it is quoted")
        }
        source.groupMembership =
            try section.choice("group_membership", ["member_of", "member"])
            .flatMap(GroupMembership.init) ?? .memberOf
        if try section.string("nested_groups")?.lowercased() == "all" {
            source.allNestedGroups = true
            source.nestedGroupDepth = Self.deepestNesting
        } else {
            source.nestedGroupDepth = try section.int("nested_groups", in: 0...Self.deepestNesting) ?? 0
        }
        source.groupBaseDN = try section.string("group_base_dn")
        if let mode = try section.choice("changes", ChangeMode.allCases.map(\.rawValue)).flatMap(ChangeMode.init) {
            source.changeMode = mode
            let needed = ["dirsync": "objectGUID", "syncrepl": "entryUUID"][mode.rawValue]
            if let needed, source.idAttribute.caseInsensitiveCompare(needed) != .orderedSame {
                throw section.node("changes")!.error(
                    "is \(mode.rawValue), which names people by \(needed), and source.id is \(source.idAttribute)",
                    hint: "set id: \(needed) (a deleted entry is known only by it), or changes: off")
            }
        }
        source.logger = context.logger
        if source.isActiveDirectory, source.pageSize > Self.activeDirectoryMaxPageSize {
            context.logger.notice(
                """
                source.page_size \(source.pageSize) is read as \(Self.activeDirectoryMaxPageSize): Active Directory \
                answers at most that many entries a page (its MaxPageSize), and paging reads the rest
                """)
            source.pageSize = Self.activeDirectoryMaxPageSize
        }
        if !source.verifyCertificates {
            context.logger.warning("source.tls_verify is off: the directory's certificate is not checked")
        }
        return source
    }

    /// The deepest nesting of groups a walk follows (`nested_groups: all` off Active Directory).
    static let deepestNesting = 20

    /// The in-chain matching rule's OID: `memberOf:1.2.840.113556.1.4.1941:=DN` holds for members of DN's
    /// group at any depth of nesting (Active Directory, Samba).
    static let inChainRule = "1.2.840.113556.1.4.1941"

    /// Whether group scope is one search with the in-chain rule: `nested_groups: all` on Active
    /// Directory, by `memberOf`.
    var scopesInChain: Bool { !groups.isEmpty && allNestedGroups && isActiveDirectory && groupMembership == .memberOf }

    /// The job's filter, narrowed to members of the groups at any depth with the in-chain rule.
    var inChainFilter: String {
        let groups = self.groups.map { "(memberOf:\(Self.inChainRule):=\(Self.escapedFilterValue($0)))" }.joined()
        let own = filter.hasPrefix("(") ? filter : "(\(filter))"
        return "(&\(own)(|\(groups)))"
    }

    /// A value as RFC 4515 writes it inside a filter: `*`, `(`, `)`, `\\` and NUL escaped.
    static func escapedFilterValue(_ value: String) -> String {
        var out = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "*": out += "\\2a"
            case "(": out += "\\28"
            case ")": out += "\\29"
            case "\\": out += "\\5c"
            case "\0": out += "\\00"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// The most entries Active Directory answers a page (its default MaxPageSize).
    static let activeDirectoryMaxPageSize = 1000

    /// Whether the job reads Active Directory, as its settings say: `id: objectGUID` or `exclude_disabled`.
    var isActiveDirectory: Bool {
        excludeDisabled || idAttribute.caseInsensitiveCompare("objectGUID") == .orderedSame
    }

    public var description: String { "ldap \(urls.joined(separator: " ")) \(baseDN)" }

    /// The host of an LDAP URL (`ldap://host:389/` -> `host`; `[::1]` for IPv6).
    static func host(of url: String) -> String {
        let rest = url.drop { $0 != "/" }.drop { $0 == "/" }
        let authority = rest.prefix { $0 != "/" }
        if authority.hasPrefix("[") { return String(authority.prefix { $0 != "]" }) + "]" }
        return String(authority.prefix { $0 != ":" })
    }

    public func records() -> ThreadedRecordStream {
        ThreadedRecordStream(name: "ldap-reader") { [self] emitter in
            let read = try DirectoryRead(self)
            try read.records(under: baseDN, scope: scope.value) { try emitter.emit($0) }
            read.finish()
        }
    }
}
