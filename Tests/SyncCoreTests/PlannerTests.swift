import ConnectorCore
import Foundation
import Testing

@testable import SyncCore

@Suite struct PlannerTests {
    @Test func firstRunCreatesEveryValidPerson() async throws {
        let source = ArraySource(items: [person("E2"), person("E1", ssn: "123456789")])
        let changes = try await planner().plan(source: source, snapshot: MemorySnapshot())
        #expect(changes.creates.map(\.sourceID) == ["E1", "E2"])
        #expect(changes.value("ssn", of: changes.creates[0]) == "123-45-6789")
        #expect(changes.updates.isEmpty && changes.removals.isEmpty && changes.unchanged == 0)
    }

    @Test func unchangedSourceHasNothingToDo() async throws {
        let snapshot = MemorySnapshot()
        let source = ArraySource(items: (1...50).map { person("E\($0)", ssn: "123-45-67\($0 % 10)0") })
        try await snapshot.accept(try await planner().plan(source: source, snapshot: snapshot))
        let again = try await planner().plan(source: source, snapshot: snapshot)
        #expect(again.isEmpty)
        #expect(again.unchanged == 50)
    }

    @Test func updatesNameTheChangedFieldsAndRemovalsAreFound() async throws {
        let snapshot = MemorySnapshot()
        let before = ArraySource(items: [person("E1", ssn: "123-45-6789"), person("E2"), person("E3"), person("E4")])
        try await snapshot.accept(try await planner().plan(source: before, snapshot: snapshot))
        let after = ArraySource(items: [
            person("E1", ssn: "987-65-4321"), person("E2", title: "Director"), person("E3", email: "new@example.com"),
            person("E5"),
        ])
        let changes = try await planner(
            removals: {
                var policy = RemovalPolicy()
                policy.maxPercent = nil
                return policy
            }()
        ).plan(source: after, snapshot: snapshot)
        #expect(changes.creates.map(\.sourceID) == ["E5"])
        #expect(changes.updates.map(\.row.sourceID) == ["E1", "E2", "E3"])
        #expect(changes.updates.map(\.changed) == [["ssn"], ["job_title"], ["email"]])
        #expect(changes.updates[1].previous.fields["job_title"] == "Engineer")
        #expect(changes.removals.map(\.person.sourceID) == ["E4"])
        #expect(changes.removals[0].person.fields["email"] == "e4@example.com")
        // The snapshot never holds the SSN itself.
        #expect(!(changes.updates[0].previous.fields["ssn"] ?? "").contains("123"))
    }

    @Test func clearedFieldIsAChange() async throws {
        let snapshot = MemorySnapshot()
        try await snapshot.accept(
            try await planner().plan(source: ArraySource(items: [person("E1")]), snapshot: snapshot))
        let changes = try await planner().plan(
            source: ArraySource(items: [person("E1", title: nil)]), snapshot: snapshot)
        #expect(changes.updates.first?.changed == ["job_title"])
    }

    @Test func newlyMappedFieldWithoutValuesChangesNothing() async throws {
        let snapshot = MemorySnapshot()
        try await snapshot.accept(
            try await planner().plan(source: ArraySource(items: [person("E1")]), snapshot: snapshot))
        let more = standardMapping + [FieldMapping(field: "middle_name", input: .attribute("initials"), optional: true)]
        let changes = try await planner(more).plan(source: ArraySource(items: [person("E1")]), snapshot: snapshot)
        #expect(changes.isEmpty)
    }

    @Test func invalidRecordsAreReportedAndNeverRemoved() async throws {
        let snapshot = MemorySnapshot()
        try await snapshot.accept(
            try await planner().plan(
                source: ArraySource(items: [person("E1"), person("E2")]), snapshot: snapshot))
        let changes = try await planner().plan(
            source: ArraySource(items: [person("E1", email: "not-an-email", line: 2), person("E2", ssn: "12-3")]),
            snapshot: snapshot)
        #expect(changes.removals.isEmpty)
        #expect(changes.invalid.map(\.sourceID) == ["E1", "E2"])
        #expect(changes.invalid[0].problems == [RecordProblem(field: "email", "is not a valid email address")])
        #expect(changes.invalid[0].location?.description == "people.csv:2")
        #expect(changes.invalid[1].problems.first?.field == "ssn")
        #expect(!changes.invalid[1].reason.contains("12-3"))
    }

