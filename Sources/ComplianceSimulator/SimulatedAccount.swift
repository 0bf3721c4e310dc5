import Foundation

/// The people of a simulated Compliance account and the rules of its importer
/// (compliance-api.md): row validation, upsert matching on `employee_id` then
/// email, partial rejection.
struct SimulatedAccount {
    /// A person: field name to value.
    typealias Person = [String: String]

    private(set) var people: [Person] = []
    private var byEmployeeID: [String: Int] = [:]
    private var byEmail: [String: Int] = [:]
    let configuration: SimulatorConfiguration

    init(configuration: SimulatorConfiguration) {
        self.configuration = configuration
    }

    /// One problem with one row.
    struct RowError {
        var row: Int
        var email: String?
        var field: String?
        var message: String
    }

    /// Applies the valid rows of an import; returns (created, updated, unchanged, errors).
    mutating func apply(_ rows: [[String: String?]]) -> (Int, Int, Int, [RowError]) {
        var created = 0, updated = 0, unchanged = 0
        var errors: [RowError] = []
        for (index, row) in rows.enumerated() {
            let problems = validate(row)
            let email = row["email"] ?? nil
            if !problems.isEmpty {
                errors += problems.map { RowError(row: index, email: email, field: $0.0, message: $0.1) }
                continue
            }
            let match = self.match(row)
            if let owner = indexOfEmail(email!), owner != match {
                errors.append(RowError(row: index, email: email, field: "email", message: "email already taken"))
                continue
            }
            var person = match.map { people[$0] } ?? [:]
            for (field, value) in row {
                if let value, !value.isEmpty { person[field] = value } else { person.removeValue(forKey: field) }
            }
            let index: Int
            if let match {
                if people[match] == person { unchanged += 1 } else { updated += 1 }
                let old = people[match]
                if let id = old["employee_id"] { byEmployeeID.removeValue(forKey: id) }
                if let email = old["email"] { byEmail.removeValue(forKey: email.lowercased()) }
                people[match] = person
                index = match
            } else {
                people.append(person)
                index = people.count - 1
                created += 1
            }
            if let id = person["employee_id"] { byEmployeeID[id] = index }
            if let email = person["email"] { byEmail[email.lowercased()] = index }
        }
        return (created, updated, unchanged, errors)
    }

    private func match(_ row: [String: String?]) -> Int? {
        if let id = row["employee_id"] ?? nil, !id.isEmpty, let index = byEmployeeID[id] {
            return index
        }
        return (row["email"] ?? nil).flatMap(indexOfEmail)
    }

    private func indexOfEmail(_ email: String) -> Int? {
        byEmail[email.lowercased()]
    }

    private func validate(_ row: [String: String?]) -> [(String?, String)] {
        var problems: [(String?, String)] = []
        for field in row.keys.sorted() where !configuration.knownFields.contains(field) {
            problems.append((field, "is not a known field"))
        }
        for field in ["first_name", "last_name", "email"] where (row[field] ?? nil)?.isEmpty ?? true {
            problems.append((field, "is required"))
        }
        func check(_ field: String, _ pattern: String, _ message: String) {
            if let value = row[field] ?? nil, !value.isEmpty,
                value.range(of: pattern, options: .regularExpression) == nil
            {
                problems.append((field, message))
            }
        }
        check("email", #"^[^@\s]+@[^@\s]+\.[^@\s]+$"#, "is not a valid email")
        check("ssn", #"^\d{3}-\d{2}-\d{4}$"#, "must look like 555-55-5555")
        check(
            "hired_at", #"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}( [A-Za-z][A-Za-z0-9_/+:-]*)?$"#,
            "is not a valid date-time")
        check(
            "terminated_at", #"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}( [A-Za-z][A-Za-z0-9_/+:-]*)?$"#,
            "is not a valid date-time")
        check("date_of_birth", #"^\d{4}-\d{2}-\d{2}$"#, "is not a valid date")
        if let facility = row["facility_id"] ?? nil, !facility.isEmpty, !configuration.facilities.contains(facility) {
            problems.append(("facility_id", "does not exist"))
        }
        return problems
    }
}
