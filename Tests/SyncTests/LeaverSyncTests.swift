import ComplianceSimulator
import Foundation
import TestSupport
import Testing

/// However HR says "this person left", they end on the right day: through a CSV export read by the
/// CSV connector and the simulator.
@Suite struct LeaverSyncTests {
    static let header = "badge,first_name,last_name,email,employee_id,status,left_on"

    /// Writes the export and points the quick start's job at it, with `dates:` and the source extras given.
    static func job(
        _ harness: SyncHarness, rows: [String], dates: [String: Any], source: [String: Any] = [:],
        removals: [String: Any] = ["action": "terminate", "max_percent": 100]
    ) throws {
        try harness.example.write("people.csv", ([header] + rows).joined(separator: "\n") + "\n")
        try harness.example.editJob("quickstart.yml") { job in
            job["source"] = ["type": "csv", "path": "people.csv", "id": "badge"].merging(source) { $1 }
            job["mapping"] = [
                "first_name": "first_name", "last_name": "last_name", "email": "email", "employee_id": "employee_id",
            ]
            job["dates"] = dates
            job["removals"] = removals
        }
    }

    static let staff = [
        "b1,Ada,Lovelace,ada@example.com,E1,ACTIVE,", "b2,Grace,Hopper,grace@example.com,E2,ACTIVE,",
        "b3,Alan,Turing,alan@example.com,E3,ACTIVE,", "b4,Mei,Zhang,mei@example.com,E4,ACTIVE,",
    ]

    /// A status without a date ends the person on the day the run first sees it; with a date, on that date.
    @Test func aStatusSaysTheyLeftWithOrWithoutADate() async throws {
        try await withHarness { harness in
            let dates: [String: Any] = [
                "ends_on": "left_on", "ended_when": ["attribute": "status", "equals": "TERMINATED"],
            ]
            try Self.job(harness, rows: Self.staff, dates: dates)
            #expect(try await harness.run("sync").status == 0)
            try Self.job(
                harness,
                rows: [
                    Self.staff[0], Self.staff[1], "b3,Alan,Turing,alan@example.com,E3,TERMINATED,",
                    "b4,Mei,Zhang,mei@example.com,E4,TERMINATED,2026-01-15",
                ], dates: dates)
            let sync = try await harness.run("sync")
            #expect(sync.status == 0, "\(sync.all)")
            let terminated = await harness.actualPeople().terminated
            #expect(terminated["E4"]?["terminated_at"] == "2026-01-15 00:00:00 UTC", "\(terminated)")
            let today = String(ISO8601DateFormatter().string(from: Date()).prefix(10))
            #expect(terminated["E3"]?["terminated_at"] == "\(today) 00:00:00 UTC", "\(terminated)")
            let again = try await harness.run("sync")
            #expect(again.stdout.contains("nothing to do"), "kept, not sent again: \(again.all)")
        }
    }

    /// A filter that leaves out a leaver who carries a leaving date terminates them on that date.
    @Test func aFilteredOutLeaverEndsOnTheirOwnDay() async throws {
        try await withHarness { harness in
            let filter: [String: Any] = ["exclude": ["attribute": "status", "equals": "TERMINATED"]]
            try Self.job(
                harness, rows: Self.staff, dates: ["ends_on": "left_on"], source: filter,
                removals: ["action": "terminate", "max_percent": 100, "grace": "7d"])
            #expect(try await harness.run("sync").status == 0)
            try Self.job(
                harness, rows: Array(Self.staff.prefix(3)) + ["b4,Mei,Zhang,mei@example.com,E4,TERMINATED,2026-02-01"],
                dates: ["ends_on": "left_on"], source: filter,
                removals: ["action": "terminate", "max_percent": 100, "grace": "7d"])
            let sync = try await harness.run("sync")
            #expect(sync.status == 0, "\(sync.all)")
            #expect(await harness.actualPeople().terminated["E4"]?["terminated_at"] == "2026-02-01 00:00:00 UTC")
        }
    }

    /// HR keeps a leaver on its books while a new hire has their old address: not a duplicate.
    @Test func aLeaversAddressIsNoDuplicate() async throws {
        try await withHarness { harness in
            try Self.job(
                harness,
                rows: Self.staff + [
                    "b5,Alan,Turing,former@example.com,E5,ACTIVE,2020-06-30",
                    "b6,Alana,Turner,former@example.com,E6,ACTIVE,",
                ], dates: ["ends_on": "left_on"])
            let sync = try await harness.run("sync")
            #expect(sync.status == 0, "\(sync.all)")
            #expect(!sync.stdout.contains("invalid b6"), "\(sync.stdout)")
            #expect(await harness.actualPeople().active["E6"]?["email"] == "former@example.com")
        }
    }

    /// With `removals.action: report`, a leaver still in the source is recorded once, not as missing
    /// and back on every run.
    @Test func aReportedLeaverIsRecordedOnce() async throws {
        try await withHarness { harness in
            let report: [String: Any] = ["action": "report", "max_percent": 100]
            try Self.job(harness, rows: Self.staff, dates: ["ends_on": "left_on"], removals: report)
            #expect(try await harness.run("sync").status == 0)
            var rows = Self.staff
            rows[2] = "b3,Alan,Turing,alan@example.com,E3,ACTIVE,2026-01-15"
            try Self.job(harness, rows: rows, dates: ["ends_on": "left_on"], removals: report)
            for _ in 0..<3 { #expect(try await harness.run("sync").status == 0) }
            let history = try await harness.run("history", ["--person", "b3"])
            let lines = history.stdout.split(separator: "\n")
            #expect(lines.filter { $0.contains("missing") }.count == 1, "\(history.stdout)")
            #expect(!history.stdout.contains("returned"), "\(history.stdout)")
        }
    }
}
