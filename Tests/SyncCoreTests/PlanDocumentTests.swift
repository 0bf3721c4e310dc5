import ConnectorCore
import Foundation
import Testing

@testable import SyncCore
@testable import SyncOutput

/// The plan's fast writer and `PlanDocument`, the type that reads a plan back, say the same thing.
@Suite struct PlanDocumentTests {
    /// A plan with something in every list the document has.
    func everyKindOfChange() -> ChangeSet {
        let layout = RowLayout(fields: ["first_name", "email", "employee_id", "ssn"], catalog: FieldCatalog())
        var changes = ChangeSet(layout: layout, plannedAt: Date(timeIntervalSince1970: 1_800_000_000))
        let row = PlannedRow(
            sourceID: "E1", values: ["Ada", "ada@example.com", "1", "123-45-6789"],
            fingerprint: Fingerprint(high: 1, low: 1),
            location: .line(2, of: "people.csv"))
        let stored = StoredPerson(sourceID: "E0", fields: ["email": "old@example.com", "employee_id": "0"])
        changes.creates = [row]
        changes.updates = [
            PlannedUpdate(
                row: PlannedRow(
                    sourceID: "E2", values: ["Bo", nil, "2", nil], fingerprint: Fingerprint(high: 2, low: 2),
                    location: SourceLocation("uid=bo,dc=example")),
                changed: ["first_name", "email"], previous: StoredPerson(sourceID: "E2", fields: ["first_name": "B"]))
        ]
        changes.rekeys = [PlannedRekey(previous: stored, sourceID: "E3", matchedOn: "employee_id", changed: [])]
        let due = changes.plannedAt
        changes.removals = [
            PlannedRemoval(person: stored, fingerprint: Fingerprint(high: 3, low: 3), missingSince: due, dueAt: due)
        ]
        changes.waiting = [
            PlannedRemoval(
                person: StoredPerson(sourceID: "E4", fields: [:]), fingerprint: Fingerprint(high: 4, low: 4),
                missingSince: due, dueAt: due.addingTimeInterval(86400), endedOn: "2026-01-31")
        ]
        changes.held = [
            HeldPerson(
                row: row, field: "email", holder: "E9", holderEmployeeID: "9", employeeID: "1", releasedThisRun: false)
        ]
        changes.joined = [JoinedSource.MemberCount(source: "ad", records: 10, matched: 9)]
        changes.unmatched = [JoinedSource.Unmatched(source: "ad", ids: ["g9"])]
        changes.fieldSources = ["email": ["ad", "hr"], "first_name": ["hr"]]
        changes.starting = [DatedPerson(sourceID: "E5", day: "2027-01-01")]
        changes.leaving = [DatedPerson(sourceID: "E6", day: "2027-02-01")]
        changes.invalid = [
            InvalidRecord(
                sourceID: "E7", location: .row(3, of: "db"),
                problems: [RecordProblem(field: "email", "is not an email"), RecordProblem(field: nil, "no id")])
        ]
        changes.warnings = ["a warning"]
        return changes
    }

    /// `null` and an absent key mean the same; everything else must be equal.
    func withoutNulls(_ value: Any) -> Any {
        if let object = value as? [String: Any] {
            return object.filter { !($0.value is NSNull) }.mapValues(withoutNulls)
        }
        if let array = value as? [Any] { return array.map(withoutNulls) }
        return value
    }

    @Test func whatTheWriterWritesDecodesWholeAndBackAgain() throws {
        for stopped in [nil, SyncError(.guardStopped, "too many removals", hint: "look")] {
            let out = ByteOutput()
            PlanRendering.json(
                everyKindOfChange(),
                header: PlanHeader(job: "j", source: "s", snapshot: "n", removalAction: .terminate, stoppedBy: stopped),
                to: out)
            let written = Data(out.collected())
            let document = try PlanDocument.decode(written)
            #expect(document.creates.first?.fields["ssn"] == "***-**-****", "masked")
            #expect(document.updates.first?.fields["email"] == nil && document.updates.first?.changed.count == 2)
            #expect(document.stopped?.message == stopped?.message)
            // Every key the writer emits is a property of the document, and nothing is lost.
            let original = withoutNulls(try JSONSerialization.jsonObject(with: written)) as? NSDictionary
            let again = withoutNulls(try JSONSerialization.jsonObject(with: try document.encoded())) as? NSDictionary
            #expect(original == again)
        }
    }
}

/// The run report, status and history are `Encodable` documents: their schema first, every key present.
@Suite struct OutputDocumentTests {
    func object(_ document: some OutputDocument) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: try document.encoded()) as? [String: Any])
    }

    @Test func anAbsentValueIsNullNotLeftOut() throws {
        let report = try object(SyncReport(job: "nightly", source: "csv people.csv").document)
        #expect(report["format"] as? String == "compliance-sync.run-report" && report["version"] as? Int == 1)
        #expect(report["error"] is NSNull && report["status"] as? String == "completed")
        var failed = SyncReport(job: "nightly", source: "csv people.csv")
        failed.failure = SyncError(.guardStopped, "too many removals")
        let stopped = try object(failed.document)
        #expect((stopped["error"] as? [String: Any])?["hint"] is NSNull && stopped["exit_status"] as? Int == 3)

        let status = try object(
            JobStatus(job: "nightly", health: StoreHealth(), checkedAt: Date(), maxAge: .seconds(3600)).document)
        #expect(status["format"] as? String == "compliance-sync.status" && status["state"] as? String == "unknown")
        for key in ["last_run", "last_success", "running", "last_success_age_seconds"] {
            #expect(status[key] is NSNull, "\(key)")
        }
        let run = RunRecord(id: "r1", command: .sync, startedAt: Date(timeIntervalSince1970: 0), host: "h")
        let history = try object(HistoryDocument(job: "nightly", runs: [RunEntry(run)]))
        let first = try #require((history["runs"] as? [[String: Any]])?.first)
        #expect(first["finished_at"] is NSNull && first["started_at"] as? String == "1970-01-01T00:00:00Z")
    }
}