    @Test func duplicateIdsAndEmailsInvalidateEveryRecordInvolved() async throws {
        let source = ArraySource(items: [
            person("E1", line: 2), person("E1", line: 3), person("E2", email: "Same@Example.com", line: 4),
            person("E3", email: "same@example.com", line: 5), person("E4", line: 6),
        ])
        let changes = try await planner().plan(source: source, snapshot: MemorySnapshot())
        #expect(changes.creates.map(\.sourceID) == ["E4"])
        #expect(changes.invalid.map(\.sourceID) == ["E1", "E1", "E2", "E3"])
        #expect(changes.invalid[0].reason.contains("people.csv:3"))
        #expect(changes.invalid[2].reason.contains("E3"))
    }

    @Test func manyBatchesKeepSourceOrderAndFindDuplicatesAcrossThem() async throws {
        // 10,000 records make five batches, prepared on two workers; the duplicate email is 9,000 records apart,
        // and only the last record has a title, which must count as carried.
        var items = (0..<10_000).map { person(String(format: "E%05d", $0), line: $0 + 2) }
        items[9_500] = person("E09500", email: "E00500@example.com", line: 9_502)
        items[9_999] = person("E09999", title: "Last", line: 10_001)
        let changes = try await planner().plan(source: ArraySource(items: items), snapshot: MemorySnapshot())
        #expect(changes.recordsRead == 10_000)
        #expect(changes.invalid.map(\.sourceID) == ["E00500", "E09500"])
        #expect(changes.creates.count == 9_998)
        #expect(changes.warnings.isEmpty, "nobody has an ssn, but its mapping is optional: \(changes.warnings)")
        #expect(changes.value("job_title", of: changes.creates.last!) == "Last")
    }

    /// A mapping that reads an attribute no record has a value of would send nothing in that field
    /// for everyone: the plan stops, naming the mapping and the attribute, unless it is optional.
    @Test func anAttributeNoRecordCarriesStopsThePlan() async throws {
        let items = (0..<50).map { person("E\($0)") }
        var mapping = standardMapping
        mapping[3] = FieldMapping(
            field: "employee_id", input: .attribute("id"), location: ConfigLocation(file: "job.yml", line: 9, column: 3)
        )
        await #expect {
            _ = try await planner(mapping).plan(source: ArraySource(items: items), snapshot: MemorySnapshot())
        } throws: { error in
            let error = error as? SyncError
            return error?.kind == .configuration && error?.message.contains("job.yml:9") == true
                && error?.message.contains("`mapping.employee_id` reads `id`") == true
                && error?.hint?.contains("$id") == true
        }
        // The same attribute in the schema but without a value anywhere (as an LDAP source's schema
        // names what it asked for) counts as not carried.
        let empty = (0..<50).map {
            SourceRecord(
                id: "E\($0)", schema: AttributeSchema(["givenName", "sn", "mail", "employeeNumber", "title"]),
                values: [.text("A"), .text("B"), .text("e\($0)@example.com"), .text("E\($0)"), nil])
        }
        mapping[3] = FieldMapping(field: "employee_id", input: .attribute("employeeNumber"))
        mapping[4] = FieldMapping(field: "job_title", input: .attribute("title"))
        await #expect(throws: SyncError.self) {
            _ = try await planner(mapping).plan(source: ArraySource(items: empty), snapshot: MemorySnapshot())
        }
        mapping[4].optional = true
        let changes = try await planner(mapping).plan(source: ArraySource(items: empty), snapshot: MemorySnapshot())
        #expect(changes.creates.count == 50)
        // `$id` is the record's own id, in a mapping or a template.
        mapping[3] = FieldMapping(field: "employee_id", input: .attribute("$id"))
        mapping[4] = FieldMapping(field: "job_title", input: .template(Template("id {$id}")!))
        let byID = try await planner(mapping).plan(source: ArraySource(items: empty), snapshot: MemorySnapshot())
        #expect(changes.creates.count == 50)
        let e7 = try #require(byID.creates.first { $0.sourceID == "E7" })
        #expect(byID.value("employee_id", of: e7) == "E7")
        #expect(byID.value("job_title", of: e7) == "id E7")
    }

    @Test func missingRequiredFieldsAndIdAreInvalid() async throws {
        let record = SourceRecord(id: "", attributes: ["givenName": "Ada"], location: .line(9, of: "x.csv"))
        let changes = try await planner().plan(
            source: ArraySource(items: [record, person("E2")]), snapshot: MemorySnapshot())
        let fields = changes.invalid.first?.problems.map(\.field) ?? []
        #expect(fields == ["last_name", "email", nil])
    }

    @Test func aSourceThatFailsPartWayFailsThePlan() async throws {
        let source = ArraySource(items: (1...10).map { person("E\($0)") }, failAfter: 5)
        await #expect(throws: SyncError.self) {
            _ = try await planner().plan(source: source, snapshot: MemorySnapshot())
        }
        do {
            _ = try await planner().plan(source: source, snapshot: MemorySnapshot())
        } catch let error as SyncError {
            #expect(error.kind == .source)
            #expect(error.message.contains("after 5 records"))
            #expect(error.exitCode == 1)
        }
    }

    @Test func gracePeriodDelaysRemoval() async throws {
        let snapshot = MemorySnapshot()
        try await snapshot.accept(
            try await planner().plan(
                source: ArraySource(items: [person("E1"), person("E2")]), snapshot: snapshot))
        var policy = RemovalPolicy()
        policy.grace = .seconds(3600)
        policy.maxPercent = nil
        let now = Date()
        let first = try await planner(removals: policy).plan(
            source: ArraySource(items: [person("E1")]), snapshot: snapshot, now: now)
        #expect(first.removals.isEmpty && first.waiting.map(\.person.sourceID) == ["E2"])
        try await snapshot.setMissing(["E2"], since: now)
        let later = try await planner(removals: policy).plan(
            source: ArraySource(items: [person("E1")]), snapshot: snapshot, now: now.addingTimeInterval(3601))
        #expect(later.removals.map(\.person.sourceID) == ["E2"])
        let back = try await planner(removals: policy).plan(
            source: ArraySource(items: [person("E1"), person("E2")]), snapshot: snapshot,
            now: now.addingTimeInterval(3602))
        #expect(back.isEmpty && back.returned == ["E2"])
    }

    @Test func terminatedPersonWhoReturnsIsAnUpdate() async throws {
        let snapshot = MemorySnapshot()
        let changes = try await planner().plan(source: ArraySource(items: [person("E1")]), snapshot: snapshot)
        let row = changes.creates[0]
        try await snapshot.commit([
            SnapshotUpdate(
                sourceID: "E1", fingerprint: row.fingerprint,
                fields: snapshot.key.storedFields(row.values, layout: changes.layout),
                terminatedAt: "2026-01-01 00:00:00 UTC")
        ])
        let back = try await planner().plan(source: ArraySource(items: [person("E1")]), snapshot: snapshot)
        #expect(back.updates.first?.changed == ["terminated_at"])
        let gone = try await planner().plan(source: ArraySource(items: [person("E9")]), snapshot: snapshot)
        #expect(gone.removals.isEmpty)
    }
}

