import ConnectorCore

/// What the API's import fields are and which rules apply to each
/// (compliance-api.md); every list is a setting under `api.fields`.
public struct FieldCatalog: Sendable, Hashable {
    /// Fields every row must carry.
    public var required: [String] = ["first_name", "last_name", "email"]
    /// Every field the API knows; a mapping to any other is a config error.
    public var known: [String] = [
        "first_name", "last_name", "email", "middle_name", "ssn", "employee_id", "agency_id_number",
        "job_title", "hired_at", "terminated_at", "facility_id", "cage_code", "date_of_birth", "place_of_birth",
    ]
    /// Fields never shown or stored as values: masked in output, kept only as a keyed hash.
    public var sensitive: [String] = ["ssn", "date_of_birth", "place_of_birth"]
    /// Fields holding an email address (checked, and unique across people).
    public var email: [String] = ["email"]
    /// Fields holding an SSN (`555-55-5555`; nine bare digits are normalised).
    public var ssn: [String] = ["ssn"]
    /// Fields holding a date-time (`yyyy-mm-dd HH:MM:SS` with an optional zone name).
    public var dateTime: [String] = ["hired_at", "terminated_at"]
    /// Fields holding a date (`yyyy-mm-dd`).
    public var date: [String] = ["date_of_birth"]
    /// Fields holding a whole number.
    public var numeric: [String] = ["facility_id"]
    /// The fields a termination row carries besides ``terminatedAt``: the row must match the person.
    public var identity: [String] = ["first_name", "last_name", "email", "employee_id"]
    /// The field that offboards a person.
    public var terminatedAt: String = "terminated_at"
    /// The field the API matches people on before email.
    public var employeeID: String = "employee_id"

    /// The defaults of compliance-api.md.
    public init() {}

    package init(section: ConfigSection?) throws {
        guard let section else { return }
        required = try section.strings("required") ?? required
        known = try section.strings("known") ?? known
        sensitive = try section.strings("sensitive") ?? sensitive
        email = try section.strings("email") ?? email
        ssn = try section.strings("ssn") ?? ssn
        dateTime = try section.strings("date_time") ?? dateTime
        date = try section.strings("date") ?? date
        numeric = try section.strings("numeric") ?? numeric
        identity = try section.strings("identity") ?? identity
        terminatedAt = try section.string("terminated_at") ?? terminatedAt
        employeeID = try section.string("employee_id") ?? employeeID
        try section.finish()
    }
}
