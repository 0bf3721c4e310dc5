import ComplianceSimulator
import Foundation
import TestSupport
import Testing

/// `sources:` end to end: the quick start's HR export (CSV, primary) joined with a directory
/// played by an exec connector (a Python program), through the command line and the simulator.
@Suite struct JoinedSourceSyncTests {
    /// A directory program: prints one record per line of `directory.txt` (`guid,employee number,mail,title`),
    /// or fails after `FAIL_AFTER` records when that is set.
    static let program = """
        import json, os, sys
        print(json.dumps({"protocol": "compliance-sync.records", "version": 1}))
        fail = int(os.environ.get("FAIL_AFTER", "-1"))
        for n, line in enumerate(open("directory.txt")):
            if n == fail:
                print("the directory went away", file=sys.stderr); sys.exit(3)
            guid, number, mail, title = line.rstrip("\\n").split(",")
            print(json.dumps({"id": guid, "attributes": {"employeeNumber": number, "mail": mail, "title": title}}))
        """

    func join(_ harness: SyncHarness, directory: [String], onDuplicate: String? = nil) throws {
        try harness.example.write("directory.py", Self.program)
        try harness.example.write("directory.txt", directory.joined(separator: "\n") + "\n")
        try harness.example.editJob("quickstart.yml") { job in
            var hr = job.section("source")
            hr["primary"] = true
            var ad: [String: Any] = [
                "type": "exec", "command": ["python3", "directory.py"], "pass_env": ["FAIL_AFTER"],
                "join": ["attribute": "employeeNumber", "to": "employee_number"],
            ]
            if let onDuplicate { ad["on_duplicate"] = onDuplicate }
            job["source"] = nil
            job["sources"] = ["hr": hr, "ad": ad]
            var mapping = job.section("mapping")
            mapping["email"] = ["coalesce": ["ad.mail", "hr.email"], "transform": ["first", "trim", "lowercase"]]
            mapping["job_title"] = ["attribute": "ad.title", "optional": true]
            mapping["employee_id"] = "$id"
            job["mapping"] = mapping
        }
    }

    @Test func hrJoinedWithADirectoryProgram() async throws {
        try await withHarness { harness in
            try join(
                harness,
                directory: [
                    "g1,e1001,ada@corp.example.com,Chief Engineer",  // case-folded match
                    "g2,E1002, grace@corp.example.com ,Rear Admiral",
                    "g9,E9999,nobody@corp.example.com,Ghost",  // matches no one
                ])
            let plan = try await harness.run("plan", ["--format", "json"], environment: ["FAIL_AFTER": "-1"])
            #expect(plan.status == 0, "\(plan.all)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any])
            let unmatched = try #require(json["unmatched"] as? [[String: Any]])
            #expect(
                unmatched.first?["source"] as? String == "ad" && unmatched.first?["source_ids"] as? [String] == ["g9"])
            #expect((json["field_sources"] as? [String: [String]])?["email"] == ["ad", "hr"])

            let sync = try await harness.run("sync", environment: ["FAIL_AFTER": "-1"])
            #expect(sync.status == 0, "\(sync.all)")
            #expect(sync.stdout.contains("1 records of ad matched no one"), "\(sync.stdout)")
            let people = await harness.actualPeople().active
            #expect(people.count == (try harness.expectedPeople().count), "the directory adds no one")
            #expect(people["E1001"]?["email"] == "ada@corp.example.com")
            #expect(people["E1001"]?["job_title"] == "Chief Engineer")
            #expect(people["E1002"]?["email"] == "grace@corp.example.com", "trimmed")
            #expect(people["E1003"]?["email"] == (try harness.expectedPeople())["E1003"]?["email"], "HR's, unmatched")

            // A title changed in the directory: the plan says where it came from.
            try harness.example.write(
                "directory.txt",
                "g1,E1001,ada@corp.example.com,Principal Engineer\ng2,E1002,grace@corp.example.com,Rear Admiral\n")
            let text = try await harness.run("plan", environment: ["FAIL_AFTER": "-1"])
            #expect(
                text.stdout.contains(#"job_title: "Chief Engineer" -> "Principal Engineer" (from ad)"#),
                "\(text.stdout)")
        }
    }

    @Test func aDuplicateMatchIsInvalidAndAFailingDirectoryFailsTheRun() async throws {
        try await withHarness { harness in
            try join(harness, directory: ["g1,E1001,a@corp.example.com,X", "g1b,E1001,b@corp.example.com,Y"])
            let plan = try await harness.run("plan", environment: ["FAIL_AFTER": "-1"])
            #expect(plan.stdout.contains("matches 2 records of ad (g1 and g1b)"), "\(plan.stdout)")
            try harness.example.write(
                "directory.txt",
                (1...5).map { "g\($0),E100\($0),\($0)@corp.example.com,T" }.joined(separator: "\n") + "\n")
            let failed = try await harness.run("sync", environment: ["FAIL_AFTER": "3"])
            #expect(failed.status == 1, "\(failed.all)")
            #expect(await harness.stats()["import_requests"] ?? 0 == 0, "nothing was sent")
        }
    }
}
