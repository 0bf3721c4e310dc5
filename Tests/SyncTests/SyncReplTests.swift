import ComplianceSimulator
import Foundation
import TestSupport
import Testing

/// Reading only what changed from OpenLDAP (syncrepl, `source.changes: syncrepl`) against the test slapd
/// (its syncprov overlay keeps a session log of 50 changes): each test in an OU of its own, beside the
/// people other suites read.
@Suite(.enabled(if: TestServers.ldap, Comment(rawValue: TestServers.why))) struct SyncReplTests {
    struct Directory {
        let url, adminDN, adminPassword: String

        init() throws {
            url = try TestServers.setting("LDAP_TEST_URL")
            adminDN = try TestServers.setting("LDAP_TEST_ADMIN_DN")
            adminPassword = try TestServers.setting("LDAP_TEST_ADMIN_PASSWORD")
        }

        /// Applies an LDIF as the directory's administrator (`-c`: a walk's random changes need not all
        /// make sense, so some may be refused).
        func apply(_ ldif: String, leniently: Bool = false) async throws {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("sr-\(UUID()).ldif")
            try ldif.write(to: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: file) }
            let result = try await runProcess(
                "/usr/bin/ldapmodify",
                ["-a", "-x", "-H", url, "-D", adminDN, "-w", adminPassword, "-f", file.path] + (leniently ? ["-c"] : [])
            )
            if !leniently { #expect(result.status == 0, "\(result.all)") }
        }

        /// An entry's LDIF under `ou`.
        static func person(_ uid: String, in ou: String, title: String = "Analyst") -> String {
            """
            dn: uid=\(uid),\(ou)
            objectClass: inetOrgPerson
            uid: \(uid)
            cn: \(uid)
            givenName: Test
            sn: \(uid)
            mail: \(uid)@example.com
            employeeNumber: \(uid)
            title: \(title)


            """
        }

        /// An OU named `run` under the suffix with `count` people `run-0`…; and an OU `run-out` beside it.
        func addOU(_ run: String, people count: Int) async throws -> String {
            let ou = "ou=\(run),dc=example,dc=com"
            try await apply(
                "dn: \(ou)\nobjectClass: organizationalUnit\nou: \(run)\n\n"
                    + "dn: ou=\(run)-out,dc=example,dc=com\nobjectClass: organizationalUnit\nou: \(run)-out\n\n"
                    + (0..<count).map { Self.person("\(run)-\($0)", in: ou) }.joined())
            return ou
        }
    }

    func withDirectory(_ body: (Directory, URL, [String: String], RunningSimulator) async throws -> Void)
        async throws
    {
        let directory = try Directory()
        try await withSimulator(.forClient("sr-job", secret: "sr-job-secret")) { simulator in
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("syncrepl-\(UUID())")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            try await body(directory, folder, ["SR_JOB_SECRET": "sr-job-secret"], simulator)
        }
    }

    /// A job reading `ou` through syncrepl.
    /// - Parameter top: more top-level lines (`dates:`).
    func job(
        in folder: URL, _ directory: Directory, _ simulator: RunningSimulator, base: String, top: [String] = []
    ) throws -> String {
        let path = folder.appendingPathComponent("sr.yml").path
        try """
        api: { base_url: \(simulator.baseURL), client_id: sr-job, client_secret_env: SR_JOB_SECRET }
        source:
          type: ldap
          url: \(directory.url)
          base_dn: "\(base)"
          filter: "(&(objectClass=inetOrgPerson)(!(title=Contractor)))"
          id: entryUUID
          changes: syncrepl
        mapping:
          first_name: givenName
          last_name: sn
          email: { attribute: mail, transform: [first, lowercase] }
          employee_id: employeeNumber
          job_title: title
        removals: { max_percent: 100 }
        snapshot: { path: \(folder.appendingPathComponent("sr.snapshot").path) }
        \(top.joined(separator: "\n"))
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// An edit, a delete, a move out of the base, an entry out of the filter and an add come through a
    /// change read (the session log names the deleted), and a full read then agrees; past the session
    /// log (more than 50 changes since the cookie), the server names everyone present instead, and
    /// the read is still right.
    @Test func aChangeReadWithTheSessionLogAndWithThePresentPhase() async throws {
        try await withDirectory { directory, folder, env, simulator in
            let run = "sr\(UInt32.random(in: 0...UInt32.max))"
            let ou = try await directory.addOU(run, people: 70)
            let path = try job(in: folder, directory, simulator, base: ou)
            try await syncAndAgree(path, env, kind: "full", "the first run")
            try await directory.apply(
                """
                dn: uid=\(run)-1,\(ou)
                changetype: modify
                replace: title
                title: Principal Analyst

                dn: uid=\(run)-2,\(ou)
                changetype: delete

                dn: uid=\(run)-3,\(ou)
                changetype: modrdn
                newrdn: uid=\(run)-3
                deleteoldrdn: 1
                newsuperior: ou=\(run)-out,dc=example,dc=com

                dn: uid=\(run)-4,\(ou)
                changetype: modify
                replace: title
                title: Contractor


                """ + Directory.person("\(run)-new", in: ou))
            let (read, summary, stderr) = try await readAndSummary(path, env, ["--log-level", "debug"])
            #expect(read["kind"] as? String == "changes", "\(stderr)")
            #expect(summary["creates"] == 1 && summary["updates"] == 1 && summary["removals"] == 3, "\(summary)")
            try await syncAndAgree(path, env, kind: "changes", "after the session log's changes")

            // Past the session log: 60 edits and 5 deletes.
            try await directory.apply(
                (10..<70).map { "dn: uid=\(run)-\($0),\(ou)\nchangetype: modify\nreplace: title\ntitle: T\($0)\n\n" }
                    .joined() + (5..<10).map { "dn: uid=\(run)-\($0),\(ou)\nchangetype: delete\n\n" }.joined())
            let past = try await readAndSummary(path, env, ["--log-level", "debug"])
            #expect(past.read["kind"] as? String == "changes", "\(past.stderr)")
            #expect(past.stderr.contains("session log no longer covers the cookie"), "\(past.stderr)")
            #expect(past.summary["updates"] == 60 && past.summary["removals"] == 5, "\(past.summary)")
            try await syncAndAgree(path, env, kind: "changes", "after the present phase")

            // A cookie the server cannot read (slapd would answer as to no cookie, naming no deletes):
            // a full read, in which a person deleted since is gone.
            let snapshot = folder.appendingPathComponent("sr.snapshot").path
            func rewriteCookie(_ text: String) async throws {
                let sql =
                    "UPDATE runs SET source_read = json_set(source_read, '$.position.cookie', '"
                    + Data(text.utf8).base64EncodedString()
                    + "') WHERE run_id = (SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 1)"
                let rewritten = try await runProcess("/usr/bin/sqlite3", [snapshot, sql])
                #expect(rewritten.status == 0, "\(rewritten.all)")
            }
            // A cookie from the server's future (a database restored from before it, or another server).
            try await rewriteCookie("rid=000,csn=20991231235959.000000Z#000000#000#000000")
            let ahead = try await readAndSummary(path, env)
            #expect((ahead.read["reason"] as? String)?.contains("refused the stored cookie") == true, "\(ahead.read)")
            // A cookie that names another provider (server id 001) this server knows nothing of.
            try await rewriteCookie(
                "rid=000,csn=20200101000000.000000Z#000000#000#000000;20200101000000.000000Z#000000#001#000000")
            let other = try await readAndSummary(path, env)
            #expect(
                (other.read["reason"] as? String)?.contains("end before the stored cookie") == true, "\(other.read)")
            try await rewriteCookie("rid=000,csn=garbage")
            try await directory.apply("dn: uid=\(run)-20,\(ou)\nchangetype: delete\n")
            let garbled = try await readAndSummary(path, env, ["--log-level", "debug"])
            #expect(garbled.read["reason"] as? String == "the stored syncrepl cookie cannot be read", "\(garbled.read)")
            #expect(garbled.summary["removals"] == 1 && garbled.summary["creates"] == 0, "\(garbled.summary)")
            try await syncAndAgree(path, env, kind: nil, "after a cookie the server cannot read")
        }
    }

    /// A new person whose email an unchanged colleague holds: a change read sees only the newcomer, so
    /// it reads everything, and the full read finds both and sends neither (duplicate emails).
    @Test func aNewcomerWithAColleaguesEmailMeansAFullRead() async throws {
        try await withDirectory { directory, folder, env, simulator in
            let run = "se\(UInt32.random(in: 0...UInt32.max))"
            let ou = try await directory.addOU(run, people: 3)
            let path = try job(in: folder, directory, simulator, base: ou)
            try await syncAndAgree(path, env, kind: "full", "the first run")
            try await directory.apply(
                Directory.person("\(run)-new", in: ou).replacingOccurrences(
                    of: "mail: \(run)-new@example.com", with: "mail: \(run)-0@EXAMPLE.com"))
            let (read, summary, _) = try await readAndSummary(path, env)
            #expect((read["reason"] as? String)?.contains("only a full read can tell") == true, "\(read)")
            #expect(summary["creates"] == 0 && summary["invalid"] == 2, "\(summary)")
        }
    }

    /// Someone whose start day is still to come is read again by every change read, though nothing
    /// about them changes: they stay listed as starting (a change read that lost them would forget them).
    @Test func aPersonStartingLaterIsReadAgainEveryRun() async throws {
        try await withDirectory { directory, folder, env, simulator in
            let run = "sd\(UInt32.random(in: 0...UInt32.max))"
            let ou = try await directory.addOU(run, people: 3)
            try await directory.apply(
                "dn: uid=\(run)-2,\(ou)\nchangetype: modify\nreplace: description\ndescription: 2099-01-01\n")
            let path = try job(
                in: folder, directory, simulator, base: ou,
                top: ["dates:", "  starts_on: { attribute: description, optional: true }"])
            try await syncAndAgree(path, env, kind: "full", "the first run")
            try await directory.apply("dn: uid=\(run)-0,\(ou)\nchangetype: modify\nreplace: title\ntitle: Lead\n")
            let (read, summary, _) = try await readAndSummary(path, env)
            #expect(read["kind"] as? String == "changes", "\(read)")
            #expect(summary["updates"] == 1 && summary["starting"] == 1 && summary["creates"] == 0, "\(summary)")
        }
    }

    /// A seeded walk of edits, deletes, moves out and back, filter changes and adds, with change reads and
    /// now and then a forgotten cookie (a full read); a full read after every run finds nothing left to do.
    @Test(arguments: ActiveDirectorySyncTests.walkSeeds) func aSeededWalkNeverDrifts(seed: UInt64) async throws {
        let steps = Int(ProcessInfo.processInfo.environment["COMPLIANCE_SYNC_WALK_STEPS"] ?? "") ?? 8
        try await withDirectory { directory, folder, env, simulator in
            var random = SplitMix(seed: seed)
            let run = "srw\(seed)x\(UInt32.random(in: 0...UInt32.max))"
            let ou = try await directory.addOU(run, people: 12)
            let out = "ou=\(run)-out,dc=example,dc=com"
            let path = try job(in: folder, directory, simulator, base: ou)
            try await syncAndAgree(path, env, kind: "full", "seed \(seed): the first run")
            var place = Dictionary(uniqueKeysWithValues: (0..<12).map { ("\(run)-\($0)", ou) })
            var added = 0
            var changeReads = 0
            for step in 0..<steps {
                var ldif = ""
                for _ in 0..<(1 + random.below(4)) {
                    guard let uid = place.keys.sorted().randomElement(using: &random), let at = place[uid] else {
                        break
                    }
                    let dn = "uid=\(uid),\(at)"
                    switch random.below(6) {
                    case 0: ldif += "dn: \(dn)\nchangetype: modify\nreplace: title\ntitle: T\(random.below(100))\n\n"
                    case 1: ldif += "dn: \(dn)\nchangetype: modify\nreplace: title\ntitle: Contractor\n\n"
                    case 2:
                        let to = at == ou ? out : ou
                        ldif +=
                            "dn: \(dn)\nchangetype: modrdn\nnewrdn: uid=\(uid)\ndeleteoldrdn: 1\nnewsuperior: \(to)\n\n"
                        place[uid] = to
                    case 3:
                        ldif += "dn: \(dn)\nchangetype: delete\n\n"
                        place[uid] = nil
                    case 4:
                        added += 1
                        ldif += Directory.person("\(run)-a\(added)", in: ou)
                        place["\(run)-a\(added)"] = ou
                    default:
                        ldif += "dn: \(dn)\nchangetype: modify\nreplace: mail\nmail: \(uid)-\(step)@example.com\n\n"
                    }
                }
                try await directory.apply(ldif, leniently: true)
                // Now and then the cookie is forgotten (the history's record of the last read cleared).
                let forget = random.below(5) == 0
                if forget {
                    let snapshot = folder.appendingPathComponent("sr.snapshot").path
                    let cleared = try await runProcess(
                        "/usr/bin/sqlite3", [snapshot, "UPDATE runs SET source_read = NULL"])
                    #expect(cleared.status == 0, "\(cleared.all)")
                }
                let kind = try await syncAndAgree(
                    path, env, kind: forget ? "full" : nil,
                    "seed \(seed), step \(step)\(forget ? ", cookie forgotten" : "")")
                if kind == "changes" {
                    changeReads += 1
                } else {
                    #expect(forget, "seed \(seed), step \(step): \(kind)")
                }
            }
            #expect(changeReads > 0, "seed \(seed): no run read only the changes")
        }
    }
}
