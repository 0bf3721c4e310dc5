import ComplianceSimulator
import Foundation
import TestSupport
import Testing

/// Against a real Active Directory domain controller (Samba's, started by scripts/test through
/// scripts/samba-test-server): LDAPS with the domain's CA, a simple bind as a UPN, paged reads,
/// `objectGUID` as the id, disabled accounts, group scope, moves, renames and the search
/// references a search from the domain root meets.
@Suite(.serialized, .enabled(if: TestServers.samba, Comment(rawValue: TestServers.why)))
struct ActiveDirectorySyncTests {
    struct Domain {
        let url, ca, base, upn, password, adminDN, adminPassword: String
        let users: Int

        init() throws {
            url = try TestServers.setting("COMPLIANCE_SYNC_AD_URL")
            ca = try TestServers.setting("COMPLIANCE_SYNC_AD_CA")
            base = try TestServers.setting("COMPLIANCE_SYNC_AD_BASE")
            upn = try TestServers.setting("COMPLIANCE_SYNC_AD_UPN")
            password = try TestServers.setting("COMPLIANCE_SYNC_AD_PASSWORD")
            adminDN = try TestServers.setting("COMPLIANCE_SYNC_AD_ADMIN_DN")
            adminPassword = try TestServers.setting("COMPLIANCE_SYNC_AD_ADMIN_PASSWORD")
            users = Int(try TestServers.setting("COMPLIANCE_SYNC_AD_USERS")) ?? 0
        }

        /// The group of every Staff member (more than a range of 1,500 values).
        var clearedGroup: String { "CN=Cleared Personnel,OU=Groups,\(base)" }

        /// Adds an OU named `run` under the domain with one user per entry of `extras` (that user's own
        /// LDIF lines, `userAccountControl: 514`); each is `CN=run-i`, with `employeeID` `run-i`.
        /// - Returns: the OU's DN.
        func addOU(_ run: String, users extras: [String]) async throws -> String {
            let ou = "OU=\(run),\(base)"
            var ldif = "dn: \(ou)\nobjectClass: organizationalUnit\n\n"
            for (i, extra) in extras.enumerated() {
                ldif += """
                    dn: CN=\(run)-\(i),\(ou)
                    objectClass: user
                    sAMAccountName: \(run)-\(i)
                    givenName: Test
                    sn: User\(i)
                    mail: \(run)-\(i)@corp.example.com
                    employeeID: \(run)-\(i)
                    \(extra.contains("userAccountControl") ? "" : "userAccountControl: 512\n")\(extra)


                    """
            }
            try await apply(ldif)
            return ou
        }

        /// An LDIF for the people `addOU` made: `run`-1's title changes, `run`-2 is disabled, `run`-3 moves
        /// to OU=Former and `run`-4 is renamed.
        func editDisableMoveRename(_ run: String, in ou: String) -> String {
            """
            dn: CN=\(run)-1,\(ou)
            changetype: modify
            replace: title
            title: Principal Analyst

            dn: CN=\(run)-2,\(ou)
            changetype: modify
            replace: userAccountControl
            userAccountControl: 514

            dn: CN=\(run)-3,\(ou)
            changetype: modrdn
            newrdn: CN=\(run)-3
            deleteoldrdn: 1
            newsuperior: OU=Former,\(base)

            dn: CN=\(run)-4,\(ou)
            changetype: modrdn
            newrdn: CN=\(run)-renamed
            deleteoldrdn: 1


            """
        }

        /// Applies an LDIF as the domain's administrator, going on past changes the directory refuses
        /// (a member added twice): a walk's random changes need not all make sense.
        func applyLeniently(_ ldif: String) async throws {
            try await apply(ldif, leniently: true)
        }

        /// Applies an LDIF as the domain's administrator (`ldapmodify -a`: adds, modifies, renames).
        func apply(_ ldif: String, leniently: Bool = false) async throws {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("ad-\(UUID()).ldif")
            try ldif.write(to: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: file) }
            let result = try await runProcess(
                "/usr/bin/ldapmodify",
                ["-a", "-x", "-H", url, "-D", adminDN, "-w", adminPassword, "-f", file.path]
                    + (leniently ? ["-c"] : []),
                environment: ["LDAPTLS_CACERT": ca])
            if !leniently { #expect(result.status == 0, "\(result.all)") }
        }
    }

