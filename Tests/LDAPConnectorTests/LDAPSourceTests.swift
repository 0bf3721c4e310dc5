import CLDAP
import ConnectorCore
import ConnectorTestKit
import Foundation
import SyncCore
import TestSupport
import Testing

@testable import LDAPConnector

/// Against the private slapd that scripts/test starts (scripts/ldap-test-server):
/// 5,000 people, a 500-entry size limit for ordinary binds, TLS from a CA made at test time.
@Suite(.enabled(if: TestServers.ldap, Comment(rawValue: TestServers.why))) struct LDAPSourceTests {
    let environment = ProcessInfo.processInfo.environment

    func setting(_ name: String) throws -> String { try TestServers.setting(name) }

    func source(url: String? = nil) throws -> LDAPSource {
        var source = LDAPSource(
            urls: [try url ?? setting("LDAP_TEST_URL")], baseDN: try setting("LDAP_TEST_BASE"),
            attributes: ["givenName", "sn", "mail", "employeeNumber", "cn"])
        source.filter = "(objectClass=inetOrgPerson)"
        source.pageSize = 200
        return source
    }

    func failure(_ source: LDAPSource) async -> SyncError? {
        await readFailure(source) as? SyncError
    }

    @Test func pagedSearchReadsPastTheServerLimit() async throws {
        let records = try await readAll(try source())
        #expect(records.count == Int(try setting("LDAP_TEST_PEOPLE")))
        #expect(Set(records.map(\.id)).count == records.count)
        #expect(records.first?.id == "00000000-0000-0000-0000-000000000001")
        #expect(records.first?.location?.description == "uid=u000000,ou=people,dc=example,dc=com")
    }

    @Test func valuesKeepTheirShape() async throws {
        let records = Dictionary(
            uniqueKeysWithValues: try await readAll(try source()).map { ($0["employeeNumber"]!.texts[0], $0) })
        #expect(records["E000004"]?["mail"] == .multiple(["u000004@example.com", "u000004.alt@example.com"]))
        #expect(records["E000003"]?["mail"] == nil)
        #expect(records["E000005"]?["givenName"] == .text("太郎"))
        #expect(records["E000002"]?["givenName"] == .text("José"))
        #expect(
            records["E000007"]?.location?.description.hasPrefix("cn=Smith\\2C John 7") == true
                || records["E000007"]?.location?.description.hasPrefix("cn=Smith\\, John 7") == true)
    }

    /// libldap reads each message with two `read` calls of its own; through the read-ahead buffer, one
    /// read takes in whatever has arrived, in the clear and under TLS alike. (Counted for this thread only, in
    /// /proc/thread-self/io, so other tests running meanwhile do not count.)
    @Test(arguments: ["plain", "ldaps", "StartTLS"]) func entriesArriveInFewReads(_ transport: String) throws {
        var options = LDAPConnection.Options(startTLS: transport == "StartTLS")
        if transport != "plain" { options.caFile = try setting("LDAP_TEST_CA") }
        let url = try setting(transport == "ldaps" ? "LDAP_TEST_LDAPS_URL" : "LDAP_TEST_URL")
        func reads() throws -> Int {
            let io = try String(contentsOfFile: "/proc/thread-self/io", encoding: .utf8)
            return Int(io.split(separator: "\n").first { $0.hasPrefix("syscr:") }?.split(separator: " ").last ?? "")
                ?? 0
        }
        let connection = try LDAPConnection(url: url, options: options)
        try connection.readAhead(bytes: 1 << 16)
        let before = try reads()
        var entries = 0
        try connection.pagedSearch(
            base: try setting("LDAP_TEST_BASE"), scope: LDAP_SCOPE_SUBTREE, filter: "(objectClass=inetOrgPerson)",
            attributes: ["givenName", "sn", "mail"], pageSize: 200
        ) { _ in entries += 1 }
        let made = try reads() - before
        #expect(entries == Int(try setting("LDAP_TEST_PEOPLE")))
        // Without it, two per entry; with it, at most one (when each entry is read as soon as it is sent).
        #expect(made < entries * 3 / 2, "\(made) reads for \(entries) entries")
    }

    @Test func tlsWithTheRightCAAndNotWithAnother() async throws {
        var ldaps = try source(url: try setting("LDAP_TEST_LDAPS_URL"))
        ldaps.caFile = try setting("LDAP_TEST_CA")
        #expect(try await readAll(ldaps).count == Int(try setting("LDAP_TEST_PEOPLE")))
        var startTLS = try source()
        startTLS.startTLS = true
        startTLS.caFile = try setting("LDAP_TEST_CA")
        #expect(try await readAll(startTLS).count == Int(try setting("LDAP_TEST_PEOPLE")))
        var wrong = ldaps
        wrong.caFile = try setting("LDAP_TEST_OTHER_CA")
        let refused = await failure(wrong)
        #expect(refused?.kind == .source)
        #expect(
            refused?.message.contains(
                "TLS verification failed for the server's certificate (subject CN=127.0.0.1, "
                    + "issued by CN=compliance-sync test CA)") == true, "\(String(describing: refused))")
        var wrongStartTLS = startTLS
        wrongStartTLS.caFile = try setting("LDAP_TEST_OTHER_CA")
        #expect(await failure(wrongStartTLS)?.message.contains("subject CN=127.0.0.1") == true)
    }

    @Test func errorsSayWhatToCheckWithoutThePassword() async throws {
        var wrongPassword = try source()
        wrongPassword.bindDN = try setting("LDAP_TEST_ADMIN_DN")
        wrongPassword.bindPassword = Secret("not-the-password-17")
        let badBind = await failure(wrongPassword)
        #expect(badBind?.message.contains("Invalid credentials") == true)
        #expect(badBind?.hint?.contains("bind_dn") == true)
        #expect(badBind?.description.contains("not-the-password-17") == false)

        var noBase = try source()
        noBase.baseDN = "ou=nowhere,dc=example,dc=com"
        #expect(await failure(noBase)?.hint?.contains("base_dn") == true)

        var badFilter = try source()
        badFilter.filter = "(objectClass=inetOrgPerson"
        #expect(await failure(badFilter)?.hint?.contains("filter") == true)

        let down = await failure(try source(url: "ldap://127.0.0.1:1"))
        #expect(down?.message.contains("Can't contact LDAP server") == true)
    }

    @Test func activeDirectoryOptions() async throws {
        let people = Int(try setting("LDAP_TEST_PEOPLE"))!
        var byGUID = try source()
        byGUID.idAttribute = "objectGUID"
        byGUID.excludeDisabled = true
        let records = try await readAll(byGUID)
        #expect(records.count == people - (0..<people).filter { $0 % 89 == 6 }.count)
        #expect(records.first?.id == "00000000-0000-0001-0000-000000000000")
        #expect(!records.contains { $0["employeeNumber"] == .text("E000006") })
    }

    @Test func groupScoping() async throws {
        let people = Int(try setting("LDAP_TEST_PEOPLE"))!
        let engineers = (people + 9) / 10
        var scoped = try source()
        scoped.groups = ["cn=engineers,ou=groups,dc=example,dc=com"]
        #expect(try await readAll(scoped).count == engineers)
        scoped.groupMembership = .member
        #expect(try await readAll(scoped).count == engineers)
        scoped.groups = ["CN=Staff, OU=Groups, DC=example, DC=com"]
        #expect(try await readAll(scoped).count == people)
        var nested = try source()
        nested.groups = ["cn=cleared,ou=groups,dc=example,dc=com"]
        #expect(try await readAll(nested).isEmpty)
        nested.nestedGroupDepth = 1
        #expect(try await readAll(nested).count == engineers)
        nested.groupMembership = .member
        #expect(try await readAll(nested).count == engineers)
        nested.groups = ["cn=nobody,ou=groups,dc=example,dc=com"]
        #expect(await failure(nested)?.message.contains("was not found") == true)
    }

    @Test func activeDirectoryBinaryIdentifiers() {
        let guid = Data([
            0x78, 0x56, 0x34, 0x12, 0x34, 0x12, 0x78, 0x56, 0x9a, 0xbc, 0xde, 0xf0, 0x12, 0x34, 0x56, 0x78,
        ])
        #expect(LDAPValues.guidString(guid) == "12345678-1234-5678-9abc-def012345678")
        let sid = Data([
            1, 4, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 0x15, 0xcd, 0x5b, 0x07, 0x4e, 0x61, 0x2b, 0x33, 0xe9, 0x03, 0, 0,
        ])
        #expect(LDAPValues.sidString(sid) == "S-1-5-21-123456789-858480974-1001")
        #expect(LDAPValues.value(.init("objectGUID"), [.bytes(guid)]) == .text("12345678-1234-5678-9abc-def012345678"))
        #expect(LDAPValues.value(.init("jpegPhoto"), [.bytes(Data([0xff, 0xd8]))]) == .binary(Data([0xff, 0xd8])))
        #expect(LDAPValues.baseName("member;range=0-1499") == "member")
        #expect(RangedAttribute("member;range=0-1499")?.nextRequest == "member;range=1500-*")
        #expect(RangedAttribute("member;range=1500-*")?.nextRequest == nil)
        #expect(RangedAttribute("member;Range=3000-*")?.name == "member")
        #expect(RangedAttribute("member") == nil)
        #expect(RangedAttribute("member;range=x-1") == nil)
    }
}

