import Testing

@testable import LDAPConnector

/// `accountFlags`: Active Directory's `userAccountControl` bits by name.
@Suite struct AccountFlagsTests {
    @Test func bitsAreNamedAsAJobWritesThem() {
        #expect(AccountFlags.names(of: ["512"]) == ["normal_account"])
        #expect(AccountFlags.names(of: ["514"]) == ["disabled", "normal_account"])
        #expect(AccountFlags.names(of: ["66048"]) == ["normal_account", "password_never_expires"])
        // The computed attribute adds what AD works out: a lockout, an expired password.
        #expect(AccountFlags.names(of: ["512", "16"]) == ["locked_out", "normal_account"])
        #expect(AccountFlags.names(of: ["512", "8388608"]) == ["normal_account", "password_expired"])
        #expect(AccountFlags.names(of: ["not a number"]) == nil && AccountFlags.names(of: []) == nil)
    }
}