    /// A job reading `base` of the domain into `simulator`, binding as the sync account's UPN.
    /// - Parameters:
    ///   - bind: the lines of `source:` that say how to bind, instead of a simple bind as the UPN.
    ///   - source: more lines of `source:` (`groups:` and its list, `nested_groups: all`).
    ///   - mapping: more lines of `mapping:`.
    ///   - top: more top-level lines (`dates:`).
    func job(
        in folder: URL, domain: Domain, simulator: RunningSimulator, url: String? = nil, base: String,
        filter: String = "(objectClass=user)", pageSize: Int = 500, excludeDisabled: Bool = true,
        batchSize: Int = 1000, bind: [String]? = nil, source: [String] = [], mapping: [String] = [],
        top: [String] = []
    ) throws -> String {
        func indented(_ lines: [String]) -> String { lines.map { "  \($0)\n" }.joined() }
        let path = folder.appendingPathComponent("ad.yml").path
        try """
        api:
          base_url: \(simulator.baseURL)
          client_id: ad-job
          client_secret_env: AD_JOB_SECRET
          batch_size: \(batchSize)
        source:
          type: ldap
          url: \(url ?? domain.url)
          ca_file: \(domain.ca)
        \(indented(bind ?? ["bind_dn: \(domain.upn)", "bind_password_env: AD_BIND_PASSWORD"]))  base_dn: "\(base)"
          filter: "\(filter)"
          id: objectGUID
          exclude_disabled: \(excludeDisabled)
          page_size: \(pageSize)
        \(indented(source))mapping:
        \(indented(mapping))  first_name: givenName
          last_name: sn
          email: { attribute: mail, transform: [first, lowercase] }
          employee_id: employeeID
          job_title: { attribute: title, optional: true }
        removals:
          max_percent: 100
        snapshot:
          path: \(folder.appendingPathComponent("ad.snapshot").path)
        \(top.map { "\($0)\n" }.joined())
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// `plan --format json --log-level debug`: the plan's summary, its creates and what it logged.
    func plan(_ path: String, _ env: [String: String]) async throws
        -> (summary: [String: Int], creates: [[String: String]], stderr: String)
    {
        let plan = try await runCLI(
            ["plan", "--config", path, "--format", "json", "--log-level", "debug"], environment: env)
        #expect(plan.status == 0, "\(plan.stderr)")
        let document = try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any]
        let creates = (document?["creates"] as? [[String: Any]] ?? []).compactMap { $0["fields"] as? [String: String] }
        return (document?["summary"] as? [String: Int] ?? [:], creates, plan.stderr)
    }

    func withDomain(_ body: (Domain, RunningSimulator, URL, [String: String]) async throws -> Void) async throws {
        let domain = try Domain()
        try await withSimulator(.forClient("ad-job", secret: "ad-job-secret")) { simulator in
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ad-sync-\(UUID())")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            try await body(
                domain, simulator, folder, ["AD_JOB_SECRET": "ad-job-secret", "AD_BIND_PASSWORD": domain.password])
        }
    }

    /// Thousands of people through LDAPS in pages, scoped to a group of more than 1,500 members,
    /// disabled accounts left out; a second run has nothing to do.
    @Test func aFirstSyncOfTheDomainsStaffThroughItsLargeGroup() async throws {
        try await withDomain { domain, simulator, folder, env in
            let staff = "OU=Staff,\(domain.base)"
            let path = try job(
                in: folder, domain: domain, simulator: simulator, base: staff,
                source: ["groups:", "  - \(domain.clearedGroup)"])
            let enabled = domain.users - domain.users / 10
            let (summary, _) = try await planSummary(path, environment: env)
            #expect(summary?["creates"] == enabled && summary?["invalid"] == 0)
            let first = try await runCLI(["sync", "--config", path], environment: env)
            #expect(first.status == 0, "\(first.all)")
            #expect(await simulator.simulator.people().count == enabled)
            let again = try await planSummary(path, environment: env).0
            #expect(again?["creates"] == 0 && again?["updates"] == 0 && again?["removals"] == 0)
        }
    }

    /// An edit is one update; a disabled account and one moved out of the OU are terminated; a
    /// renamed account (a new DN, the same objectGUID) sends nothing.
    @Test func editsDisablesMovesAndRenames() async throws {
        try await withDomain { domain, simulator, folder, env in
            let run = "r\(UInt32.random(in: 0...UInt32.max))"
            let ou = try await domain.addOU(run, users: Array(repeating: "title: Analyst", count: 10))
            let path = try job(in: folder, domain: domain, simulator: simulator, base: ou)
            let first = try await runCLI(["sync", "--config", path], environment: env)
            #expect(first.status == 0, "\(first.all)")
            #expect(first.stdout.contains("created 10, updated 0, terminated 0"), "\(first.stdout)")

            try await domain.apply(domain.editDisableMoveRename(run, in: ou))
            let second = try await runCLI(["sync", "--config", path], environment: env)
            #expect(second.status == 0, "\(second.all)")
            #expect(second.stdout.contains("created 0, updated 1, terminated 2"), "\(second.stdout)")
            let people = await simulator.simulator.people()
            #expect(people.first { $0["employee_id"] == "\(run)-1" }?["job_title"] == "Principal Analyst")
            let gone = people.filter { $0["terminated_at"].map { !$0.isEmpty } ?? false }.compactMap {
                $0["employee_id"]
            }
            #expect(Set(gone) == ["\(run)-2", "\(run)-3"])
        }
    }

    /// A search from the domain root meets references to the other partitions (Configuration,
    /// DomainDnsZones): they are not people, never chased to another host, and said at debug level.
    @Test func aSearchFromTheDomainRootReadsPastItsReferences() async throws {
        try await withDomain { domain, simulator, folder, env in
            let path = try job(
                in: folder, domain: domain, simulator: simulator, base: domain.base,
                filter: "(&(objectClass=user)(employeeID=C*))")
            let plan = try await plan(path, env)
            #expect(plan.summary["creates"] == 20, "\(plan.stderr)")
            #expect(plan.stderr.contains("search references under \(domain.base)"), "\(plan.stderr)")
            #expect(plan.stderr.contains("were not followed"))
        }
    }

    /// Active Directory answers at most 1,000 entries a page (Samba does not enforce it, so the cap is
    /// the job's): a larger `page_size` is read as 1,000, said once, and paging still reads everyone.
    @Test func aPageSizeOverADsLimitIsCappedAndTheReadIsWhole() async throws {
        try await withDomain { domain, simulator, folder, env in
            let path = try job(
                in: folder, domain: domain, simulator: simulator, base: "OU=Staff,\(domain.base)",
                pageSize: 5000)
            let (summary, plan) = try await planSummary(path, environment: env)
            #expect(summary?["creates"] == domain.users - domain.users / 10)
            #expect(plan.stderr.contains("source.page_size 5000 is read as 1000"), "\(plan.stderr)")
        }
    }

    /// AD returns at most 1,500 values of an attribute at once: a group's `member` list is asked for in
    /// ranges from the start (Samba would return all 2,000 to a plain request, so only this proves AD's path).
    @Test func aGroupOfMoreThanARangeIsReadInRanges() async throws {
        try await withDomain { domain, simulator, folder, env in
            let staff = "OU=Staff,\(domain.base)"
            let path = try job(
                in: folder, domain: domain, simulator: simulator, base: staff,
                source: ["group_membership: member", "groups:", "  - \(domain.clearedGroup)"])
            let plan = try await plan(path, env)
            #expect(plan.stderr.contains("\(domain.users) members, read in ranges of 1500"), "\(plan.stderr)")
            #expect(plan.summary["creates"] == domain.users - domain.users / 10)
        }
    }

    /// `nested_groups: all` finds members of groups within groups at any depth, on AD in the search
    /// itself (`memberOf:1.2.840.113556.1.4.1941:=`, LDAP_MATCHING_RULE_IN_CHAIN), not by walking levels.
    @Test func nestedGroupsAtAnyDepthInOneSearch() async throws {
        try await withDomain { domain, simulator, folder, env in
            let run = "g\(UInt32.random(in: 0...UInt32.max))"
            let contractors = "OU=Contractors,\(domain.base)"
            func member(_ i: Int) -> String { "member: CN=contractor\(String(format: "%02d", i)),\(contractors)\n" }
            // Three levels: outer holds middle and contractor15; middle holds inner; inner holds contractors 0-4.
            try await domain.apply(
                """
                dn: CN=\(run)-inner,\(contractors)
                objectClass: group
                sAMAccountName: \(run)-inner
                \((0..<5).map(member).joined())
                dn: CN=\(run)-middle,\(contractors)
                objectClass: group
                sAMAccountName: \(run)-middle
                member: CN=\(run)-inner,\(contractors)

                dn: CN=\(run)-outer,\(contractors)
                objectClass: group
                sAMAccountName: \(run)-outer
                member: CN=\(run)-middle,\(contractors)
                \(member(15))

                """)
            for (depth, expected) in [("0", 1), ("all", 6)] {
                let path = try job(
                    in: folder, domain: domain, simulator: simulator, base: contractors,
                    source: ["nested_groups: \(depth)", "groups:", "  - CN=\(run)-outer,\(contractors)"])
                let plan = try await plan(path, env)
                #expect(plan.summary["creates"] == expected, "nested_groups: \(depth): \(plan.stderr)")
                #expect(plan.stderr.contains("in-chain matching rule") == (depth == "all"))
            }
            // A group that is not there matches nobody: the run stops rather than read everyone as gone.
            let missing = try job(
                in: folder, domain: domain, simulator: simulator, base: contractors,
                source: ["nested_groups: all", "groups:", "  - CN=\(run)-nowhere,\(contractors)"])
            let refused = try await runCLI(["plan", "--config", missing], environment: env)
            #expect(refused.status == 1 && refused.stderr.contains("\(run)-nowhere"), "\(refused.all)")
            #expect(refused.stderr.contains("was not found"), "\(refused.stderr)")
        }
    }

    /// `accountFlags` names `userAccountControl`'s bits, for include/exclude and mappings, so a job says
    /// `equals: disabled` or `equals: password_never_expires` instead of testing bits.
    @Test func accountFlagsByName() async throws {
        try await withDomain { domain, simulator, folder, env in
            let run = "f\(UInt32.random(in: 0...UInt32.max))"
            let ou = try await domain.addOU(
                run, users: [512, 514, 66048, 512].map { "userAccountControl: \($0)" })
            for (filter, expected) in [
                ("exclude: { attribute: accountFlags, equals: disabled }", 3),
                ("include: { attribute: accountFlags, equals: password_never_expires }", 1),
            ] {
                // Not exclude_disabled: the flags alone decide.
                let path = try job(
                    in: folder, domain: domain, simulator: simulator, base: ou, excludeDisabled: false,
                    source: [filter])
                let plan = try await plan(path, env)
                #expect(plan.summary["creates"] == expected, "\(filter): \(plan.stderr)")
            }
        }
    }

    /// `dates.ends_on: accountExpires` reads AD's ticks as a day with no transform: an account that
    /// expired is a leaver, one that expires later is leaving, and "never" (0, or the largest number,
    /// which every new account has) is no date at all.
    @Test func accountExpiresIsALeavingDayWithoutATransform() async throws {
        try await withDomain { domain, simulator, folder, env in
            let run = "x\(UInt32.random(in: 0...UInt32.max))"
            // Ticks of 100 ns since 1601: 2020-01-01 and 2100-01-01 (UTC), then AD's two "never" values.
            let expiries = ["132223104000000000", "1577836800000000000", "0", "9223372036854775807", nil]
            let ou = try await domain.addOU(run, users: expiries.map { $0.map { "accountExpires: \($0)" } ?? "" })
            let path = try job(
                in: folder, domain: domain, simulator: simulator, base: ou,
                top: ["dates:", "  ends_on: accountExpires"])
            let (summary, plan) = try await planSummary(path, environment: env)
            #expect(summary?["invalid"] == 0, "\(plan.stdout)")
            #expect(summary?["creates"] == 4 && summary?["left_unsent"] == 1 && summary?["leaving"] == 1, "\(plan.all)")
        }
    }

    /// `{ attribute: manager, follow: employeeID }` reads an attribute of the entry `manager` names,
    /// each manager read once however many people report to them.
    @Test func aMappingFollowsManagerToTheirEntry() async throws {
        try await withDomain { domain, simulator, folder, env in
            let run = "m\(UInt32.random(in: 0...UInt32.max))"
            let manager = "CN=\(run)-0,OU=\(run),\(domain.base)"
            let ou = try await domain.addOU(
                run, users: ["", "manager: \(manager)", "manager: \(manager)", "manager: \(manager)"])
            let path = try job(
                in: folder, domain: domain, simulator: simulator, base: ou,
                mapping: ["agency_id_number: { attribute: manager, follow: employeeID, optional: true }"])
            let plan = try await plan(path, env)
            let managers = Dictionary(
                uniqueKeysWithValues: plan.creates.compactMap { fields in
                    fields["employee_id"].map { ($0, fields["agency_id_number"] ?? "") }
                })
            #expect(
                managers == ["\(run)-0": "", "\(run)-1": "\(run)-0", "\(run)-2": "\(run)-0", "\(run)-3": "\(run)-0"])
            #expect(plan.stderr.contains("read 1 entries that mappings follow"), "\(plan.stderr)")
        }
    }

    /// A run killed outright (`kill -9`) between an import's submission and its answer: the next run
    /// settles it and sends the rest; everyone is in the account once, and a third run has nothing to do.
    @Test func aRunKilledMidUploadThenRerunConverges() async throws {
        try await withDomain { domain, simulator, folder, env in
            let path = try job(
                in: folder, domain: domain, simulator: simulator, base: "OU=Staff,\(domain.base)", batchSize: 400)
            var killing = env
            killing["COMPLIANCE_SYNC_FAILPOINT"] = "after-submit:3"
            let killed = try await runCLI(["sync", "--config", path], environment: killing)
            #expect(killed.status == 9 || killed.status == 137, "killed by SIGKILL: \(killed.all)")
            let rerun = try await runCLI(["sync", "--config", path], environment: env)
            #expect(rerun.status == 0, "\(rerun.all)")
            let people = await simulator.simulator.people()
            #expect(people.count == domain.users - domain.users / 10)
            #expect(Set(people.compactMap { $0["employee_id"] }).count == people.count, "nobody twice")
            let third = try await runCLI(["sync", "--config", path], environment: env)
            #expect(third.stdout.contains("nothing to do, 0 imports sent"), "\(third.all)")
        }
    }

    /// The DC stops answering in the middle of a read (frozen with SIGSTOP while the pages come):
    /// the run fails on the read's timeout and sends nothing; a half-read directory never reads as
    /// "everyone else left".
    @Test func theDCStoppedMidReadFailsTheRunAndSendsNothing() async throws {
        try await withDomain { domain, simulator, folder, env in
            let pidText = try String(
                contentsOfFile: try TestServers.setting("COMPLIANCE_SYNC_AD_PID_FILE"), encoding: .utf8)
            let pid = try #require(pid_t(pidText.trimmingCharacters(in: .whitespacesAndNewlines)))
            let path = try job(
                in: folder, domain: domain, simulator: simulator, base: "OU=Staff,\(domain.base)", pageSize: 1,
                source: ["timeout_seconds: 2"])
            // A page of one is a round trip: 2,000 of them take about 1.5 s here. A watcher process (not a
            // task of this test, which a busy pool may not run in time) stops the DC once the run's
            // connection to it is up (no other suite talks to it), and a tenth of a second more.
            let watcher = Process()
            watcher.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            watcher.arguments = ["-c", Self.freezeWhenConnected, String(pid)]
            try watcher.run()
            defer {
                watcher.terminate()
                kill(pid, SIGCONT)
            }
            let result = try await runCLI(["sync", "--config", path], environment: env)
            kill(pid, SIGCONT)
            #expect(result.status == 1, "\(result.all)")
            #expect(result.stderr.contains("search OU=Staff"), "the read, not the bind, failed: \(result.stderr)")
            #expect(await simulator.simulator.stats()["rows_received"] ?? 0 == 0, "nothing sent")
        }
    }

    /// Waits (up to 20 s) for a TCP connection to the DC's LDAPS port, 127.0.0.39:636, to be established
    /// (from /proc/net/tcp: 2700007F:027C, state 01), then a tenth of a second, then stops the DC (SIGSTOP).
    static let freezeWhenConnected = """
        import os, signal, sys, time
        pid = int(sys.argv[1])
        deadline = time.time() + 20
        while time.time() < deadline:
            with open("/proc/net/tcp") as table:
                if any(c[2] == "2700007F:027C" and c[3] == "01" for c in (l.split() for l in table) if len(c) > 3):
                    time.sleep(0.1)
                    os.kill(pid, signal.SIGSTOP)
                    sys.exit(0)
            time.sleep(0.005)
        sys.exit(1)
        """
}
