import ConnectorCore
import Foundation

@testable import SyncCore

/// An in-memory Compliance account behind the ``ImportService`` contract: the
/// importer's rules of compliance-api.md (upsert matching on `employee_id`,
/// then email case-insensitively; "email already taken"; `null` clears; the
/// same idempotency key returns the first import), and faults chosen per call.
///
/// Safety: its mutable state is read and written under its lock only.
final class ScriptedAccount: ImportService, @unchecked Sendable {
    /// What goes wrong with one call.
    enum Fault: Sendable {
        /// The import is applied, but its answer never arrives.
        case loseSubmitAnswer
        /// The request never arrives.
        case unreachable
        /// The API refuses the request for good (400).
        case refuse
        /// The API refuses the request as too large (413).
        case tooLarge
        /// The import fails as a whole and applies nothing.
        case failImport
        /// The status answer is lost.
        case loseOutcome
        /// The status answer names a row the import does not have.
        case strayRowError
        /// The import is applied, but a retry of the request is refused (400, 409, 422): the client
        /// cannot tell whether anything was applied (``SyncError/Kind/unconfirmed``).
        case refuseAfterApply
    }

    /// The call a fault is chosen for.
    enum Call { case submit([ImportRow]), outcome(String) }

    struct Lost: Error, CustomStringConvertible {
        var description: String { "the connection was reset" }
    }

    private let lock = NSLock()
    private(set) var people: [[String: String]] = []
    private var imports: [String: (outcome: ImportOutcome, rows: Int)] = [:]
    private var keys: [String: String] = [:]
    private(set) var submissions = 0
    private(set) var rowsReceived = 0
    /// Picks the fault of each call; none by default.
    var fault: @Sendable (Call) -> Fault? = { _ in nil }
    /// How long an import takes to answer its status: imports of a run overlap for that long.
    var processing: Duration?
    /// The emails and employee ids of each import submitted and not yet answered, and whether it upserts.
    private var inFlight: [String: (keys: Set<String>, upserts: Bool)] = [:]
    /// The most imports in flight at once.
    private(set) var mostInFlight = 0
    /// Emails or employee ids that were in two imports in flight at once.
    private(set) var overlaps: [String] = []
    /// Terminations submitted while an import with upserts was in flight.
    private(set) var earlyTerminations = 0

    func submit(_ rows: [ImportRow], idempotencyKey: String) async throws -> SubmittedImport {
        let fault = fault(.submit(rows))
        return try lock.withLock {
            switch fault {
            case .unreachable: throw Lost()
            case .refuse: throw SyncError(.refused, "400 invalid_request")
            case .tooLarge: throw SyncError(.tooLarge, "413")
            default: break
            }
            if let id = keys[idempotencyKey] { return SubmittedImport(id: id, replayed: true) }
            submissions += 1
            rowsReceived += rows.count
            let id = "imp_\(imports.count + 1)"
            keys[idempotencyKey] = id
            watch(id, rows)
            if case .failImport = fault {
                imports[id] = (.failed(message: "the importer crashed"), rows.count)
            } else {
                imports[id] = (.completed(errors: apply(rows), rowCount: rows.count), rows.count)
            }
            if case .loseSubmitAnswer = fault { throw Lost() }
            if case .refuseAfterApply = fault {
                throw SyncError(
                    .unconfirmed, "the API answered 409 to an import an earlier attempt of which may have been applied")
            }
            return SubmittedImport(id: id, replayed: false)
        }
    }

    func outcome(of importID: String) async throws -> ImportOutcome {
        let fault = fault(.outcome(importID))
        if let processing { try await Task.sleep(for: processing) }
        return try lock.withLock {
            defer { inFlight[importID] = nil }
            guard let found = imports[importID] else { return .unconfirmed(reason: "no import \(importID)") }
            switch fault {
            case .loseOutcome: throw Lost()
            case .strayRowError:
                guard case .completed(let errors, let count) = found.outcome else { return found.outcome }
                return .completed(
                    errors: errors + [ImportRowError(row: found.rows + 3, field: nil, message: "?")], rowCount: count)
            default: return found.outcome
            }
        }
    }

    /// Notes an import in flight, any person it shares with another in flight, and
    /// a termination sent while upserts are in flight.
    private func watch(_ id: String, _ rows: [ImportRow]) {
        let upserts = rows.contains { ($0["terminated_at"] ?? nil) == nil }
        if !upserts, inFlight.values.contains(where: \.upserts) { earlyTerminations += 1 }
        // What each row sends, and what the person it matches holds now.
        let keys = Set(
            rows.flatMap { row in
                let matched = match(row).map { people[$0] }
                return [row["email"] ?? nil, row["employee_id"] ?? nil, matched?["email"], matched?["employee_id"]]
                    .compactMap { $0?.lowercased() }
            })
        for other in inFlight.values { overlaps += keys.intersection(other.keys) }
        inFlight[id] = (keys, upserts)
        mostInFlight = max(mostInFlight, inFlight.count)
    }

    /// The live people, by employee id (or email when they have none).
    var live: [String: [String: String]] {
        lock.withLock { Self.byIdentity(people.filter { $0["terminated_at"] == nil }) }
    }
    /// The terminated people, by employee id (or email).
    var terminated: [String: [String: String]] {
        lock.withLock { Self.byIdentity(people.filter { $0["terminated_at"] != nil }) }
    }

    private static func byIdentity(_ people: [[String: String]]) -> [String: [String: String]] {
        Dictionary(people.map { ($0["employee_id"] ?? $0["email"]!, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Applies the valid rows; returns the errors.
    private func apply(_ rows: [ImportRow]) -> [ImportRowError] {
        var errors: [ImportRowError] = []
        for (index, row) in rows.enumerated() {
            guard let email = row["email"] ?? nil, !email.isEmpty, (row["first_name"] ?? nil) != nil,
                (row["last_name"] ?? nil) != nil
            else {
                errors.append(ImportRowError(row: index, field: "email", message: "is required"))
                continue
            }
            let match = self.match(row)
            if let owner = people.firstIndex(where: { $0["email"]?.lowercased() == email.lowercased() }), owner != match
            {
                errors.append(ImportRowError(row: index, field: "email", message: "email already taken"))
                continue
            }
            var person = match.map { people[$0] } ?? [:]
            for field in row.fields {
                if let value = field.value, !value.isEmpty {
                    person[field.name] = value
                } else {
                    person[field.name] = nil
                }
            }
            if let match { people[match] = person } else { people.append(person) }
        }
        return errors
    }

    private func match(_ row: ImportRow) -> Int? {
        if let id = row["employee_id"] ?? nil, !id.isEmpty,
            let index = people.firstIndex(where: { $0["employee_id"] == id })
        {
            return index
        }
        let email = (row["email"] ?? nil)?.lowercased()
        return people.firstIndex { $0["email"]?.lowercased() == email }
    }
}