/// Answers a real server may give, from a small LDAP server of our own
/// (Tests/Fixtures/ldap-misbehaving-server.py) read by libldap itself: none may read as a short list.
@Suite(.serialized) struct LDAPFailsClosedTests {
    /// Starts the server in `mode` and returns its URL and process.
    func server(_ mode: String) async throws -> (url: String, process: Process) {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Fixtures/ldap-misbehaving-server.py").standardized.path
        let portFile = FileManager.default.temporaryDirectory.appendingPathComponent("ldap-port-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: portFile) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [script, mode, portFile]
        // Nothing of the test runner's: an output pipe held open would keep `swift test` waiting.
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: portFile) && Date() < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let port = try String(contentsOfFile: portFile, encoding: .utf8)
        return ("ldap://127.0.0.1:\(port)", process)
    }

    func failure(_ mode: String) async throws -> String {
        let (url, process) = try await server(mode)
        // SIGKILL: a child of the test runner may start with SIGTERM blocked.
        defer { kill(process.processIdentifier, SIGKILL) }
        var source = LDAPSource(urls: [url], baseDN: "dc=example,dc=com", attributes: ["cn", "member"])
        // Generous: on two cores the parallel suites can starve the Python server for seconds
        // (a 5 s limit once read as "Can't contact LDAP server"); what is tested is the error, not speed.
        source.timeoutSeconds = 30
        return await readFailure(source).map { "\($0)" } ?? "no error"
    }

    @Test func anAnswerWithoutItsPagingControlIsAnError() async throws {
        let message = try await failure("no-paging-control")
        #expect(message.contains("carries no paging control, so it may be incomplete"), "\(message)")
    }

    @Test func rangesThatStopShortAreAnError() async throws {
        let message = try await failure("short-range")
        #expect(
            message.contains("cn=staff,dc=example,dc=com: the directory stopped returning values of member after 2"),
            "\(message)")
    }
}