@Suite struct RemovalGuardTests {
    func changes(read: Int, active: Int, removals: Int) -> ChangeSet {
        var set = ChangeSet(layout: RowLayout(fields: [], catalog: FieldCatalog()), plannedAt: Date())
        set.recordsRead = read
        set.snapshotActive = active
        set.removals = (0..<removals).map {
            PlannedRemoval(
                person: StoredPerson(sourceID: "E\($0)", fields: [:]), fingerprint: Fingerprint(high: 0, low: 0),
                missingSince: Date(), dueAt: Date())
        }
        return set
    }

    @Test func emptySourceAgainstFullSnapshotStops() {
        let error = RemovalGuard.check(
            changes(read: 0, active: 10, removals: 10), policy: RemovalPolicy(), allowMassRemoval: false)
        #expect(error?.kind == .guardStopped)
        #expect(error?.exitCode == 3)
        #expect(error?.hint?.contains("--allow-mass-removal") == true)
        #expect(
            RemovalGuard.check(
                changes(read: 0, active: 10, removals: 10), policy: RemovalPolicy(), allowMassRemoval: true) == nil)
        #expect(
            RemovalGuard.check(
                changes(read: 0, active: 0, removals: 0), policy: RemovalPolicy(), allowMassRemoval: false) == nil)
    }

    @Test func percentAndCountLimits() {
        var policy = RemovalPolicy()
        policy.maxPercent = 20
        #expect(
            RemovalGuard.check(changes(read: 80, active: 100, removals: 20), policy: policy, allowMassRemoval: false)
                == nil)
        let stopped = RemovalGuard.check(
            changes(read: 79, active: 100, removals: 21), policy: policy, allowMassRemoval: false)
        #expect(stopped?.message.contains("21 removals are 21.0% of the 100 people") == true)
        policy.maxCount = 5
        let byCount = RemovalGuard.check(
            changes(read: 94, active: 100, removals: 6), policy: policy, allowMassRemoval: false)
        #expect(byCount?.message.contains("max_count (5)") == true)
    }
}

/// HR's dates (`dates:`): a start day to come holds a person back; a leaving day that has come
/// terminates them from that day, though HR still lists them, and the removal guards count it.
@Suite struct EffectiveDateTests {
    let now = Date(timeIntervalSince1970: 1_796_385_600)  // 2026-12-04 12:00:00 UTC

