import Foundation

/// How the simulator behaves: its clients, limits, and the faults it injects.
public struct SimulatorConfiguration: Sendable {
    /// The address to listen on; loopback by default.
    public var host = "127.0.0.1"
    /// The port; 0 picks a free one (see ``ComplianceSimulator/port``).
    public var port = 8080
    /// Serve HTTPS with this certificate chain (PEM), and ``tlsKey``; plain HTTP when `nil`.
    public var tlsCertificate: String?
    /// The private key (PEM) of ``tlsCertificate``.
    public var tlsKey: String?
    /// Accepted client credentials, id to secret.
    public var clients: [String: String] = ["demo-client": "demo-secret"]
    /// Clients whose user lacks the "Imports" permission (they get 403 on imports).
    public var clientsWithoutImports: Set<String> = []
    /// Access token lifetime.
    public var tokenLifetime: TimeInterval = 3600
    /// Refresh token lifetime.
    public var refreshLifetime: TimeInterval = 86400
    /// Rows allowed per import request.
    public var maxRows = 1000
    /// How long an import takes from `queued` to `completed`.
    public var processingTime: TimeInterval = 0.05
    /// Facility ids that exist in the account.
    public var facilities: Set<String> = Set((1...20).map(String.init))
    /// The token endpoint's path.
    public var tokenPath = "/v1/auth/token"
    /// The imports endpoint's path.
    public var importsPath = "/v1/imports"
    /// The fields the importer knows.
    public var knownFields: Set<String> = [
        "first_name", "last_name", "email", "middle_name", "ssn", "employee_id", "agency_id_number", "job_title",
        "hired_at", "terminated_at", "facility_id", "cage_code", "date_of_birth", "place_of_birth",
    ]

    /// Every Nth request (any endpoint) gets `429` with `Retry-After`; 0 for never.
    public var rateLimitEvery = 0
    /// The `Retry-After` of those answers, in seconds.
    public var retryAfter = 1
    /// Every Nth request gets `503`; 0 for never.
    public var unavailableEvery = 0
    /// The share of requests, 0 to 1, that get a random `500`/`502`/`503`/`504`.
    public var errorRate = 0.0
    /// Added to every answer.
    public var latency: TimeInterval = 0
    /// Every Nth import submission is applied but its answer never comes
    /// (the connection hangs until the client gives up); 0 for never.
    public var dropAnswerEvery = 0
    /// How long such a dropped answer hangs before the server gives up on it.
    public var dropAnswerHang: TimeInterval = 30
    /// Every Nth import submission is applied, but answered `503` (a client retries it under the
    /// same key, and may then meet ``replayAnswer``); 0 for never.
    public var failAnswerEvery = 0
    /// Every Nth import fails as a whole (applies nothing); 0 for never.
    public var failImportEvery = 0
    /// The `Retry-After` text of `429` answers, sent as it is (an HTTP date, or nonsense
    /// such as `inf`), instead of ``retryAfter``.
    public var retryAfterText: String?
    /// When set, every refresh-token grant is refused with this status (`400` or `401`) and an
    /// error other than `invalid_grant`; clients must fall back to the client credentials.
    public var refuseRefreshWith: Int?
    /// When set, the token endpoint answers `307 Temporary Redirect` to this URL.
    public var tokenRedirect: String?
    /// The first N completed imports report, besides their real errors, one that names no
    /// row of the request and one without a row: an answer a client cannot map.
    public var unmappableErrorsFirst = 0

    /// When set, a submission under an idempotency key already used (a retry after a lost answer)
    /// is answered with this status (`409`, `422`, …) instead of the first import, whose rows were
    /// applied: an answer that must never be read as "nothing applied".
    public var replayAnswer: Int?
    /// When set, the import status endpoint answers this status for every import (`410` purged,
    /// `500` broken); ``ComplianceSimulator/answerImportStatus(with:)`` changes it while running.
    public var importStatusAnswer: Int?

    /// The defaults: one client `demo-client`/`demo-secret`, no faults.
    public init() {}
}
