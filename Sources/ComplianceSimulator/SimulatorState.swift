import Foundation

/// Everything the simulator remembers: tokens, imports, idempotency keys,
/// the account's people, and counters for tests and benchmarks.
actor SimulatorState {
    let configuration: SimulatorConfiguration
    private var account: SimulatedAccount
    private var accessTokens: [String: (client: String, expires: Date)] = [:]
    private var refreshTokens: [String: (client: String, expires: Date)] = [:]
    private var imports: [String: ImportJob] = [:]
    private var importOrder: [String] = []
    private var idempotency: [String: (importID: String, at: Date)] = [:]
    private var requestCount = 0
    private var submissions = 0
    private var lastRateLimit: Date?
    private(set) var stats = Stats()

    /// Counters, for tests and benchmarks.
    struct Stats: Sendable {
        var requests = 0
        var tokenRequests = 0
        var refreshGrants = 0
        var invalidGrants = 0
        var importRequests = 0
        var importsCreated = 0
        var statusRequests = 0
        var rowsReceived = 0
        var importBytesReceived = 0
        var faultsInjected = 0
        var redirects = 0
        var refusedRefreshes = 0
        /// Requests that came while the last `429`'s `Retry-After` ran (after its first third, or a
        /// quarter second, for those already on their way): a client that shares the wait between its
        /// requests sends none.
        var ignoredRetryAfter = 0
    }

    struct ImportJob {
        var id: String
        var created: Date
        var rowCount: Int
        var result: (created: Int, updated: Int, unchanged: Int, errors: [SimulatedAccount.RowError])?
        var failure: String?
        /// Whether its answer carries row errors a client cannot map.
        var unmappable = false
    }

    /// What the import status endpoint answers, if set (a fault): for every import, or for one.
    var importStatusAnswer: Int?
    var importStatusAnswerOnly: String?

    /// Sets ``importStatusAnswer``, for one import or (`nil`) every one.
    func answerImportStatus(with code: Int?, forImport id: String?) {
        importStatusAnswer = code
        importStatusAnswerOnly = id
    }

    /// The faulty answer for an import's status, if there is one.
    func statusFault(for id: String?) -> Int? {
        guard importStatusAnswerOnly == nil || importStatusAnswerOnly == id else { return nil }
        return importStatusAnswer
    }

    init(configuration: SimulatorConfiguration) {
        self.configuration = configuration
        importStatusAnswer = configuration.importStatusAnswer
        account = SimulatedAccount(configuration: configuration)
    }

    // MARK: Faults

    enum Fault { case none, rateLimited, unavailable(Int) }

    /// Counts a request and decides whether it gets a fault instead of an answer.
    func nextFault() -> Fault {
        requestCount += 1
        stats.requests += 1
        let n = requestCount
        // Requests already on their way when the 429 went out may arrive in the first two thirds of the
        // wait (a loaded test machine delays them); one sent in the last third ignored it.
        let wait = Double(configuration.retryAfter)
        if let last = lastRateLimit, case let since = Date().timeIntervalSince(last),
            since > max(0.25, wait * 2 / 3) && since < wait
        {
            stats.ignoredRetryAfter += 1
        }
        if configuration.rateLimitEvery > 0 && n % configuration.rateLimitEvery == 0 {
            stats.faultsInjected += 1
            lastRateLimit = Date()
            return .rateLimited
        }
        if configuration.unavailableEvery > 0 && n % configuration.unavailableEvery == 0 {
            stats.faultsInjected += 1
            return .unavailable(503)
        }
        if configuration.errorRate > 0 && Double.random(in: 0..<1) < configuration.errorRate {
            stats.faultsInjected += 1
            return .unavailable([500, 502, 503, 504].randomElement()!)
        }
        return .none
    }

    /// Counts a refresh grant refused by configuration.
    func countRefusedRefresh() {
        stats.tokenRequests += 1
        stats.refusedRefreshes += 1
    }

    /// Counts a token request answered with a redirect.
    func countRedirect() {
        stats.tokenRequests += 1
        stats.redirects += 1
    }

    // MARK: Tokens

    enum TokenResult {
        case issued(access: String, refresh: String)
        case invalidClient
        case invalidGrant
    }

    func clientCredentials(id: String, secret: String) -> TokenResult {
        stats.tokenRequests += 1
        guard configuration.clients[id] == secret else { return .invalidClient }
        return issue(for: id)
    }

    func refresh(token: String, id: String?, secret: String?) -> TokenResult {
        stats.tokenRequests += 1
        if let id, configuration.clients[id] != secret { return .invalidClient }
        guard let entry = refreshTokens.removeValue(forKey: token), entry.expires > Date() else {
            stats.invalidGrants += 1
            return .invalidGrant
        }
        stats.refreshGrants += 1
        return issue(for: entry.client)
    }

    private func issue(for client: String) -> TokenResult {
        let access = "at_" + UUID().uuidString.lowercased()
        let refresh = "rt_" + UUID().uuidString.lowercased()
        accessTokens[access] = (client, Date().addingTimeInterval(configuration.tokenLifetime))
        refreshTokens[refresh] = (client, Date().addingTimeInterval(configuration.refreshLifetime))
        return .issued(access: access, refresh: refresh)
    }

    /// The client a bearer token belongs to, or `nil` when it is unknown or expired.
    func client(forToken token: String) -> String? {
        guard let entry = accessTokens[token], entry.expires > Date() else { return nil }
        return entry.client
    }

    /// Revokes every access token, and the refresh tokens too if asked.
    func revokeTokens(includingRefreshTokens: Bool) {
        accessTokens.removeAll()
        if includingRefreshTokens { refreshTokens.removeAll() }
    }

    // MARK: Imports

    enum SubmitResult {
        case created(ImportJob, dropAnswer: Bool, failAnswer: Bool)
        case replayed(ImportJob)
    }

    func submit(rows: [[String: String?]], bytes: Int, idempotencyKey: String?) -> SubmitResult {
        stats.importRequests += 1
        stats.importBytesReceived += bytes
        if let key = idempotencyKey, let seen = idempotency[key], Date().timeIntervalSince(seen.at) < 86400,
            let job = imports[seen.importID]
        {
            return .replayed(job)
        }
        submissions += 1
        stats.importsCreated += 1
        stats.rowsReceived += rows.count
        var job = ImportJob(id: "imp_\(String(format: "%06d", submissions))", created: Date(), rowCount: rows.count)
        if configuration.failImportEvery > 0 && submissions % configuration.failImportEvery == 0 {
            job.failure = "the import could not be processed; nothing was applied"
        } else {
            job.result = account.apply(rows)
            job.unmappable = submissions <= configuration.unmappableErrorsFirst
        }
        imports[job.id] = job
        importOrder.append(job.id)
        if let key = idempotencyKey { idempotency[key] = (job.id, Date()) }
        let drop = configuration.dropAnswerEvery > 0 && submissions % configuration.dropAnswerEvery == 0
        let fail = configuration.failAnswerEvery > 0 && submissions % configuration.failAnswerEvery == 0
        return .created(job, dropAnswer: drop, failAnswer: fail)
    }

    func job(_ id: String) -> ImportJob? {
        stats.statusRequests += 1
        return imports[id]
    }

    /// Applies rows as an administrator editing people in the web application would: no import, no counts.
    func administer(_ rows: [[String: String?]]) -> [String] {
        account.apply(rows).3.map(\.message)
    }

    /// The account's people, sorted by email.
    func people() -> [[String: String]] {
        account.people.sorted { ($0["email"] ?? "") < ($1["email"] ?? "") }
    }
}
