import ComplianceSimulator
import Foundation
import TestSupport
import Testing

/// Reading only what changed (DirSync, `source.changes`) against the DC: deletes, disables, moves,
/// renames and edits come through a change read, a full read agrees after every run, and each reason
/// for a full read happens when the job or the server makes it.
extension ActiveDirectorySyncTests {
    /// A job on `ou` that reads changes with DirSync, binding as the account that may.
    func changeJob(
        in folder: URL, domain: Domain, simulator: RunningSimulator, base: String, source: [String] = [],
        bindDN: String? = nil
    ) throws -> String {
        try job(
            in: folder, domain: domain, simulator: simulator, base: base,
            bind: [
                "bind_dn: \"\(try bindDN ?? TestServers.setting("COMPLIANCE_SYNC_AD_DIRSYNC_DN"))\"",
                "bind_password_env: AD_BIND_PASSWORD",
            ],
            source: ["changes: dirsync"] + source)
    }

    /// Edits, a disable, a move out of the base, a rename, a delete and an add, all through a change
    /// read: the DC returns only the changed entries, and a full read then agrees.
    @Test func aChangeReadSendsWhatChangedAndDeletesRight() async throws {
        try await withDomain { domain, simulator, folder, env in
            let run = "d\(UInt32.random(in: 0...UInt32.max))"
            let ou = try await domain.addOU(run, users: Array(repeating: "title: Analyst", count: 40))
            // A domain has deleted objects; this one may not have any yet.
            try await domain.apply("dn: CN=\(run)-39,\(ou)\nchangetype: delete\n")
            let path = try changeJob(in: folder, domain: domain, simulator: simulator, base: ou)
            try await syncAndAgree(path, env, kind: "full", "first run")
            try await domain.apply(
                domain.editDisableMoveRename(run, in: ou)
                    + """
                    dn: CN=\(run)-5,\(ou)
                    changetype: delete

                    dn: CN=\(run)-new,\(ou)
                    changetype: add
                    objectClass: user
                    sAMAccountName: \(run)-new
                    givenName: New
                    sn: Hire
                    mail: \(run)-new@corp.example.com
                    employeeID: \(run)-new
                    userAccountControl: 512

                    """)
            let (read, summary, stderr) = try await readAndSummary(path, env)
            #expect(read["kind"] as? String == "changes", "\(stderr)")
            #expect((read["entries"] as? Int ?? 99) < 20, "the DC returned only the changes: \(read)")
            #expect(summary["creates"] == 1 && summary["updates"] == 1 && summary["removals"] == 3, "\(summary)")
            try await syncAndAgree(path, env, kind: "changes", "after the edits")
            let gone = await simulator.simulator.people().filter { !($0["terminated_at"] ?? "").isEmpty }
            #expect(Set(gone.compactMap { $0["employee_id"] }) == ["\(run)-2", "\(run)-3", "\(run)-5"])
        }
    }

