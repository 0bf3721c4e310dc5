/// One row of an import, in field order; a `nil` value clears the field.
public struct ImportRow: Sendable, Hashable {
    /// The row's fields.
    public var fields: [Field]

    /// A field of a row.
    public struct Field: Sendable, Hashable {
        /// The import field's name.
        public var name: String
        /// Its value; `nil` sends `null` (JSON) or an empty cell (CSV), which clears it.
        public var value: String?

        /// Creates a field.
        public init(_ name: String, _ value: String?) {
            self.name = name
            self.value = value
        }
    }

    /// Creates a row.
    public init(_ fields: [Field]) { self.fields = fields }

    /// The value of a field, if the row carries it.
    public subscript(name: String) -> String?? {
        fields.first { $0.name == name }.map(\.value)
    }
}

/// What the API said to a submission.
public struct SubmittedImport: Sendable, Hashable {
    /// The import's id.
    public var id: String
    /// `true` when the idempotency key had been used before and the API returned that first import.
    public var replayed: Bool

    /// Creates a result.
    public init(id: String, replayed: Bool) {
        self.id = id
        self.replayed = replayed
    }
}

/// A problem the API found with one row.
public struct ImportRowError: Sendable, Hashable {
    /// The row's 0-based position in the submitted request.
    public var row: Int
    /// The field concerned, if the API named one.
    public var field: String?
    /// The API's message.
    public var message: String

    /// Creates a row error.
    public init(row: Int, field: String?, message: String) {
        self.row = row
        self.field = field
        self.message = message
    }
}

/// How an import ended.
public enum ImportOutcome: Sendable, Hashable {
    /// Every row without an error was applied. `rowCount` is the API's count of the
    /// rows it received, when it said one.
    case completed(errors: [ImportRowError], rowCount: Int?)
    /// Nothing was applied.
    case failed(message: String)
    /// The answer cannot be fully understood (an error entry without a usable row, an
    /// import the API no longer knows): nothing of it may be taken as accepted, and
    /// its people are sent again in their current state.
    case unconfirmed(reason: String)
}

/// Where imports go: the Compliance API, or anything that keeps its contract.
///
/// The sync engine only needs these two calls; the `ComplianceAPI` module
/// implements them over HTTP with authentication and retries.
public protocol ImportService: Sendable {
    /// Submits rows as one import.
    /// - Parameters:
    ///   - rows: at most the API's row limit.
    ///   - idempotencyKey: names this submission; the same key returns the same import.
    /// - Returns: the import's id, and whether the key had been seen before.
    /// - Throws: a ``SyncError`` of kind ``SyncError/Kind/refused`` when the API refused the
    ///   request for good (nothing of it was applied); another error when it could not be
    ///   reached after retries (it may have been applied).
    func submit(_ rows: [ImportRow], idempotencyKey: String) async throws -> SubmittedImport

    /// Waits for an import to end.
    /// - Returns: its outcome, with per-row errors.
    func outcome(of importID: String) async throws -> ImportOutcome

    /// Requests tried again so far (429, 5xx, a lost connection), for the run report.
    var retries: Int { get }
}

extension ImportService {
    /// A service that never tries again: none.
    public var retries: Int { 0 }
}
