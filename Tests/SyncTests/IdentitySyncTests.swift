import ComplianceSimulator
import Foundation
import TestSupport
import Testing

/// One person's record is never handed to another: the API matches a row on `employee_id`, else
/// on email, so an email that moves between two employee ids must not move a record. Through the
/// quick start's CSV and the simulator, which matches as the API does.
@Suite struct IdentitySyncTests {
    /// Rewrites the quick start's CSV: rows removed by employee number, rows changed by a closure on
    /// their cells, rows added.
    static func edit(
        _ harness: SyncHarness, removing: Set<String> = [], change: [String: (inout [String]) -> Void] = [:],
        adding: [String] = []
    ) throws {
        let lines = try harness.example.read("people.csv").split(separator: "\n").map(String.init)
        var out = [lines[0]]
        for line in lines.dropFirst() {
            var cells = SyncHarness.cells(line)
            if removing.contains(cells[0]) { continue }
            if let change = change[cells[0]] {
                change(&cells)
                out.append(
                    cells.map {
                        $0.contains(",") || $0.contains("\"")
                            ? "\"\($0.replacingOccurrences(of: "\"", with: "\"\""))\"" : $0
                    }.joined(separator: ","))
            } else {
                out.append(line)
            }
        }
        try harness.example.write("people.csv", (out + adding).joined(separator: "\n") + "\n")
    }

    static func plan(_ harness: SyncHarness, _ arguments: [String] = []) async throws -> [String: Any] {
        let plan = try await harness.run("plan", ["--format", "json"] + arguments)
        #expect(plan.status == 0, "\(plan.all)")
        return try #require(try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any])
    }

    @Test func anEmailHandedFromALeaverToANewHireMovesNoRecord() async throws {
        try await withHarness { harness in
            #expect(try await harness.run("sync").status == 0)
            // Alan Turing leaves; a new hire gets his address (a reused mailbox), under another employee id.
            try Self.edit(
                harness, removing: ["E1003", "E1004"],
                adding: ["E2001,Alana,,Turner,alan.turing@example.com,Analyst,Research,111-22-3333,2026-01-05"])
            let plan = try await Self.plan(harness)
            let summary = try #require(plan["summary"] as? [String: Int])
            #expect(summary["rekeys"] == 0 && summary["removals"] == 2 && summary["held"] == 1, "\(summary)")
            let held = try #require((plan["held"] as? [[String: Any]])?.first)
            #expect(held["source_id"] as? String == "E2001" && held["holder"] as? String == "E1003")
            #expect((held["reason"] as? String)?.contains("sync --approve") == true)

            let sync = try await harness.run("sync")
            #expect(sync.status == 0, "\(sync.all)")
            #expect(sync.all.contains("E2001") && sync.all.contains("E1003"), "names both: \(sync.all)")
            var (active, terminated) = await harness.actualPeople()
            #expect(terminated["E1003"]?["email"] == "alan.turing@example.com", "the leaver ends under their own id")
            #expect(active["E2001"] == nil && terminated["E2001"] == nil, "the new hire is held")
            #expect(active["E1003"] == nil)

            // Held again next run, and a second new hire taking the address of someone terminated long ago.
            try Self.edit(
                harness,
                adding: ["E2002,Josefa,,Martin,jose.martinez@example.com,Administrator,IT,222-33-4444,2026-02-01"])
            let again = try await harness.run("sync")
            #expect(again.status == 0, "\(again.all)")
            (active, terminated) = await harness.actualPeople()
            #expect(active["E2002"] == nil && terminated["E1004"]?["email"] == "jose.martinez@example.com")

            // The operator moves the leavers' addresses in the account, then approves the plan that lists the holds.
            let refused = await harness.simulator.simulator.administer([
                [
                    "employee_id": "E1003", "first_name": "Alan", "last_name": "Turing",
                    "email": "alan.turing.former@example.com",
                ],
                [
                    "employee_id": "E1004", "first_name": "José", "last_name": "Martínez",
                    "email": "jose.martinez.former@example.com",
                ],
            ])
            #expect(refused.isEmpty, "\(refused)")
            let saved = harness.example.path("plan.json")
            #expect(try await harness.run("plan", ["--save", saved]).status == 0)
            let approved = try await harness.run("sync", ["--approve", saved])
            #expect(approved.status == 0, "\(approved.all)")
            (active, terminated) = await harness.actualPeople()
            #expect(active["E2001"]?["email"] == "alan.turing@example.com")
            #expect(active["E2002"]?["email"] == "jose.martinez@example.com")
            #expect(terminated["E1003"]?["email"] == "alan.turing.former@example.com")
            #expect(terminated["E1004"]?["first_name"] == "José")
            #expect(try await Self.plan(harness)["summary"].flatMap { $0 as? [String: Int] }?["held"] == 0)
        }
    }

    /// One person gives an address up and a new hire takes it in the same run: the new hire waits
    /// for the change to be confirmed, and goes out by itself with the next run.
    @Test func aNewHireTakingAnAddressGivenUpThisRunWaitsOneRun() async throws {
        try await withHarness { harness in
            #expect(try await harness.run("sync").status == 0)
            try Self.edit(
                harness, change: ["E1005": { $0[4] = "zoe.b@example.com" }],
                adding: ["E2003,Zoey,,Brenner,zoe.berenger@example.com,Planner,Programs,333-44-5555,2026-03-02"])
            let first = try await harness.run("sync")
            #expect(first.status == 0, "\(first.all)")
            var active = await harness.actualPeople().active
            #expect(active["E1005"]?["email"] == "zoe.b@example.com" && active["E2003"] == nil)
            let second = try await harness.run("sync")
            #expect(second.status == 0, "\(second.all)")
            active = await harness.actualPeople().active
            #expect(active["E2003"]?["email"] == "zoe.berenger@example.com" && active["E1005"]?["first_name"] == "Zoë")
        }
    }

    /// Two people's addresses move along a chain in one run: the one who gives an address up is
    /// sent before the one who takes it, so the API never refuses it as taken.
    @Test func anAddressIsGivenUpBeforeItIsTaken() async throws {
        try await withHarness { harness in
            #expect(try await harness.run("sync").status == 0)
            // E1006 takes E1007's address, E1007 takes E1008's, E1008 takes a new one.
            try Self.edit(
                harness,
                change: [
                    "E1006": { $0[4] = "mei.zhang@example.com" }, "E1007": { $0[4] = "bob.oneil@example.com" },
                    "E1008": { $0[4] = "robert.oneil@example.com" },
                ])
            let sync = try await harness.run("sync")
            #expect(sync.status == 0, "\(sync.all)")
            #expect(sync.stdout.contains("updated 3"), "\(sync.stdout)")
            let active = await harness.actualPeople().active
            #expect(active["E1006"]?["email"] == "mei.zhang@example.com")
            #expect(active["E1007"]?["email"] == "bob.oneil@example.com")
            #expect(active["E1008"]?["email"] == "robert.oneil@example.com")
        }
    }

    /// Someone `dates:` hold back (not started yet) is nobody's new identity: the leaver under the
    /// old id is terminated, and the new record waits for its start day.
    @Test func peopleHeldBackByDatesAreNoReKeyTargets() async throws {
        try await withHarness { harness in
            try harness.example.write(
                "people.csv",
                """
                badge,first_name,last_name,email,start
                b1,Ada,Lovelace,ada@example.com,2020-01-01
                b2,Grace,Hopper,grace@example.com,2020-01-01
                b3,Alan,Turing,alan@example.com,2020-01-01

                """)
            try harness.example.editJob("quickstart.yml") { job in
                job["source"] = ["type": "csv", "path": "people.csv", "id": "badge"]
                job["mapping"] = [
                    "first_name": "first_name", "last_name": "last_name", "email": "email",
                ]
                job["dates"] = ["starts_on": "start"]
                job["removals"] = ["action": "terminate", "max_percent": 100]
            }
            #expect(try await harness.run("sync").status == 0)
            // Alan leaves (b3 gone) and is rehired under a new badge, starting next year.
            try harness.example.write(
                "people.csv",
                """
                badge,first_name,last_name,email,start
                b1,Ada,Lovelace,ada@example.com,2020-01-01
                b2,Grace,Hopper,grace@example.com,2020-01-01
                b4,Alan,Turing,alan@example.com,2099-01-01

                """)
            let plan = try await Self.plan(harness)
            let summary = try #require(plan["summary"] as? [String: Int])
            #expect(summary["rekeys"] == 0 && summary["removals"] == 1 && summary["starting"] == 1, "\(summary)")
            let sync = try await harness.run("sync")
            #expect(sync.status == 0, "\(sync.all)")
            let terminated = await harness.actualPeople().terminated
            #expect(terminated["alan@example.com"] != nil, "terminated until the start day")
        }
    }
}