    /// Each reason for a full read, made to happen: the first run, `--full-read`, changed settings, a run
    /// that did not finish, another DC, a cookie the DC refuses, `full_every` passed, a scoping group's members changed, a followed entry
    /// renamed, and an account that may not read changes (which warns and reads everything every run).
    @Test func everyReasonForAFullRead() async throws {
        try await withDomain { domain, simulator, folder, env in
            let run = "f\(UInt32.random(in: 0...UInt32.max))"
            let ou = try await domain.addOU(run, users: Array(repeating: "", count: 6))
            try await domain.apply("dn: CN=\(run)-5,\(ou)\nchangetype: delete\n")
            var path = try changeJob(in: folder, domain: domain, simulator: simulator, base: ou)
            func reason(_ extra: [String] = []) async throws -> (String, String) {
                let read = try await readAndSummary(path, env, extra).read
                return (read["kind"] as? String ?? "", read["reason"] as? String ?? "")
            }
            #expect(try await reason().1.contains("first run"))
            #expect(try await runCLI(["sync", "--config", path], environment: env).status == 0)
            #expect(try await reason().0 == "changes")
            #expect(try await reason(["--full-read"]).1.contains("--full-read"))

            path = try changeJob(
                in: folder, domain: domain, simulator: simulator, base: ou, source: ["timeout_seconds: 29"])
            #expect(try await reason().1.contains("settings changed"))
            #expect(try await runCLI(["sync", "--config", path], environment: env).status == 0)

            var killing = env
            killing["COMPLIANCE_SYNC_FAILPOINT"] = "after-submit:1"
            try await domain.apply("dn: CN=\(run)-1,\(ou)\nchangetype: modify\nreplace: title\ntitle: Lead\n")
            _ = try await runCLI(["sync", "--config", path], environment: killing)
            #expect(try await reason().1.contains("did not finish"))
            #expect(try await runCLI(["sync", "--config", path], environment: env).status == 0)
            #expect(try await reason().0 == "changes")

            // The stored position as another DC's, then as a cookie the DC cannot read.
            let snapshot = folder.appendingPathComponent("ad.snapshot").path
            func rewrite(_ key: String, _ value: String) async throws {
                let sql =
                    "UPDATE runs SET source_read = json_set(source_read, '$.position.\(key)', '\(value)') "
                    + "WHERE run_id = (SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 1)"
                let result = try await runProcess("/usr/bin/sqlite3", [snapshot, sql])
                #expect(result.status == 0, "\(result.all)")
            }
            try await rewrite("server", "CN=NTDS Settings,CN=DC2,CN=Servers,CN=Default-First-Site-Name")
            #expect(try await reason().1.contains("another one"))
            #expect(try await runCLI(["sync", "--config", path], environment: env).status == 0)
            try await rewrite("cookie", Data("not a DirSync cookie".utf8).base64EncodedString())
            #expect(try await reason().1.contains("refused the DirSync cookie"))
            #expect(try await runCLI(["sync", "--config", path], environment: env).status == 0)

            path = try changeJob(
                in: folder, domain: domain, simulator: simulator, base: ou, source: ["full_every: 1s"])
            #expect(try await runCLI(["sync", "--config", path], environment: env).status == 0)
            try await Task.sleep(for: .milliseconds(1100))
            #expect(try await reason().1.contains("full_every"))

            let group = "CN=\(run)-group,\(ou)"
            try await domain.apply(
                "dn: \(group)\nobjectClass: group\nsAMAccountName: \(run)-group\nmember: CN=\(run)-0,\(ou)\n")
            path = try changeJob(
                in: folder, domain: domain, simulator: simulator, base: ou, source: ["groups:", "  - \(group)"])
            #expect(try await runCLI(["sync", "--config", path], environment: env).status == 0)
            #expect(try await reason().0 == "changes")
            try await domain.apply("dn: \(group)\nchangetype: modify\nadd: member\nmember: CN=\(run)-1,\(ou)\n")
            let (kind, why) = try await reason()
            #expect(kind == "full" && why.contains("which scopes the job"), "\(why)")
            let member = try await readAndSummary(path, env).summary
            #expect((member["creates"] ?? 0) + (member["updates"] ?? 0) == 1, "the new member: \(member)")

            // A mapping follows `manager` to its entry: that entry renamed means a full read.
            try await domain.apply(
                "dn: CN=\(run)-2,\(ou)\nchangetype: modify\nreplace: manager\nmanager: CN=\(run)-0,\(ou)\n")
            path = try job(
                in: folder, domain: domain, simulator: simulator, base: ou,
                bind: [
                    "bind_dn: \"\(try TestServers.setting("COMPLIANCE_SYNC_AD_DIRSYNC_DN"))\"",
                    "bind_password_env: AD_BIND_PASSWORD",
                ],
                source: ["changes: dirsync"],
                mapping: ["agency_id_number: { attribute: manager, follow: employeeID, optional: true }"])
            #expect(try await runCLI(["sync", "--config", path], environment: env).status == 0)
            #expect(try await reason().0 == "changes")
            try await domain.apply(
                "dn: CN=\(run)-0,\(ou)\nchangetype: modrdn\nnewrdn: CN=\(run)-boss\ndeleteoldrdn: 1\n")
            #expect(try await reason().1.contains("a mapping follows DNs"))

            // The least-privilege account may not read changes: said, and every run reads everything.
            path = try changeJob(
                in: folder, domain: domain, simulator: simulator, base: ou,
                bindDN: TestServers.setting("COMPLIANCE_SYNC_AD_BIND_DN"))
            let check = try await runCLI(["validate", "--config", path], environment: env)
            #expect(check.stderr.contains("sees no deleted object"), "validate says so: \(check.stderr)")
            let plain = try await runCLI(["sync", "--config", path], environment: env)
            #expect(plain.stderr.contains("so every run reads everything"), "\(plain.stderr)")
            #expect(try await reason().1.contains("no change feed position"))
        }
    }
}

