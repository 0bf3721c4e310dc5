import Foundation

/// What one record of the source means for this run, given what the snapshot holds under its id.
/// Every business rule of the diff that looks at one person lives in ``Differ/classify(_:stored:today:resendUnchanged:)``.
enum Verdict: Equatable, Sendable {
    /// It cannot be sent (a problem, or an id another record has too): reported, never sent.
    case invalid
    /// Sent before as it is now: nothing to do. `leavingOn`: HR's leaving day, still to come.
    case unchanged(leavingOn: String?)
    /// Not in the snapshot: created.
    case create(leavingOn: String?)
    /// Changed since it was last sent, back after a termination, or sent again by `sync --full`: updated.
    case update(leavingOn: String?)
    /// HR's leaving day has come for someone the account holds live: terminated from that day.
    case ends(on: String)
    /// HR's leaving day has come for someone never sent: nothing is sent.
    case endedUnsent
    /// HR's leaving day has come, and this job terminated them already: nothing to do.
    case endedBefore
    /// Not in the snapshot, and HR's start day is still to come: created on that day.
    case startsLater(on: String)

    /// Whether `dates:` keep the record from being sent this run: such a person is nobody's new identity.
    var heldByDates: Bool {
        switch self {
        case .ends, .endedUnsent, .endedBefore, .startsLater: true
        case .invalid, .unchanged, .create, .update: false
        }
    }
}

/// What happens to someone the snapshot holds live whom the source no longer lists (and who is
/// no re-key): decided by ``Differ/classifyGone(_:filteredDates:today:now:grace:)``.
enum GoneVerdict: Equatable, Sendable {
    /// Left out by the source's filter, and gone by HR's dates: terminated from that day.
    case ends(on: String)
    /// Missing since `missingSince`, past the grace period, which ended at `due`: removed now.
    case remove(missingSince: Date, due: Date)
    /// Missing since `missingSince`, still within the grace period, which ends at `due`.
    case wait(missingSince: Date, due: Date)
}

extension Differ {
    /// Classifies one record against the snapshot's entry for its id.
    /// - Parameters:
    ///   - candidate: the record, mapped and validated (its duplicates already marked).
    ///   - stored: the snapshot's entry under the same source id, if any.
    ///   - today: the run's day in `dates.zone` (`yyyy-mm-dd`); empty for a job without `dates:`.
    ///   - resendUnchanged: `sync --full`: someone unchanged is updated anyway.
    static func classify(
        _ candidate: borrowing Candidate, stored: SnapshotEntry?, today: String, resendUnchanged: Bool
    ) -> Verdict {
        guard candidate.problems.isEmpty, let fingerprint = candidate.fingerprint else { return .invalid }
        var leavingOn: String? = nil
        if let dates = candidate.dates {
            let endDay = dates.endDay(today: today)
            if let day = endDay, day <= today {
                // Left, though HR still lists them: terminated once, from that day.
                guard let stored else { return .endedUnsent }
                return stored.terminated ? .endedBefore : .ends(on: day)
            }
            if stored == nil, let day = dates.startsOn, day > today { return .startsLater(on: day) }
            leavingOn = endDay
        }
        guard let stored else { return .create(leavingOn: leavingOn) }
        if stored.fingerprint == fingerprint && !stored.terminated && !resendUnchanged {
            return .unchanged(leavingOn: leavingOn)
        }
        return .update(leavingOn: leavingOn)
    }

    /// Classifies someone the snapshot holds live who is missing from the source.
    /// - Parameters:
    ///   - entry: their snapshot entry (when they were first found missing).
    ///   - filteredDates: HR's dates for them, when the source's filter left their record out.
    ///   - today: the run's day in `dates.zone`.
    ///   - now: the run's time, which starts a grace period.
    ///   - grace: `removals.grace`.
    /// - Returns: the verdict, and HR's leaving day when it is still to come though the filter
    ///   already leaves them out (worth a warning: they go as missing, on the day of the run).
    static func classifyGone(
        _ entry: SnapshotEntry, filteredDates: RecordDates?, today: String, now: Date, grace: Duration
    ) -> (verdict: GoneVerdict, leavesLater: String?) {
        var leavesLater: String? = nil
        if let day = filteredDates?.endDay(today: today) {
            // Left out by the filter, and gone by HR's dates: on that day, not after a grace.
            if day <= today { return (.ends(on: day), nil) }
            leavesLater = day
        }
        let since = entry.missingSince ?? now
        let due = since.addingTimeInterval(grace.seconds)
        return (due <= now ? .remove(missingSince: since, due: due) : .wait(missingSince: since, due: due), leavesLater)
    }
}
