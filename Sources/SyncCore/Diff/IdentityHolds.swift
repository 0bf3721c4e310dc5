import ConnectorCore

/// A new person held back: the API matches a row on `employee_id`, else on email, so a create
/// whose employee id the account does not know yet and whose email the account still gives
/// another person (with another employee id) would update that person's record into this one.
/// Not sent, and not recorded, until the other person gives the address up (a change this run
/// makes is confirmed by the next) or an operator approves a saved plan that lists the hold.
public struct HeldPerson: Sendable {
    /// The row that would be sent.
    public var row: PlannedRow
    /// The email field whose value is taken.
    public var field: String
    /// The source id of the person the account gives that email.
    public var holder: String
    /// That person's employee id, as the snapshot holds it (`nil` when the job keeps it sensitive).
    public var holderEmployeeID: String?
    /// This person's employee id (`nil` when the job keeps it sensitive).
    public var employeeID: String?
    /// Whether the holder gives the address up in this run (an update of theirs changes it):
    /// then the hold ends by itself once that change is confirmed.
    public var releasedThisRun: Bool

    /// The source id of the held person.
    public var sourceID: String { row.sourceID }

    /// What happened and what an operator can do, naming both people.
    public var reason: String {
        let mine = employeeID.map { "employee_id \($0)" } ?? "its employee_id"
        let theirs = holderEmployeeID.map { "employee_id \($0)" } ?? "another employee_id"
        if releasedThisRun {
            return "\(sourceID) (\(mine)) is held: its \(field) is still \(holder)'s (\(theirs)), who gives it up "
                + "in this run; it is sent by the next run, once that change is confirmed"
        }
        return "\(sourceID) (\(mine)) is held: its \(field) belongs to \(holder) (\(theirs)), whom the account "
            + "still holds; sent now, the API would update \(holder)'s record into \(sourceID)'s. Change "
            + "\(holder)'s \(field) in the account, then let \(sourceID) through: `plan --save PLAN.json`, "
            + "then `sync --approve PLAN.json`"
    }
}

/// Finds the creates the API would match to someone else's record (``HeldPerson``).
struct IdentityHolds {
    let layout: RowLayout
    let key: SnapshotKey

    /// Moves held creates out of `changes.creates` into `changes.held`.
    /// - Parameters:
    ///   - terminated: loads the people the snapshot holds as terminated (asked only when a create could be held).
    mutating func hold(
        _ changes: inout ChangeSet, terminated: () async throws -> [StoredPerson]
    ) async throws {
        let catalog = layout.catalog
        guard let idPosition = layout.position(of: catalog.employeeID) else { return }
        let emails = catalog.email.compactMap { field in layout.position(of: field).map { (field, $0) } }
        guard !emails.isEmpty else { return }
        // Creates that carry both an employee id and an email: the only ones the API could misplace.
        let exposed = changes.creates.indices.filter { i in
            changes.creates[i].values[idPosition].map { !$0.isEmpty } == true
                && emails.contains { changes.creates[i].values[$0.1].map { !$0.isEmpty } == true }
        }
        guard !exposed.isEmpty else { return }

        // Everyone the account may still give an email after this run, but the people sent as they are now.
        // One address may have several (leavers of years apart): each is weighed.
        var holders: [String: [(person: StoredPerson, releasing: Bool)]] = [:]
        func add(_ person: StoredPerson, releasing: Bool) {
            for (field, _) in emails {
                guard let email = person.fields[field], !email.isEmpty else { continue }
                holders[comparable(email, field: field, stored: true), default: []].append((person, releasing))
            }
        }
        for person in try await terminated() { add(person, releasing: false) }
        for removal in changes.removals + changes.waiting { add(removal.person, releasing: false) }
        for update in changes.updates where update.changed.contains(where: catalog.email.contains) {
            add(update.previous, releasing: true)
        }
        for rekey in changes.rekeys where rekey.changed.contains(where: catalog.email.contains) {
            add(rekey.previous, releasing: true)
        }
        guard !holders.isEmpty else { return }

        var held: Set<Int> = []
        for i in exposed {
            let row = changes.creates[i]
            let employeeID = comparable(
                row.values[idPosition]!, field: catalog.employeeID, stored: false, folded: false)
            for (field, position) in emails {
                guard let email = row.values[position], !email.isEmpty,
                    let found = holders[comparable(email, field: field, stored: false)]
                else { continue }
                // Holders with an employee id, but this row's own record under an old source id (a re-key).
                let withIDs = found.filter { holder in
                    holder.person.sourceID != row.sourceID && !row.replacing.contains(holder.person.sourceID)
                        && !(holder.person.fields[catalog.employeeID] ?? "").isEmpty
                }
                // The account knows this employee id under that address already (a rehire): the API matches
                // the row on the id, to that record, the same person's. Only another id is a hand-over.
                guard !withIDs.contains(where: { $0.person.fields[catalog.employeeID] == employeeID }),
                    let holder = withIDs.first(where: { !$0.releasing }) ?? withIDs.first
                else { continue }
                let shown = !layout.sensitive[idPosition]
                changes.held.append(
                    HeldPerson(
                        row: row, field: field, holder: holder.person.sourceID,
                        holderEmployeeID: shown ? holder.person.fields[catalog.employeeID] : nil,
                        employeeID: shown ? row.values[idPosition] : nil, releasedThisRun: holder.releasing))
                held.insert(i)
                break
            }
        }
        if !held.isEmpty {
            changes.creates = changes.creates.indices.filter { !held.contains($0) }.map { changes.creates[$0] }
        }
    }

    /// A value as compared: as the snapshot stores it (a digest for a sensitive field), emails lower-cased.
    private func comparable(_ value: String, field: String, stored: Bool, folded: Bool = true) -> String {
        if let p = layout.position(of: field), layout.sensitive[p] {
            return stored ? value : key.digest(field: field, value: value)
        }
        return folded ? FastText.lowercased(value) : value
    }
}

extension ChangeSet {
    /// Lets held people through (`sync --approve` of a plan that listed them): they are created.
    /// - Returns: the source ids released.
    @discardableResult
    public mutating func release(_ sourceIDs: Set<String>) -> [String] {
        let released = held.filter { sourceIDs.contains($0.sourceID) }
        held.removeAll { sourceIDs.contains($0.sourceID) }
        creates += released.map(\.row)
        return released.map(\.sourceID)
    }
}
