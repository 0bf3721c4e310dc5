import CLDAP
import ConnectorCore
import Foundation

extension LDAPConnection {
    /// What a refreshOnly syncrepl search (RFC 4533) said besides its entries.
    struct SyncRefresh {
        /// The cookie the next search starts from.
        var cookie = Data()
        /// Whether the server named the deleted entries (`true`), or every entry still present, so that
        /// any other is gone (`false`: the present phase, when its session log no longer covers the cookie).
        var refreshDeletes = false
        /// Entries the server says are present and unchanged (present phase), by entryUUID.
        var present: Set<Data> = []
        /// Entries the server says were deleted, by entryUUID.
        var deleted: Set<Data> = []
        /// Entries and UUIDs the server returned.
        var returned = 0
    }

    /// A refreshOnly syncrepl search under `base` from `cookie` (empty: from nothing, every entry as
    /// added), calling `each` with every entry added or changed and its entryUUID. Bounded by the
    /// connection's timeout on every answer, as any search is.
    /// - Returns: what else the server said, or `nil` when it answered e-syncRefreshRequired (the
    ///   cookie is too old: only a full read can tell).
    func syncRefresh(
        base: String, scope: Int32, filter: String, attributes: [String], cookie: Data,
        each: (Entry, Data) throws -> Void
    ) throws -> SyncRefresh? {
        var refresh = SyncRefresh()
        var value = berval(bv_len: 0, bv_val: nil)
        let built = cookie.withUnsafeBytes { raw in
            var start = berval(
                bv_len: ber_len_t(raw.count),
                bv_val: raw.isEmpty ? nil : UnsafeMutablePointer(mutating: raw.bindMemory(to: CChar.self).baseAddress))
            return cldap_sync_request(&start, &value)
        }
        guard built == 0 else { throw SyncError(.source, "could not build a syncrepl search for \(url)") }
        defer { ber_memfree(value.bv_val) }
        var control: UnsafeMutablePointer<LDAPControl>?
        try check(ldap_control_create(cldap_control_sync(), 1, &value, 1, &control), "build a syncrepl search for")
        defer { ldap_control_free(control) }
        var controls: [UnsafeMutablePointer<LDAPControl>?] = [control, nil]
        var messageID: Int32 = 0
        let doing = "read the changes under \(base) (syncrepl) on"
        let rc = withCStrings(attributes) { attrs in
            controls.withUnsafeMutableBufferPointer { serverControls in
                ldap_search_ext(
                    handle, base, scope, filter, attrs, 0, serverControls.baseAddress, nil, nil, LDAP_NO_LIMIT,
                    &messageID)
            }
        }
        try check(rc, doing)
        while true {
            var timeout = timeval(tv_sec: options.timeoutSeconds, tv_usec: 0)
            var message: OpaquePointer?
            let type = ldap_result(handle, messageID, LDAP_MSG_ONE, &timeout, &message)
            defer { if let message { ldap_msgfree(message) } }
            switch type {
            case Int32(LDAP_RES_SEARCH_ENTRY):
                guard let message, let state = try syncState(of: message) else {
                    throw malformed("an entry without its sync state")
                }
                refresh.returned += 1
                switch state.state {
                case LDAP_SYNC_PRESENT: refresh.present.insert(state.uuid)
                case LDAP_SYNC_DELETE: refresh.deleted.insert(state.uuid)
                case LDAP_SYNC_ADD, LDAP_SYNC_MODIFY: try each(try read(message), state.uuid)
                default: throw malformed("an entry in a sync state it does not know (\(state.state))")
                }
            case Int32(LDAP_RES_INTERMEDIATE):
                guard let message else { continue }
                try syncInfo(message, into: &refresh)
            case Int32(LDAP_RES_SEARCH_RESULT):
                guard let message else { throw malformed("no result") }
                return try syncDone(message, into: refresh, doing: doing)
            case 0:
                _ = ldap_abandon_ext(handle, messageID, nil, nil)
                try check(LDAP_TIMEOUT, doing)
            case -1:
                var code: Int32 = LDAP_SERVER_DOWN
                _ = ldap_get_option(handle, LDAP_OPT_RESULT_CODE, &code)
                try check(code == LDAP_SUCCESS ? LDAP_SERVER_DOWN : code, doing)
            default:
                continue  // search references are not people
            }
        }
    }

