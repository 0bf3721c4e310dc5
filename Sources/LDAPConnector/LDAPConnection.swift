import CLDAP
import ConnectorCore
import Foundation
import Logging

/// One connection to a directory server through libldap.
///
/// Not thread-safe: a connection is made, used and closed on the one thread
/// that reads a source (see ``LDAPSource``); the C handle never leaves this type.
final class LDAPConnection {
    private(set) var handle: OpaquePointer?
    /// The server, for messages.
    let url: String
    let options: Options
    /// The most attributes an entry has had so far, to size the next one's list at once.
    private var attributesPerEntry = 0
    /// Where a search says, at debug level, what it did not follow.
    var logger: Logger?
    /// The result code of the last call checked, success included, so that a caller that acts on one
    /// kind of failure (an entry not found) reads the code of the failure it caught, never an earlier one.
    private(set) var lastFailure: Int32 = LDAP_SUCCESS

    /// TLS and timeout settings for a connection.
    struct Options {
        var startTLS = false
        var caFile: String?
        var verifyCertificates = true
        var timeoutSeconds = 30
    }

    /// Connects (lazily: libldap connects on the first operation) and, if asked, starts TLS.
    init(url: String, options: Options) throws {
        self.url = url
        self.options = options
        var ld: OpaquePointer?
        try check(ldap_initialize(&ld, url), "connect to")
        handle = ld
        var version = LDAP_VERSION3
        try check(ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version), "set LDAPv3 on")
        var timeout = timeval(tv_sec: options.timeoutSeconds, tv_usec: 0)
        try check(ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &timeout), "set the network timeout on")
        try check(ldap_set_option(ld, LDAP_OPT_TIMEOUT, &timeout), "set the timeout on")
        _ = ldap_set_option(ld, LDAP_OPT_REFERRALS, nil)
        if let caFile = options.caFile {
            try check(ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, caFile), "set the CA file on")
        }
        var require = options.verifyCertificates ? LDAP_OPT_X_TLS_DEMAND : LDAP_OPT_X_TLS_NEVER
        try check(ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &require), "set certificate checking on")
        var newContext: Int32 = 0
        try check(ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &newContext), "apply the TLS settings to")
        if options.startTLS {
            try check(ldap_start_tls_s(ld, nil, nil), "start TLS with")
        }
    }

    deinit {
        if let handle { ldap_unbind_ext_s(handle, nil, nil) }
    }

    /// Runs `body` with the C handle (for this module's own helpers).
    func withHandle<R>(_ body: (OpaquePointer?) -> R) -> R { body(handle) }

    /// A simple bind; none (anonymous) when `dn` is `nil`, an anonymous simple bind for `""`.
    func bind(dn: String?, password: Secret?) throws {
        guard let dn else { return }
        var bytes = Array((password?.value ?? "").utf8)
        let rc = bytes.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: max(buffer.count, 1)) { pointer in
                var credential = berval(bv_len: ber_len_t(buffer.count), bv_val: buffer.count > 0 ? pointer : nil)
                return ldap_sasl_bind_s(handle, dn, nil, &credential, nil, nil, nil)
            }
        }
        try check(rc, "bind as \(dn) to")
    }

    /// A Kerberos bind by SASL GSSAPI: the service is named by the URL's host as written (no reverse
    /// lookup, which names a loopback or aliased address wrongly), and over TLS Kerberos neither signs
    /// nor seals (Active Directory refuses both on a TLS connection); on plain `ldap://` it seals.
    func bind(kerberos: LDAPSource.KerberosBind) throws {
        try check(ldap_connect(handle), "connect to")
        _ = ldap_set_option(handle, LDAP_OPT_X_SASL_NOCANON, cldap_opt_on())
        var tls: UnsafeMutableRawPointer?
        if ldap_get_option(handle, LDAP_OPT_X_TLS_SSL_CTX, &tls) == LDAP_OPT_SUCCESS, tls != nil {
            try check(ldap_set_option(handle, LDAP_OPT_X_SASL_SECPROPS, "maxssf=0"), "set SASL's security on")
        }
        let login = try kerberos.keytab.map { try KerberosLogin(keytab: $0, principal: kerberos.principal) }
        let who = login?.principal ?? kerberos.principal ?? "the user's Kerberos tickets"
        let bind = {
            ldap_sasl_interactive_bind_s(
                self.handle, nil, "GSSAPI", nil, nil, UInt32(LDAP_SASL_QUIET), cldap_sasl_defaults, nil)
        }
        let rc = try login?.asDefault(bind) ?? bind()
        guard rc == LDAP_SUCCESS else {
            // SASL's and Kerberos's own words (no directory data in them) say what failed.
            throw SyncError(
                .source,
                "could not bind by Kerberos as \(who) (source.bind) to \(url): \(String(cString: ldap_err2string(rc)))"
                    + (diagnostic().map { " (\($0))" } ?? ""),
                hint: login == nil
                    ? "set source.bind.keytab, or run kinit as the user the job runs as"
                    : "the directory must have an SPN ldap/<host of source.url> for its account (setspn -L)")
        }
    }

    /// Reads the server's answers through a buffer (liblber's read-ahead layer, under TLS if there is
    /// TLS): without it libldap makes two `read` calls and a `poll` for every entry; with it, one read
    /// takes in whatever has arrived (100,000 entries: 3,546 reads instead of 200,494). Opens the
    /// connection if no bind or StartTLS has.
    func readAhead(bytes: Int) throws {
        try check(ldap_connect(handle), "connect to")
        var buffer: OpaquePointer?
        guard ldap_get_option(handle, LDAP_OPT_SOCKBUF, &buffer) == LDAP_OPT_SUCCESS, let buffer,
            ber_sockbuf_ctrl(buffer, LBER_SB_OPT_HAS_IO, cldap_readahead_io()) == 0
        else { return }
        guard ber_sockbuf_add_io(buffer, cldap_readahead_io(), LBER_SBIOD_LEVEL_PROVIDER, nil) == 0 else {
            return
        }
        var size = ber_len_t(bytes)
        _ = ber_sockbuf_ctrl(buffer, LBER_SB_OPT_SET_READAHEAD, &size)
    }

    /// One entry of a search result.
    struct Entry {
        var dn: String
        /// Values by attribute name, in server order.
        var attributes: [(name: String, values: [RawValue])]
        /// Whether a name carries an option such as `;range=0-1499` (Active Directory's ranged retrieval).
        var hasOptions = false
    }

    /// A value as the server sent it: UTF-8 text, or bytes that are not.
    enum RawValue {
        case text(String)
        case bytes(Data)

        var data: Data {
            switch self {
            case .text(let text): Data(text.utf8)
            case .bytes(let data): data
            }
        }
    }

    /// Searches with the RFC 2696 paged-results control, page after page, calling `each` per entry.
    /// - Parameter completingRanges: fetch the rest of a ranged attribute (`member;range=0-1499`) before
    ///   `each` sees the entry; `false` for the searches that fetch those ranges, which must see them as sent.
    func pagedSearch(
        base: String, scope: Int32, filter: String, attributes: [String]?, pageSize: Int32,
        completingRanges: Bool = true, each: (Entry) throws -> Void
    ) throws {
        var cookie: UnsafeMutablePointer<berval>? = nil
        defer { if let cookie { ber_bvfree(cookie) } }
        var references = 0
        defer { noteReferences(references, under: base) }
        repeat {
            var pageControl: UnsafeMutablePointer<LDAPControl>?
            try check(ldap_create_page_control(handle, pageSize, cookie, 1, &pageControl), "build a paged search for")
            defer { ldap_control_free(pageControl) }
            let returned = try search(
                base: base, scope: scope, filter: filter, attributes: attributes, control: pageControl,
                completingRanges: completingRanges, references: &references, each: each)
            if let cookie { ber_bvfree(cookie) }
            cookie = nil
            defer { if let returned { ldap_controls_free(returned) } }
            // Fail closed: without the paging control there is no telling whether more pages
            // follow, and a short list must never read as "everyone else left".
            guard let returned, let control = ldap_control_find(cldap_control_paged_results(), returned, nil) else {
                throw SyncError(
                    .source,
                    "the answer to a paged search of \(base) on \(url) carries no paging control, so it may be incomplete",
                    hint:
                        "check that the server (or a proxy in front of it) supports the paged results control (RFC 2696)"
                )
            }
            var count: Int32 = 0
            var next = berval(bv_len: 0, bv_val: nil)
            try check(ldap_parse_pageresponse_control(handle, control, &count, &next), "read the page cookie of")
            if next.bv_len > 0 { cookie = ber_bvdup(&next) }
            ber_memfree(next.bv_val)
        } while cookie != nil
    }

    /// Reads what changed under a naming context's root since `cookie` with Active Directory's DirSync
    /// control (every change since the domain began for an empty cookie), calling `each` per changed
    /// entry, and following the server's "more data" until it is done.
    /// - Returns: the cookie the next read starts from.
    /// - Throws: ``SyncError``; `insufficientAccess` when the account lacks "Replicating Directory Changes".
    func dirSync(
        base: String, filter: String, attributes: [String], cookie start: Data, each: (Entry) throws -> Void
    ) throws -> Data {
        var cookie = start
        var references = 0
        defer { noteReferences(references, under: base) }
        while true {
            var control: UnsafeMutablePointer<LDAPControl>?
            let rc = cookie.withUnsafeBytes { raw in
                var value = berval(
                    bv_len: ber_len_t(raw.count),
                    bv_val: raw.isEmpty
                        ? nil : UnsafeMutablePointer(mutating: raw.bindMemory(to: CChar.self).baseAddress))
                return ldap_create_dirsync_control(handle, 0, 0, &value, &control)
            }
            try check(rc, "build a DirSync search for")
            defer { ldap_control_free(control) }
            let returned = try search(
                base: base, scope: LDAP_SCOPE_SUBTREE, filter: filter, attributes: attributes, control: control,
                completingRanges: false, references: &references, each: each)
            defer { if let returned { ldap_controls_free(returned) } }
            // Fail closed: without the control's answer there is no cookie and no telling whether more follows.
            guard let returned, let response = ldap_control_find(LDAP_CONTROL_X_DIRSYNC, returned, nil) else {
                throw SyncError(
                    .source, "the answer to a DirSync search of \(base) on \(url) carries no DirSync control",
                    hint: "the server must be an Active Directory domain controller; set source.changes: off")
            }
            var more: Int32 = 0
            var next = berval(bv_len: 0, bv_val: nil)
            try check(ldap_parse_dirsync_control(handle, response, &more, &next), "read the DirSync cookie of")
            cookie = next.bv_val.map { Data(bytes: $0, count: Int(next.bv_len)) } ?? Data()
            ber_memfree(next.bv_val)
            if more == 0 { return cookie }
        }
    }

    /// Search references (AD's other partitions, from the domain root) are never chased with the job's
    /// credentials to another host: they are not people. Said once a search, at debug level.
    private func noteReferences(_ references: Int, under base: String) {
        guard references > 0 else { return }
        logger?.debug("\(references) search references under \(base) on \(url) were not followed")
    }

    /// One search request with one server control: `each` per entry as it arrives, while the rest is
    /// still coming. A failure of the search or of the server throws.
    /// - Returns: the result's controls, which the caller frees (`ldap_controls_free`).
    private func search(
        base: String, scope: Int32, filter: String, attributes: [String]?, control: UnsafeMutablePointer<LDAPControl>?,
        completingRanges: Bool, references: inout Int, each: (Entry) throws -> Void
    ) throws -> UnsafeMutablePointer<UnsafeMutablePointer<LDAPControl>?>? {
        var controls: [UnsafeMutablePointer<LDAPControl>?] = [control, nil]
        var messageID: Int32 = 0
        let rc = withCStrings(attributes) { attrs in
            controls.withUnsafeMutableBufferPointer { serverControls in
                ldap_search_ext(
                    handle, base, scope, filter, attrs, 0, serverControls.baseAddress, nil, nil, LDAP_NO_LIMIT,
                    &messageID)
            }
        }
        try check(rc, "search \(base) with filter \(filter) on")
        var result: OpaquePointer?
        defer { if let result { ldap_msgfree(result) } }
        while result == nil {
            var timeout = timeval(tv_sec: options.timeoutSeconds, tv_usec: 0)
            var message: OpaquePointer?
            let type = ldap_result(handle, messageID, LDAP_MSG_ONE, &timeout, &message)
            switch type {
            case Int32(LDAP_RES_SEARCH_ENTRY):
                defer { ldap_msgfree(message) }
                if let current = ldap_first_entry(handle, message) {
                    var read = try read(current)
                    if read.hasOptions && completingRanges { try completeRanges(&read) }
                    try each(read)
                }
            case Int32(LDAP_RES_SEARCH_RESULT):
                result = message
            case 0:
                ldap_msgfree(message)
                _ = ldap_abandon_ext(handle, messageID, nil, nil)
                try check(LDAP_TIMEOUT, "search \(base) with filter \(filter) on")
            case -1:
                var code: Int32 = LDAP_SERVER_DOWN
                _ = ldap_get_option(handle, LDAP_OPT_RESULT_CODE, &code)
                try check(code == LDAP_SUCCESS ? LDAP_SERVER_DOWN : code, "search \(base) with filter \(filter) on")
            case Int32(LDAP_RES_SEARCH_REFERENCE):
                references += 1
                ldap_msgfree(message)
            default:
                ldap_msgfree(message)  // intermediate messages are not followed
            }
        }
        var code: Int32 = 0
        var returned: UnsafeMutablePointer<UnsafeMutablePointer<LDAPControl>?>?
        try check(ldap_parse_result(handle, result, &code, nil, nil, nil, &returned, 0), "read the search result of")
        if code != LDAP_SUCCESS, let returned { ldap_controls_free(returned) }
        try check(code, "search \(base) with filter \(filter) on")
        return returned
    }

    /// The root DSE's naming context (`defaultNamingContext`) and the server's own name
    /// (`dsServiceName`, Active Directory's NTDS Settings DN of the domain controller).
    func rootDSE() throws -> (namingContext: String?, server: String?) {
        let entry = try entry(at: "", attributes: ["defaultNamingContext", "dsServiceName"])
        func text(_ name: String) -> String? {
            guard case .text(let value) = entry?.attributes.first(where: { $0.name == name })?.values.first else {
                return nil
            }
            return value
        }
        return (text("defaultNamingContext"), text("dsServiceName"))
    }

    /// Whether this account sees any deleted object (a tombstone) in the domain's Deleted Objects
    /// container (found by its well-known GUID, whatever its name), with the Show Deleted control.
    /// An account that sees none cannot be told apart from a domain with no deletions.
    func seesDeletedObjects(in root: String) throws -> Bool {
        var control: UnsafeMutablePointer<LDAPControl>?
        try check(ldap_control_create(LDAP_CONTROL_X_SHOW_DELETED, 1, nil, 0, &control), "build a search for")
        defer { ldap_control_free(control) }
        var controls: [UnsafeMutablePointer<LDAPControl>?] = [control, nil]
        var message: OpaquePointer?
        var timeout = timeval(tv_sec: options.timeoutSeconds, tv_usec: 0)
        let base = "<WKGUID=18E2EA80684F11D2B9AA00C04F79F805,\(root)>"
        let rc = withCStrings(["1.1"]) { attrs in
            controls.withUnsafeMutableBufferPointer { serverControls in
                ldap_search_ext_s(
                    handle, base, LDAP_SCOPE_ONELEVEL, "(isDeleted=TRUE)", attrs, 0, serverControls.baseAddress, nil,
                    &timeout, 1, &message)
            }
        }
        defer { if let message { ldap_msgfree(message) } }
        if rc == LDAP_NO_SUCH_OBJECT { return false }
        if rc != LDAP_SIZELIMIT_EXCEEDED { try check(rc, "search the deleted objects of \(root) on") }
        return ldap_count_entries(handle, message) > 0
    }

    /// Reads one entry by its DN (a base search), or `nil` when the directory has no such entry (a
    /// `manager` that names someone deleted); any other failure throws.
    func entry(at dn: String, attributes: [String]) throws -> Entry? {
        var message: OpaquePointer?
        var timeout = timeval(tv_sec: options.timeoutSeconds, tv_usec: 0)
        let rc = withCStrings(attributes) { attrs in
            ldap_search_ext_s(handle, dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, nil, nil, &timeout, 1, &message)
        }
        defer { if let message { ldap_msgfree(message) } }
        if rc == LDAP_NO_SUCH_OBJECT || rc == LDAP_INVALID_DN_SYNTAX { return nil }
        try check(rc, "read \(dn) on")
        guard let message, let first = ldap_first_entry(handle, message) else { return nil }
        return try read(first)
    }

    /// Reads an entry straight from its BER encoding: names and values point
    /// into the message, so nothing is copied twice (`ldap_get_values_len`
    /// would copy every value, and `ldap_next_attribute` every name).
    func read(_ entry: OpaquePointer) throws -> Entry {
        var ber: OpaquePointer?
        var name = berval(bv_len: 0, bv_val: nil)
        guard ldap_get_dn_ber(handle, entry, &ber, &name) == LDAP_SUCCESS else {
            if let ber { ber_free(ber, 0) }
            throw SyncError(.source, "could not decode an entry from \(url)", hint: "the server sent a malformed entry")
        }
        defer { if let ber { ber_free(ber, 0) } }
        let dn = Self.string(name) ?? ""
        // perf: typed as `Entry`'s own, labels and all: an array of unlabelled tuples is converted
        // element by element through a dynamic cast.
        var attributes: [(name: String, values: [RawValue])] = []
        attributes.reserveCapacity(attributesPerEntry)
        var hasOptions = false
        var list: UnsafeMutablePointer<berval>?
        while ldap_get_attribute_ber(handle, entry, ber, &name, &list) == LDAP_SUCCESS, name.bv_val != nil {
            var values: [RawValue] = []
            if let array = list {
                var i = 0
                while let pointer = array[i].bv_val {
                    let bytes = UnsafeRawBufferPointer(start: pointer, count: Int(array[i].bv_len))
                    if let text = UTF8Text.string(bytes.bindMemory(to: UInt8.self)) {
                        values.append(.text(text))
                    } else {
                        values.append(.bytes(Data(bytes)))
                    }
                    i += 1
                }
                ber_memfree(array)
                list = nil
            }
            if memchr(name.bv_val, Int32(UInt8(ascii: ";")), Int(name.bv_len)) != nil { hasOptions = true }
            attributes.append((name: Self.string(name) ?? "", values: values))
        }
        attributesPerEntry = max(attributesPerEntry, attributes.count)
        return Entry(dn: dn, attributes: attributes, hasOptions: hasOptions)
    }

    /// A berval's bytes as text (DNs and attribute names are UTF-8).
    private static func string(_ value: berval) -> String? {
        guard let pointer = value.bv_val else { return nil }
        return String(
            decoding: UnsafeRawBufferPointer(start: pointer, count: Int(value.bv_len)).bindMemory(to: UInt8.self),
            as: UTF8.self)
    }

    /// The last operation's diagnostic message, if it has one.
    private func diagnostic() -> String? {
        guard let handle else { return nil }
        var message: UnsafeMutablePointer<CChar>?
        guard ldap_get_option(handle, LDAP_OPT_DIAGNOSTIC_MESSAGE, &message) == LDAP_OPT_SUCCESS, let message else {
            return nil
        }
        defer { ldap_memfree(message) }
        let text = String(cString: message)
        return text.isEmpty || text == "(unknown error code)" ? nil : text
    }

    /// Throws libldap's message for a failed call, with what was being done and where.
    func check(_ rc: Int32, _ doing: String) throws {
        lastFailure = rc
        guard rc != LDAP_SUCCESS else { return }
        let detail = diagnostic().map { " (\($0))" } ?? ""
        if rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR, options.verifyCertificates,
            url.hasPrefix("ldaps://") || options.startTLS,
            let names = TLSProbe.certificateNames(
                url: url, startTLS: options.startTLS, timeoutSeconds: options.timeoutSeconds)
        {
            throw SyncError(
                .source,
                "could not \(doing) \(url): TLS verification failed for the server's certificate "
                    + "(subject CN=\(names.subject), issued by CN=\(names.issuer))",
                hint: "source.ca_file must hold the CA that signed it (CN=\(names.issuer)), "
                    + "and the certificate must name the host of source.url")
        }
        // A bind's or a connection's diagnostic says why (AD's `data 52e`); any other may quote an
        // attribute's value (a constraint violation), so it is shown only at debug level.
        let speaksOfValues = ![
            LDAP_INVALID_CREDENTIALS, LDAP_STRONG_AUTH_REQUIRED, LDAP_CONFIDENTIALITY_REQUIRED, LDAP_SERVER_DOWN,
            LDAP_CONNECT_ERROR, LDAP_TIMEOUT, LDAP_UNAVAILABLE, LDAP_BUSY,
        ].contains(rc)
        throw SyncError(
            .source,
            "could not \(doing) \(url): \(String(cString: ldap_err2string(rc)))"
                + (speaksOfValues ? (detail.isEmpty ? "" : " (the server's words: --log-level debug)") : detail),
            hint: LDAPConnection.hint(for: rc),
            serverText: speaksOfValues && !detail.isEmpty ? String(detail.dropFirst(2).dropLast()) : nil)
    }

    /// What to check for a result code.
    static func hint(for rc: Int32) -> String? {
        switch rc {
        case LDAP_INVALID_CREDENTIALS: "check source.bind_dn and the bind password"
        case LDAP_SERVER_DOWN, LDAP_CONNECT_ERROR, LDAP_TIMEOUT:
            "check source.url (host, port, ldap:// or ldaps://), the network, and for TLS source.ca_file"
        case LDAP_NO_SUCH_OBJECT: "check source.base_dn"
        case LDAP_SIZELIMIT_EXCEEDED, LDAP_ADMINLIMIT_EXCEEDED:
            "the server capped the result; lower source.page_size to the server's page limit"
        case LDAP_TIMELIMIT_EXCEEDED: "raise source.timeout_seconds or narrow source.filter"
        case LDAP_FILTER_ERROR: "check source.filter's syntax, such as (objectClass=inetOrgPerson)"
        default: nil
        }
    }
}

/// Calls `body` with a NULL-terminated C array of the strings (or NULL for `nil`).
func withCStrings<R>(_ strings: [String]?, _ body: (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> R)
    -> R
{
    guard let strings else { return body(nil) }
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) } + [nil]
    defer { for pointer in pointers { free(pointer) } }
    return pointers.withUnsafeMutableBufferPointer { body($0.baseAddress) }
}
