/// Active Directory's account flags by name: a job reads `accountFlags`, a multi-valued attribute the
/// LDAP source makes from `userAccountControl` and `msDS-User-Account-Control-Computed` (where AD keeps
/// the lockout and password expiry it works out), so that mappings and `include`/`exclude` say
/// `{ attribute: accountFlags, equals: disabled }` instead of testing bits.
enum AccountFlags {
    /// The attribute a job names.
    static let attribute = "accountFlags"
    /// What the source asks the directory for in its place.
    static let sources = ["userAccountControl", "msDS-User-Account-Control-Computed"]

    /// The flags AD documents for `userAccountControl`, by bit, as the names a job writes.
    static let names: [(bit: Int64, name: String)] = [
        (0x0001, "script"), (0x0002, "disabled"), (0x0008, "home_directory_required"), (0x0010, "locked_out"),
        (0x0020, "password_not_required"), (0x0040, "password_cannot_change"),
        (0x0080, "encrypted_text_password_allowed"), (0x0100, "temporary_duplicate_account"),
        (0x0200, "normal_account"), (0x0800, "interdomain_trust_account"), (0x1000, "workstation_trust_account"),
        (0x2000, "server_trust_account"), (0x1_0000, "password_never_expires"), (0x2_0000, "mns_logon_account"),
        (0x4_0000, "smartcard_required"), (0x8_0000, "trusted_for_delegation"), (0x10_0000, "not_delegated"),
        (0x20_0000, "use_des_key_only"), (0x40_0000, "dont_require_preauth"), (0x80_0000, "password_expired"),
        (0x100_0000, "trusted_to_authenticate_for_delegation"),
    ]

    /// The names of the flags set in any of `values` (decimal text, as the directory sends them), in bit
    /// order; `nil` when none of them is a number.
    static func names(of values: [String]) -> [String]? {
        let numbers = values.compactMap { Int64($0) }
        guard !numbers.isEmpty else { return nil }
        let flags = numbers.reduce(0) { $0 | $1 }
        return names.filter { flags & $0.bit != 0 }.map(\.name)
    }
}
