import Foundation
import Testing

@testable import SyncCore

/// The diff's rules for one person, without a source or a snapshot: `Differ.classify` and `classifyGone`.
@Suite struct ClassifyTests {
    let sent = Fingerprint(high: 1, low: 1)
    let changed = Fingerprint(high: 2, low: 2)
    let today = "2026-06-15"

    func candidate(
        _ fingerprint: Fingerprint?, problems: [RecordProblem] = [], startsOn: String? = nil, endsOn: String? = nil,
        ended: Bool = false
    ) -> Differ.Candidate {
        let dates =
            startsOn == nil && endsOn == nil && !ended
            ? nil : RecordDates(startsOn: startsOn, endsOn: endsOn, ended: ended)
        return Differ.Candidate(
            id: "E1", location: nil, values: ["x"], fingerprint: fingerprint, problems: problems, dates: dates)
    }

    func classify(_ candidate: Differ.Candidate, _ stored: SnapshotEntry?, full: Bool = false) -> Verdict {
        Differ.classify(candidate, stored: stored, today: today, resendUnchanged: full)
    }

    @Test func aRecordWithAProblemOrNoFingerprintIsInvalid() {
        #expect(classify(candidate(sent, problems: [RecordProblem(field: "email", "is empty")]), nil) == .invalid)
        #expect(classify(candidate(nil), SnapshotEntry(fingerprint: sent)) == .invalid)
    }

    @Test func newChangedUnchangedAndBack() {
        #expect(classify(candidate(sent), nil) == .create(leavingOn: nil))
        #expect(classify(candidate(sent), SnapshotEntry(fingerprint: sent)) == .unchanged(leavingOn: nil))
        #expect(classify(candidate(changed), SnapshotEntry(fingerprint: sent)) == .update(leavingOn: nil))
        // Terminated by this job and in the source again: updated, even with the same row.
        #expect(
            classify(candidate(sent), SnapshotEntry(fingerprint: sent, terminated: true)) == .update(leavingOn: nil))
        // `sync --full` sends the unchanged too.
        #expect(classify(candidate(sent), SnapshotEntry(fingerprint: sent), full: true) == .update(leavingOn: nil))
    }

    @Test func aLeavingDayStillToComeIsNamedAndChangesNothing() {
        let leaving = candidate(sent, endsOn: "2026-07-01")
        #expect(classify(leaving, nil) == .create(leavingOn: "2026-07-01"))
        #expect(classify(leaving, SnapshotEntry(fingerprint: sent)) == .unchanged(leavingOn: "2026-07-01"))
        #expect(classify(leaving, SnapshotEntry(fingerprint: changed)) == .update(leavingOn: "2026-07-01"))
    }

    @Test func aLeavingDayThatCameEndsOnlyWhoIsLive() {
        for endsOn in ["2026-06-15", "2026-01-31"] {
            let left = candidate(sent, endsOn: endsOn)
            #expect(classify(left, SnapshotEntry(fingerprint: changed)) == .ends(on: endsOn))
            #expect(classify(left, nil) == .endedUnsent)
            #expect(classify(left, SnapshotEntry(fingerprint: sent, terminated: true)) == .endedBefore)
            #expect(classify(left, nil).heldByDates)
        }
        // `ended_when` without a day: they leave today.
        #expect(classify(candidate(sent, ended: true), SnapshotEntry(fingerprint: sent)) == .ends(on: today))
    }

    @Test func aStartDayStillToComeHoldsOnlyNewPeople() {
        let starting = candidate(sent, startsOn: "2026-07-01")
        #expect(classify(starting, nil) == .startsLater(on: "2026-07-01"))
        // Already in the account (a rehire, a date moved later): nothing is undone.
        #expect(classify(starting, SnapshotEntry(fingerprint: sent)) == .unchanged(leavingOn: nil))
        #expect(classify(candidate(sent, startsOn: today), nil) == .create(leavingOn: nil))
    }

    @Test func someoneGoneWaitsOutTheGraceThenIsRemoved() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let grace = Duration.seconds(3 * 86400)
        let first = Differ.classifyGone(
            SnapshotEntry(fingerprint: sent), filteredDates: nil, today: today, now: now, grace: grace)
        #expect(first.verdict == .wait(missingSince: now, due: now.addingTimeInterval(3 * 86400)))
        let since = now.addingTimeInterval(-3 * 86400)
        let later = Differ.classifyGone(
            SnapshotEntry(fingerprint: sent, missingSince: since), filteredDates: nil, today: today, now: now,
            grace: grace)
        #expect(later.verdict == .remove(missingSince: since, due: now) && later.leavesLater == nil)
    }

    @Test func someoneTheFilterLeavesOutGoesOnHRsDay() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let entry = SnapshotEntry(fingerprint: sent)
        let gone = Differ.classifyGone(
            entry, filteredDates: RecordDates(startsOn: nil, endsOn: "2026-06-01"), today: today, now: now,
            grace: .seconds(86400))
        #expect(gone.verdict == .ends(on: "2026-06-01"))
        // A day still to come: removed as missing, and said.
        let early = Differ.classifyGone(
            entry, filteredDates: RecordDates(startsOn: nil, endsOn: "2026-09-01"), today: today, now: now,
            grace: .zero)
        #expect(early.verdict == .remove(missingSince: now, due: now) && early.leavesLater == "2026-09-01")
    }
}