    func record(_ id: String, start: String? = nil, end: String? = nil) -> SourceRecord {
        var attributes: [String: AttributeValue] = [
            "givenName": "Ada", "sn": "Lovelace", "mail": .text("\(id.lowercased())@example.com"),
        ]
        if let start { attributes["hired_on"] = .text(start) }
        if let end { attributes["left_on"] = .text(end) }
        return SourceRecord(id: id, attributes: attributes)
    }

    func datedPlanner(zone: String = "UTC") -> Planner {
        var planner = planner()
        planner.dates.startsOn = FieldMapping(field: "dates.starts_on", input: .attribute("hired_on"), optional: true)
        planner.dates.endsOn = FieldMapping(field: "dates.ends_on", input: .attribute("left_on"), optional: true)
        planner.dates.zone = zone
        return planner
    }

    @Test func startAndLeavingDaysDecideWhoIsSentAndWhen() async throws {
        let snapshot = MemorySnapshot()
        try await snapshot.accept(
            try await datedPlanner().plan(
                source: ArraySource(items: ["E1", "E2", "E3", "E4"].map { record($0) }), snapshot: snapshot, now: now))
        let changes = try await datedPlanner().plan(
            source: ArraySource(items: [
                record("E1", end: "2026-11-30"),  // left: terminated from that day
                record("E2", end: "2026-12-04"),  // leaves today: terminated
                record("E3", end: "2027-01-15"),  // leaving later
                record("E4", start: "2027-02-01"),  // already sent: a later start changes nothing
                record("E5", start: "2026-12-24"),  // starts later: held back
                record("E6", start: "2026-12-04 08:00:00"),  // starts today: created
                record("E7", end: "2025-06-30"),  // left before we ever sent them
                record("E8", end: "30/11/2026"),  // not a date: invalid, neither sent nor terminated
            ]), snapshot: snapshot, now: now)
        #expect(changes.removals.map(\.person.sourceID) == ["E1", "E2"])
        #expect(changes.removals.map(\.terminatedAt) == ["2026-11-30 00:00:00 UTC", "2026-12-04 00:00:00 UTC"])
        #expect(changes.removals.map(\.endedOn) == ["2026-11-30", "2026-12-04"])
        #expect(changes.leaving == [DatedPerson(sourceID: "E3", day: "2027-01-15")])
        #expect(changes.starting == [DatedPerson(sourceID: "E5", day: "2026-12-24")])
        #expect(changes.creates.map(\.sourceID) == ["E6"])
        #expect(changes.leftUnsent == 1)
        #expect(changes.invalid.map(\.sourceID) == ["E8"])
        #expect(changes.invalid.first?.problems.first?.field == "dates.ends_on")
        #expect(changes.unchanged == 2, "E3 and E4")

        // Terminated once: the next plan has nothing to do for them.
        try await snapshot.accept(changes)
        try await snapshot.commit(
            changes.removals.map {
                SnapshotUpdate(
                    sourceID: $0.person.sourceID, fingerprint: $0.fingerprint, fields: $0.person.fields,
                    terminatedAt: $0.terminatedAt)
            })
        let again = try await datedPlanner().plan(
            source: ArraySource(items: [record("E1", end: "2026-11-30"), record("E3"), record("E4")]),
            snapshot: snapshot, now: now)
        #expect(again.removals.map(\.person.sourceID) == ["E6"], "E6 left; E1 and E2 are already terminated")
        #expect(again.removals.first?.terminatedAt == nil, "an absence terminates at the run's time")
        #expect(again.unchanged == 3, "E1 (terminated, still listed as left), E3, E4")
    }

    @Test func daysAreCountedInTheZoneAndTheRemovalGuardCountsThem() async throws {
        let snapshot = MemorySnapshot()
        let everyone = (1...10).map { record("E\($0)") }
        try await snapshot.accept(
            try await datedPlanner().plan(source: ArraySource(items: everyone), snapshot: snapshot, now: now))
        // 2026-12-05 02:00 UTC is still 2026-12-04 in PST: a leaving day of the 5th has not come there.
        let late = Date(timeIntervalSince1970: 1_796_436_000)
        let leavers = everyone.map { record($0.id, end: "2026-12-05") }
        let pacific = try await datedPlanner(zone: "PST").plan(
            source: ArraySource(items: leavers), snapshot: snapshot, now: late)
        #expect(pacific.removals.isEmpty && pacific.leaving.count == 10)
        let utc = try await datedPlanner().plan(source: ArraySource(items: leavers), snapshot: snapshot, now: late)
        #expect(utc.removals.count == 10)
        #expect(utc.removals.first?.terminatedAt == "2026-12-05 00:00:00 UTC")
        let stopped = Guards.check(utc, policy: RunPolicy())
        #expect(stopped?.kind == .guardStopped, "10 of 10 terminated is more than removals.max_percent")
    }
}
