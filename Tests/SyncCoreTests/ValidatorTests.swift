import Crypto
import Foundation
import Testing

@testable import SyncCore

@Suite struct ValidatorTests {
    @Test(arguments: [
        "ada@example.com", "a.b+tag@mail.example.co.uk", "o'neil@example.com", "x@xn--bcher-kva.example",
        "élodie@exemple.fr",
    ])
    func validEmails(_ email: String) { #expect(Validator.isEmail(email)) }

    @Test(arguments: [
        "", "ada", "ada@", "@example.com", "ada@example", "ada@@example.com", "a da@example.com", "ada@exa mple.com",
        "ada@-example.com", "ada@example..com", ".ada@example.com", "ada.@example.com", "<ada@example.com>",
        "ada@example.com,bob@example.com",
    ])
    func invalidEmails(_ email: String) { #expect(!Validator.isEmail(email)) }

    @Test func ssnNormalisation() {
        #expect(Validator.normalisedSSN("555-55-5555") == "555-55-5555")
        #expect(Validator.normalisedSSN("555555555") == "555-55-5555")
        #expect(Validator.normalisedSSN("55555555") == nil)
        #expect(Validator.normalisedSSN("555-555-555") == nil)
        #expect(Validator.normalisedSSN("55a-55-5555") == nil)
        #expect(Validator.normalisedSSN("5555555555") == nil)
    }

    @Test func dateTimes() {
        #expect(Validator.normalisedDateTime("2026-01-31 00:00:00 EST") == "2026-01-31 00:00:00 EST")
        #expect(Validator.normalisedDateTime("2026-01-31 00:00:00") == "2026-01-31 00:00:00")
        #expect(Validator.normalisedDateTime("2026-01-31") == "2026-01-31 00:00:00")
        #expect(Validator.normalisedDateTime("2026-02-30") == nil)
        #expect(Validator.normalisedDateTime("2026-01-31 25:00:00") == nil)
        #expect(Validator.normalisedDateTime("2026-01-31T00:00:00") == nil)
        #expect(Validator.normalisedDateTime("2026-01-31 00:00:00 ") == nil)
    }

    @Test func rowRules() {
        let layout = RowLayout(
            fields: ["first_name", "last_name", "email", "ssn", "facility_id", "date_of_birth", "hired_at"],
            catalog: FieldCatalog())
        let validator = Validator(layout: layout)
        var row: [String?] = ["Ada", "Lovelace", "ada@example.com", "123456789", "42", "1815-12-10", "2026-01-02"]
        var problems: [RecordProblem] = []
        validator.validate(&row, problems: &problems)
        #expect(problems.isEmpty)
        #expect(row[3] == "123-45-6789" && row[6] == "2026-01-02 00:00:00")
        var bad: [String?] = [nil, "Lovelace", "nope", "12", "4a", "1815-13-10", "soon"]
        validator.validate(&bad, problems: &problems)
        #expect(problems.map(\.field) == ["first_name", "email", "ssn", "facility_id", "date_of_birth", "hired_at"])
    }
}

@Suite struct SipHashTests {
    /// The reference vectors of the SipHash paper (key 00..0f, messages 00, 00 01, …).
    @Test func referenceVectors() {
        let hasher = SipHash24(k0: 0x0706_0504_0302_0100, k1: 0x0f0e_0d0c_0b0a_0908)
        let message = (0..<64).map { UInt8($0) }
        let hash = { (count: Int) in message.prefix(count).withUnsafeBytes { hasher.hash($0) } }
        #expect(hash(0) == 0x726f_db47_dd0e_0e31)
        #expect(hash(15) == 0xa129_ca61_49be_45e5)
    }

    /// Fingerprints are stored: the same row and key must give the same one in every version,
    /// or an upgrade would see everyone as changed. (Values computed by the first release.)
    @Test func fingerprintsAreStableAcrossVersions() throws {
        let key = try SnapshotKey(bytes: Data((0..<32).map { UInt8($0) }))
        let layout = RowLayout(
            fields: ["last_name", "email", "first_name", "ssn", "job_title"], catalog: FieldCatalog())
        var fingerprinter = Fingerprinter(key: key, layout: layout)
        let row: [String?] = [
            "Bérénger-Łukasiewicz", "zoe.berenger@example.com", "Zoë", nil, "Senior Systems Administrator, 東京",
        ]
        let plain = fingerprinter.fingerprint(row)
        let terminated = fingerprinter.fingerprint(row, terminatedAt: "2026-11-29 00:00:00 UTC")
        let empty = fingerprinter.fingerprint([nil, nil, nil, nil, nil])
        let hex: [String] = [plain, terminated, empty].map { (f: Fingerprint) -> String in
            "\(String(f.high, radix: 16))/\(String(f.low, radix: 16))"
        }
        #expect(
            hex == [
                "82211f9569e66e9b/c77096dfb01906f5", "d3a9ce1f63400360/e4ce1d7dbd1d728",
                "726fdb47dd0e0e31/c3c824d7df144eef",
            ])
    }

    @Test func fingerprintsDependOnKeyAndContent() {
        let layout = RowLayout(fields: ["email", "ssn"], catalog: FieldCatalog())
        let key = SnapshotKey.random()
        var a = Fingerprinter(key: key, layout: layout)
        var b = Fingerprinter(key: SnapshotKey.random(), layout: layout)
        let row: [String?] = ["ada@example.com", "123-45-6789"]
        #expect(a.fingerprint(row) == a.fingerprint(row))
        #expect(a.fingerprint(row) != b.fingerprint(row))
        #expect(a.fingerprint(row) != a.fingerprint(["ada@example.com", "123-45-6780"]))
        #expect(a.fingerprint(row) != a.fingerprint(row, terminatedAt: "2026-01-01 00:00:00"))
        let digest = key.digest(field: "ssn", value: "123-45-6789")
        #expect(digest.hasPrefix("hmac:") && !digest.contains("6789"))
    }
}

@Suite struct SensitiveDigestTests {
    /// HMAC-SHA256 of `field`, 0x1F, `value` under the key 00 01 … 1F, computed by Python's hmac module:
    /// the digests already in every snapshot must never change.
    @Test(arguments: [
        ("ssn", "123-45-6789", "hmac:p5YpOhiH8r+TtLqoKdp9mqkQNpmCO0pwLxLHyPLbaHw="),
        ("email", "zoë@example.com", "hmac:8KYIgCvVz+iNjZryllnFzVdEu+KkP8OPzvIrsOlqEsM="),
        ("", "", "hmac:Ys1Ntev6UPyBuZoLnjNFkDXjEA0UnBCfPTvvofe+aSs="),
        ("ssn", "", "hmac:LvG2PID41D39H7rKYA+o/vWeUAxbaQVDJVLbrcu+qNY="),
    ])
    func digestsAreTheStoredOnes(field: String, value: String, expected: String) throws {
        let key = try SnapshotKey(bytes: Data(0..<32))
        #expect(key.digest(field: field, value: value) == expected)
    }