    /// An entry's Sync State: its state and entryUUID.
    private func syncState(of entry: OpaquePointer) throws -> (state: Int32, uuid: Data)? {
        var controls: UnsafeMutablePointer<UnsafeMutablePointer<LDAPControl>?>?
        guard ldap_get_entry_controls(handle, entry, &controls) == LDAP_SUCCESS, let controls else { return nil }
        defer { ldap_controls_free(controls) }
        guard let control = ldap_control_find(cldap_control_sync_state(), controls, nil) else { return nil }
        var state: Int32 = -1
        var uuid = berval(bv_len: 0, bv_val: nil)
        guard cldap_sync_state(&control.pointee.ldctl_value, &state, &uuid) == 0, uuid.bv_len == 16,
            let bytes = uuid.bv_val
        else { return nil }
        return (state, Data(bytes: bytes, count: 16))
    }

    /// A Sync Info message: a new cookie, or a set of UUIDs present or deleted.
    private func syncInfo(_ message: OpaquePointer, into refresh: inout SyncRefresh) throws {
        var oid: UnsafeMutablePointer<CChar>?
        var data: UnsafeMutablePointer<berval>?
        try check(ldap_parse_intermediate(handle, message, &oid, &data, nil, 0), "read a syncrepl message of")
        defer {
            ldap_memfree(oid)
            ber_bvfree(data)
        }
        // Fail closed: a message of the search that is not Sync Info may say something this read would miss.
        guard let oid, String(cString: oid) == String(cString: cldap_sync_info_oid()), let data else {
            throw malformed("an intermediate message that is not Sync Info")
        }
        var kind: ber_tag_t = 0
        var cookie = berval(bv_len: 0, bv_val: nil)
        var deletes: Int32 = 0
        var uuids: BerVarray?
        guard cldap_sync_info(data, &kind, &cookie, &deletes, &uuids) == 0 else {
            throw malformed("a Sync Info message it cannot read")
        }
        defer {
            ber_memfree(cookie.bv_val)
            ber_bvarray_free(uuids)
        }
        if let bytes = cookie.bv_val { refresh.cookie = Data(bytes: bytes, count: Int(cookie.bv_len)) }
        var i = 0
        while let uuids, let bytes = uuids[i].bv_val {
            guard uuids[i].bv_len == 16 else { throw malformed("a syncIdSet UUID that is not 16 bytes") }
            let uuid = Data(bytes: bytes, count: 16)
            if deletes != 0 { refresh.deleted.insert(uuid) } else { refresh.present.insert(uuid) }
            refresh.returned += 1
            i += 1
        }
    }

    /// The search's end: its Sync Done control's cookie and refreshDeletes, or `nil` for
    /// e-syncRefreshRequired.
    private func syncDone(_ message: OpaquePointer, into refresh: SyncRefresh, doing: String) throws -> SyncRefresh? {
        var refresh = refresh
        var code: Int32 = 0
        var returned: UnsafeMutablePointer<UnsafeMutablePointer<LDAPControl>?>?
        try check(ldap_parse_result(handle, message, &code, nil, nil, nil, &returned, 0), doing)
        defer { if let returned { ldap_controls_free(returned) } }
        if code == LDAP_SYNC_REFRESH_REQUIRED { return nil }
        try check(code, doing)
        // Fail closed: without the Sync Done control there is no telling what the answer covered.
        guard let returned, let control = ldap_control_find(cldap_control_sync_done(), returned, nil) else {
            throw malformed("an answer without its Sync Done control")
        }
        var cookie = berval(bv_len: 0, bv_val: nil)
        var deletes: Int32 = 0
        guard cldap_sync_done(&control.pointee.ldctl_value, &cookie, &deletes) == 0 else {
            throw malformed("a Sync Done control it cannot read")
        }
        defer { ber_memfree(cookie.bv_val) }
        if let bytes = cookie.bv_val { refresh.cookie = Data(bytes: bytes, count: Int(cookie.bv_len)) }
        refresh.refreshDeletes = deletes != 0
        return refresh
    }

    private func malformed(_ what: String) -> SyncError {
        SyncError(
            .source, "the syncrepl answer of \(url) holds \(what), so it may be incomplete; nothing was sent",
            hint: "the server must run the syncprov overlay (RFC 4533); set source.changes: off")
    }
}
