import CKerberos
import ConnectorCore
import Foundation

/// A Kerberos login with a keytab (`kinit -k`, in-process), for an LDAP bind by SASL GSSAPI with no
/// password anywhere: the ticket is held in a credentials cache of this process's memory, never in
/// the user's own cache or a file, and is destroyed with the login.
///
/// The realm's KDCs come from the system's Kerberos configuration (`/etc/krb5.conf`, or the file
/// `KRB5_CONFIG` names). Not thread-safe: made, used and dropped on the thread that reads a source.
final class KerberosLogin {
    /// The principal logged in, such as `sync@CORP.EXAMPLE.COM`.
    let principal: String
    /// The cache holding the ticket, by its full name (`MEMORY:…`).
    let cacheName: String
    private let context: OpaquePointer
    private let cache: OpaquePointer

    /// Logs in as `principal` (by default the keytab's first) with its key from the keytab at `path`.
    /// - Throws: ``SyncError`` naming the keytab, the principal and Kerberos's own reason.
    init(keytab path: String, principal wanted: String?) throws {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw SyncError(
                .source, "source.bind.keytab \(path) cannot be read",
                hint: "export the account's keys there (ktpass, or samba-tool domain exportkeytab), "
                    + "readable by the user the job runs as and no one else")
        }
        var made: krb5_context?
        let rc = krb5_init_context(&made)
        guard rc == 0, let context = made else {
            throw SyncError(
                .source, "could not start Kerberos (error \(rc))",
                hint: "check /etc/krb5.conf, or the file KRB5_CONFIG names")
        }
        do {
            (principal, cache, cacheName) = try Self.logIn(context, keytab: path, principal: wanted)
        } catch {
            krb5_free_context(context)
            throw error
        }
        self.context = context
    }

    /// Gets a ticket for the principal with its key from the keytab into a new memory cache.
    private static func logIn(_ context: krb5_context, keytab path: String, principal wanted: String?) throws
        -> (principal: String, cache: krb5_ccache, cacheName: String)
    {
        var keytab: krb5_keytab?
        var client: krb5_principal?
        var ticket = krb5_creds()
        var cache: krb5_ccache?
        var kept = false
        defer {
            if let keytab { krb5_kt_close(context, keytab) }
            if let client { krb5_free_principal(context, client) }
            krb5_free_cred_contents(context, &ticket)
            if let cache, !kept { krb5_cc_destroy(context, cache) }
        }
        func failure(_ rc: krb5_error_code, _ doing: String, hint: String) -> SyncError {
            SyncError(.source, "could not \(doing): \(message(rc, context))", hint: hint)
        }
        var step = krb5_kt_resolve(context, "FILE:\(path)", &keytab)
        if step == 0 {
            step = wanted.map { krb5_parse_name(context, $0, &client) } ?? firstPrincipal(keytab, context, &client)
        }
        guard step == 0, let client else {
            throw failure(
                step, "read a principal for source.bind from the keytab \(path)",
                hint: "set source.bind.principal, such as sync@CORP.EXAMPLE.COM (the realm in capitals)")
        }
        var name: UnsafeMutablePointer<CChar>?
        let principal: String
        if krb5_unparse_name(context, client, &name) == 0, let name {
            principal = String(cString: name)
            krb5_free_unparsed_name(context, name)
        } else {
            principal = wanted ?? "the keytab's principal"
        }
        step = krb5_get_init_creds_keytab(context, &ticket, client, keytab, 0, nil, nil)
        guard step == 0 else {
            throw failure(
                step, "log in to Kerberos as \(principal) (source.bind) with the keytab \(path)",
                hint: "the keytab must hold this principal's current keys (a password change makes new ones: "
                    + "export it again), and the realm's KDC must be reachable (/etc/krb5.conf)")
        }
        step = krb5_cc_new_unique(context, "MEMORY", nil, &cache)
        if step == 0 { step = krb5_cc_initialize(context, cache, client) }
        if step == 0 { step = krb5_cc_store_cred(context, cache, &ticket) }
        var full: UnsafeMutablePointer<CChar>?
        if step == 0 { step = krb5_cc_get_full_name(context, cache, &full) }
        guard step == 0, let cache, let full else {
            throw failure(step, "keep the Kerberos ticket of \(principal) in memory", hint: "report this as a bug")
        }
        defer { krb5_free_string(context, full) }
        kept = true
        return (principal, cache, String(cString: full))
    }

    deinit {
        krb5_cc_destroy(context, cache)
        krb5_free_context(context)
    }

    /// Runs `body` with this login's cache as GSSAPI's default on this thread (a setting per thread),
    /// and the thread's own default again afterwards.
    func asDefault<Result>(_ body: () throws -> Result) throws -> Result {
        var minor: OM_uint32 = 0
        guard gss_krb5_ccache_name(&minor, cacheName, nil) == GSS_S_COMPLETE else {
            throw SyncError(.source, "could not hand the Kerberos ticket of \(principal) to GSSAPI")
        }
        defer { _ = gss_krb5_ccache_name(&minor, nil, nil) }
        return try body()
    }

    /// The first principal a keytab holds.
    private static func firstPrincipal(
        _ keytab: krb5_keytab?, _ context: krb5_context, _ principal: inout krb5_principal?
    ) -> krb5_error_code {
        var cursor: krb5_kt_cursor?
        var rc = krb5_kt_start_seq_get(context, keytab, &cursor)
        guard rc == 0 else { return rc }
        defer { krb5_kt_end_seq_get(context, keytab, &cursor) }
        var entry = krb5_keytab_entry()
        rc = krb5_kt_next_entry(context, keytab, &entry, &cursor)
        guard rc == 0 else { return rc }
        defer { krb5_free_keytab_entry_contents(context, &entry) }
        return krb5_copy_principal(context, entry.principal, &principal)
    }

    /// Kerberos's words for an error code.
    private static func message(_ rc: krb5_error_code, _ context: krb5_context) -> String {
        guard let text = krb5_get_error_message(context, rc) else { return "Kerberos error \(rc)" }
        defer { krb5_free_error_message(context, text) }
        return String(cString: text)
    }
}