    @Test func digestsAreSwiftCryptosHMAC() throws {
        var generator = SystemRandomNumberGenerator()
        let pieces = ["", "a", "ssn", "é", "😀", "\u{0}", "\u{1F}", "123-45-6789", String(repeating: "x", count: 70)]
        for _ in 0..<500 {
            let bytes = Data((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
            let key = try SnapshotKey(bytes: bytes)
            let field = (0..<Int.random(in: 0...3, using: &generator)).map { _ in pieces.randomElement()! }.joined()
            let value = (0..<Int.random(in: 0...6, using: &generator)).map { _ in pieces.randomElement()! }.joined()
            let mac = HMAC<SHA256>.authenticationCode(
                for: Array(field.utf8) + [0x1F] + Array(value.utf8), using: SymmetricKey(data: bytes))
            #expect(key.digest(field: field, value: value) == "hmac:" + Data(mac).base64EncodedString())
        }
    }

    @Test func eachDigestStartsFromTheKeyAlone() throws {
        // The keyed HMAC is copied for each digest: nothing one digest absorbs may reach the next.
        let key = try SnapshotKey(bytes: Data(0..<32))
        let first = key.digest(field: "ssn", value: "123-45-6789")
        for i in 0..<100 { _ = key.digest(field: "ssn", value: String(repeating: "9", count: i)) }
        #expect(key.digest(field: "ssn", value: "123-45-6789") == first)
        #expect(first == "hmac:p5YpOhiH8r+TtLqoKdp9mqkQNpmCO0pwLxLHyPLbaHw=")
    }
}
