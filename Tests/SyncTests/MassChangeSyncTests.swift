import ComplianceSimulator
import Foundation
import TestSupport
import Testing

/// Joined sources fail closed, and one field changed for many people at once stops a run: through
/// the quick start's CSV joined with a directory export (another CSV) and the simulator.
@Suite struct MassChangeSyncTests {
    /// Joins the quick start's HR export with `directory.csv` (`guid,number,mail`) on the employee
    /// number; the e-mail is the directory's, else HR's.
    static func join(_ harness: SyncHarness, directory: [String], member: [String: Any] = [:]) throws {
        try harness.example.write("directory.csv", (["guid,number,mail"] + directory).joined(separator: "\n") + "\n")
        try harness.example.editJob("quickstart.yml") { job in
            // The quick start's source the first time, the joined job's HR source after that.
            var hr = job["source"] == nil ? job.section("sources").section("hr") : job.section("source")
            hr["primary"] = true
            let ad: [String: Any] = [
                "type": "csv", "path": "directory.csv", "id": "guid",
                "join": ["attribute": "number", "to": "employee_number"],
            ].merging(member) { $1 }
            job["source"] = nil
            job["sources"] = ["hr": hr, "ad": ad]
            var mapping = job.section("mapping")
            mapping["email"] = ["coalesce": ["ad.mail", "hr.email"], "transform": ["trim", "lowercase"]]
            job["mapping"] = mapping
        }
    }

    /// Every HR person's directory row, with a directory address of their own.
    static func directory(_ harness: SyncHarness, only: Int? = nil) throws -> [String] {
        let ids = try harness.expectedPeople().keys.sorted()
        return ids.prefix(only ?? ids.count).map { "g-\($0),\($0),\($0.lowercased())@corp.example.com" }
    }

    @Test func aJoinedSourceThatReturnsNothingStopsTheRun() async throws {
        try await withHarness { harness in
            try Self.join(harness, directory: try Self.directory(harness))
            #expect(try await harness.run("sync").status == 0)
            try Self.join(harness, directory: [])
            let stopped = try await harness.run("sync")
            #expect(stopped.status == 3, "\(stopped.all)")
            #expect(stopped.stderr.contains("the joined source ad returned no records"), "\(stopped.stderr)")
            let plan = try await harness.run("plan", ["--format", "json"])
            let json = try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any]
            #expect((json?["joined"] as? [[String: Any]])?.first?["records"] as? Int == 0, "\(plan.stdout.prefix(300))")

            // Approved as seen in a saved plan, or allowed, it goes on (here: every address falls back to HR's).
            let saved = harness.example.path("plan.json")
            let plan2 = try await harness.run("plan", ["--save", saved, "--allow-partial-join", "--allow-mass-change"])
            #expect(plan2.status == 0, "\(plan2.all)")
            let approved = try await harness.run("sync", ["--approve", saved])
            #expect(approved.status == 0, "\(approved.all)")
            #expect(await harness.actualPeople().active["E1001"]?["email"] == "ada.lovelace@example.com")
        }
    }

    @Test func aJoinedSourcesMinRecordsIsHonoured() async throws {
        try await withHarness { harness in
            try Self.join(harness, directory: try Self.directory(harness, only: 3), member: ["min_records": 10])
            let stopped = try await harness.run("sync")
            #expect(stopped.status == 3, "\(stopped.all)")
            #expect(stopped.stderr.contains("fewer than its min_records (10)"), "\(stopped.stderr)")
            #expect(await harness.stats()["imports_created"] == 0)
        }
    }

    /// A directory that lost half its entries (a permission lost for one OU): half the addresses
    /// would fall back to HR's. The change guard stops it; allowed, it goes on.
    @Test func oneFieldChangedForManyPeopleStopsTheRun() async throws {
        try await withHarness { harness in
            try Self.join(harness, directory: try Self.directory(harness))
            #expect(try await harness.run("sync").status == 0)
            try Self.join(harness, directory: try Self.directory(harness, only: 14))
            // The join guard would stop it first (14 of 28 matched, from 28): lifted, to see the change guard.
            let stopped = try await harness.run("sync", ["--allow-partial-join"])
            #expect(stopped.status == 3, "\(stopped.all)")
            #expect(stopped.stderr.contains("would change email for 14 people"), "\(stopped.stderr)")
            #expect(stopped.stderr.contains("guards.max_changed_percent"), "\(stopped.stderr)")

            // Approved for exactly what a saved plan listed.
            let saved = harness.example.path("plan.json")
            #expect(try await harness.run("plan", ["--save", saved]).status == 3)
            let approved = try await harness.run("sync", ["--approve", saved])
            #expect(approved.status == 0, "\(approved.all)")
            #expect(approved.stdout.contains("updated 14"), "\(approved.stdout)")
        }
    }

    @Test func aFewChangesOrAWiderLimitGoThrough() async throws {
        try await withHarness { harness in
            try Self.join(harness, directory: try Self.directory(harness))
            #expect(try await harness.run("sync").status == 0)
            // Four changes: under the floor of five, whatever the share.
            try Self.join(harness, directory: try Self.directory(harness, only: 24))
            let few = try await harness.run("sync")
            #expect(few.status == 0, "\(few.all)")
            try Self.join(harness, directory: try Self.directory(harness, only: 14))
            try harness.example.editJob("quickstart.yml") { job in
                job["guards"] = ["max_changed_percent": ["email": 50]]
            }
            let wide = try await harness.run("sync", ["--allow-partial-join"])
            #expect(wide.status == 0, "\(wide.all)")
        }
    }

    /// A directory that lost most of its entries (an OU its account may no longer read), where
    /// nothing it gives changes anyone's fields (the title falls back to HR's, which is the same):
    /// the join guard stops the run on the share of people matched, against the last successful run.
    @Test func aJoinedSourceMatchingFarFewerPeopleStopsTheRun() async throws {
        try await withHarness { harness in
            let everyone = try harness.expectedPeople()
            func directory(only: Int) -> [String] {
                func quoted(_ text: String) -> String {
                    "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
                }
                return everyone.keys.sorted().prefix(only).map { id in
                    "g-\(id),\(id),\(everyone[id]!["email"]!),\(quoted(everyone[id]!["job_title"] ?? ""))"
                }
            }
            func write(_ rows: [String]) throws {
                try harness.example.write(
                    "directory.csv", (["guid,number,mail,title"] + rows).joined(separator: "\n") + "\n")
            }
            try write(directory(only: everyone.count))
            try Self.join(harness, directory: [])
            try write(directory(only: everyone.count))
            try harness.example.editJob("quickstart.yml") { job in
                var mapping = job.section("mapping")
                mapping["job_title"] = ["coalesce": ["ad.title", "title"]]
                job["mapping"] = mapping
            }
            let first = try await harness.run("sync")
            #expect(first.status == 0, "\(first.all)")
            try write(directory(only: 10))
            let stopped = try await harness.run("sync")
            #expect(stopped.status == 3, "\(stopped.all)")
            #expect(
                stopped.stderr.contains("matched 10 of 28 people, down from 28 of 28 at the last successful run"),
                "\(stopped.stderr)")
            let allowed = try await harness.run("sync", ["--allow-partial-join"])
            #expect(allowed.status == 0 && allowed.stdout.contains("nothing to do"), "\(allowed.all)")
        }
    }
}