/// A seeded walk of directory changes with change reads, checked by a full read after every run.
extension ActiveDirectorySyncTests {
    /// Seeds to walk: `COMPLIANCE_SYNC_WALK_SEEDS` (comma-separated), else two fixed ones;
    /// `COMPLIANCE_SYNC_WALK_STEPS` steps each (default 8). scripts/walk-changes runs many.
    static var walkSeeds: [UInt64] {
        let given = ProcessInfo.processInfo.environment["COMPLIANCE_SYNC_WALK_SEEDS"]
        return given?.split(separator: ",").compactMap { UInt64($0) } ?? [1, 2]
    }

    @Test(arguments: walkSeeds) func aSeededWalkOfChangesNeverDrifts(seed: UInt64) async throws {
        let steps = Int(ProcessInfo.processInfo.environment["COMPLIANCE_SYNC_WALK_STEPS"] ?? "") ?? 8
        try await withDomain { domain, simulator, folder, env in
            var random = SplitMix(seed: seed)
            let run = "w\(seed)x\(UInt16.random(in: 0...UInt16.max))"  // employeeID holds 16 characters
            let ou = try await domain.addOU(run, users: Array(repeating: "title: Analyst", count: 12))
            let group = "CN=\(run)-group,\(ou)"
            try await domain.apply(
                "dn: \(group)\nobjectClass: group\nsAMAccountName: \(run)-g\n"
                    + (0..<10).map { "member: CN=\(run)-\($0),\(ou)\n" }.joined()
                    + "\ndn: CN=\(run)-11,\(ou)\nchangetype: delete\n")
            let scoped = random.next() % 2 == 0
            let path = try changeJob(
                in: folder, domain: domain, simulator: simulator, base: ou,
                source: scoped ? ["groups:", "  - \(group)"] : [])
            try await syncAndAgree(path, env, kind: "full", "seed \(seed): the first run")
            // Where each person is: "in" the OU, "out" (OU=Former), or deleted; and their RDN.
            var place = Dictionary(uniqueKeysWithValues: (0..<11).map { ("\(run)-\($0)", "in") })
            var added = 0
            var changeReads = 0
            for step in 0..<steps {
                var ldif = ""
                for _ in 0..<(1 + Int(random.next() % 3)) {
                    let inside = place.filter { $0.value == "in" }.keys.sorted()
                    let outside = place.filter { $0.value == "out" }.keys.sorted()
                    guard let someone = inside.randomElement(using: &random) else { break }
                    let dn = "CN=\(someone),\(ou)"
                    switch random.next() % 8 {
                    case 0: ldif += "dn: \(dn)\nchangetype: modify\nreplace: title\ntitle: T\(random.next() % 100)\n\n"
                    case 1:
                        let flag = random.next() % 2 == 0 ? 514 : 512
                        ldif +=
                            "dn: \(dn)\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: \(flag)\n\n"
                    case 2:
                        ldif +=
                            "dn: \(dn)\nchangetype: modrdn\nnewrdn: CN=\(someone)\ndeleteoldrdn: 1\n"
                            + "newsuperior: OU=Former,\(domain.base)\n\n"
                        place[someone] = "out"
                    case 3:
                        if let back = outside.randomElement(using: &random) {
                            ldif +=
                                "dn: CN=\(back),OU=Former,\(domain.base)\nchangetype: modrdn\nnewrdn: CN=\(back)\n"
                                + "deleteoldrdn: 1\nnewsuperior: \(ou)\n\n"
                            place[back] = "in"
                        }
                    case 4:
                        ldif += "dn: \(dn)\nchangetype: delete\n\n"
                        place[someone] = nil
                    case 5:
                        added += 1
                        let name = "\(run)-a\(added)"
                        ldif +=
                            "dn: CN=\(name),\(ou)\nchangetype: add\nobjectClass: user\nsAMAccountName: \(name)\n"
                            + "givenName: Added\nsn: User\(added)\nmail: \(name)@corp.example.com\n"
                            + "employeeID: \(name)\nuserAccountControl: 512\n\n"
                        place[name] = "in"
                    case 6:
                        let change = random.next() % 2 == 0 ? "add" : "delete"
                        ldif += "dn: \(group)\nchangetype: modify\n\(change): member\nmember: \(dn)\n\n"
                    default:
                        ldif +=
                            "dn: \(dn)\nchangetype: modify\nreplace: mail\nmail: \(someone)-\(step)@corp.example.com\n\n"
                    }
                }
                if !ldif.isEmpty { try await domain.applyLeniently(ldif) }
                if try await syncAndAgree(path, env, kind: nil, "seed \(seed), step \(step)") == "changes" {
                    changeReads += 1
                }
            }
            #expect(changeReads > steps / 3, "seed \(seed): \(changeReads) of \(steps) runs read only the changes")
        }
    }
}
