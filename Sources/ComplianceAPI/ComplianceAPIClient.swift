import AsyncHTTPClient
import ConnectorCore
import Foundation
import HTTPClientSupport
import JobConfig
import Logging
import NIOHTTP1
import NIOSSL
import SyncCore
import Synchronization

/// The Compliance import API over HTTP: authenticated submissions and status
/// polling, with the retry policy of compliance-api.md. Paths, formats and
/// limits come from ``APISettings``.
public final class ComplianceAPIClient: ImportService {
    private let settings: APISettings
    private let transport: HTTPTransport
    private let tokens: TokenManager
    private let ownedClient: HTTPClient?

    /// Creates a client.
    /// - Parameters:
    ///   - settings: the job's `api:` section.
    ///   - clientID: the OAuth client id.
    ///   - secret: the client secret.
    ///   - httpClient: the HTTP client to use; by default the client makes its own
    ///     (a 5-second connect timeout, so an unreachable API fails in seconds), which ``shutdown()`` closes.
    ///   - logger: where requests are logged (never tokens or secrets).
    public init(settings: APISettings, clientID: String, secret: Secret, httpClient: HTTPClient? = nil, logger: Logger)
    {
        self.settings = settings
        let configuration = HTTPClientSetup.configuration(proxy: settings.proxy, caFile: settings.caFile)
        ownedClient =
            httpClient == nil ? HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration) : nil
        transport = HTTPTransport(settings: settings, client: httpClient ?? ownedClient!, logger: logger)
        tokens = TokenManager(transport: transport, clientID: clientID, secret: secret)
    }

    /// Requests tried again so far (rate limits, unavailable answers, lost connections).
    public var retries: Int { transport.retries.count.load(ordering: .relaxed) }

    /// Closes the HTTP client this client made, if it made one.
    public func shutdown() async {
        try? await ownedClient?.shutdown()
    }

    /// Runs `body`, then shuts the client down, whether `body` returned or threw.
    public func closing<Result>(after body: () async throws -> Result) async throws -> Result {
        let result: Result
        do {
            result = try await body()
        } catch {
            await shutdown()
            throw error
        }
        await shutdown()
        return result
    }

    /// Creates a client from a job's settings, reading the client secret.
    /// - Throws: ``SyncError`` when the client id or secret is missing.
    public convenience init(settings: APISettings, logger: Logger) throws {
        guard let clientID = settings.clientID, !clientID.isEmpty else {
            throw SyncError(
                .configuration, "api.client_id is not set", hint: "set api.client_id (or api.client_id_env)")
        }
        guard let reference = settings.clientSecret else {
            throw SyncError(
                .configuration, "no client secret is configured",
                hint: "set api.client_secret_env or api.client_secret_file")
        }
        self.init(settings: settings, clientID: clientID, secret: try reference.resolve(logger: logger), logger: logger)
    }

    /// Fetches a token, to prove the credentials work.
    public func checkCredentials() async throws {
        _ = try await tokens.accessToken()
    }

    public func submit(_ rows: [ImportRow], idempotencyKey: String) async throws -> SubmittedImport {
        guard rows.count <= settings.maxRowsPerRequest else {
            throw SyncError(
                .api, "a batch of \(rows.count) rows exceeds api.max_rows_per_request (\(settings.maxRowsPerRequest))")
        }
        var path = settings.importsPath
        var headers = [("Idempotency-Key", idempotencyKey)]
        let body: [UInt8]
        switch settings.format {
        case .json:
            body = ImportBody.json(rows, importType: settings.importType)
            headers.append(("Content-Type", "application/json"))
        case .csv:
            body = ImportBody.csv(rows)
            headers.append(("Content-Type", "text/csv; charset=utf-8"))
            path +=
                "?import_type="
                + (settings.importType.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "users")
        }
        var reply = try await authorized(.POST, path, headers: headers, body: body)
        // 409: the API may still be working on an earlier attempt under this key; asked again, as in progress.
        var conflicts = 0
        while reply.status == 409 && conflicts + 1 < settings.maxAttempts {
            conflicts += 1
            try await Task.sleep(for: transport.backoff(conflicts))
            reply = try await authorized(.POST, path, headers: headers, body: body)
        }
        if conflicts > 0 { reply.mayHaveApplied = true }
        if reply.mayHaveApplied, (400..<500).contains(reply.status), reply.status != 401, reply.status != 403 {
            throw SyncError(
                .unconfirmed,
                "the API answered \(reply.status) (\(reply.problem)) to an import an earlier attempt of which "
                    + "may have been applied",
                hint: "its people are sent again in their current state by the next run")
        }
        switch reply.status {
        case 200, 201, 202:
            guard let id = WireReply.decode(WireReply.Submitted.self, from: reply.body)?.id else {
                throw SyncError(
                    .api, "the imports endpoint answered without an import id", hint: "check api.imports_path")
            }
            return SubmittedImport(id: id, replayed: reply.status == 200)
        case 403:
            throw SyncError(
                .api,
                "the credentials' user lacks the \"Imports\" permission (403 from POST \(settings.importsPath): \(reply.problem))",
                hint: "give the user tied to the credentials a role with the \"Imports\" and \"API Access\" rights")
        case 413:
            throw SyncError(
                .tooLarge, "the API refused a batch of \(rows.count) rows as too large (413)",
                hint: "lower api.batch_size (and api.max_rows_per_request to the API's limit)")
        case 400, 409, 422:
            throw SyncError(
                .refused, "\(reply.status) \(reply.problem)",
                hint: "the request itself is wrong; check api.format, api.import_type and the field names")
        default:
            throw SyncError(
                .api, "the API refused an import of \(rows.count) rows: \(reply.status) \(reply.problem)",
                hint: reply.status == 400
                    ? "the request itself is wrong; check api.format, api.import_type and the field names" : nil)
        }
    }

    public func outcome(of importID: String) async throws -> ImportOutcome {
        let path =
            settings.importsPath + "/"
            + (importID.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? importID)
        let deadline = ContinuousClock.now + settings.importTimeout
        var wait = Duration.milliseconds(50)
        while true {
            let reply = try await authorized(.GET, path)
            if reply.status == 404 || reply.status == 410 {
                // Forgotten, purged or never created: whether it was applied cannot be known.
                return .unconfirmed(reason: "the API has no import \(importID) (\(reply.status))")
            }
            guard reply.status == 200, let json = reply.json, let status = json["status"] as? String else {
                throw SyncError(
                    .api, "reading import \(importID) failed: \(reply.status) \(reply.problem)",
                    hint: "the import is journaled and will be settled by the next run")
            }
            switch status {
            case "completed":
                return Self.completedOutcome(json)
            case "failed":
                return .failed(message: json["message"] as? String ?? "the import failed")
            default:
                guard ContinuousClock.now < deadline else {
                    throw SyncError(
                        .api, "import \(importID) did not finish within api.import_timeout (\(settings.importTimeout))",
                        hint: "it is journaled; the next run settles it")
                }
                try await Task.sleep(for: wait)
                wait = min(wait * 2, .seconds(2))
            }
        }
    }

    /// Reads a completed import's answer. Any part that cannot be fully understood (an
    /// `errors` that is not a list, an entry without a whole-number `row`) makes it unconfirmed.
    static func completedOutcome(_ json: [String: Any]) -> ImportOutcome {
        let rowCount = json["row_count"].flatMap(wholeNumber)
        if json["row_count"] != nil && rowCount == nil {
            return .unconfirmed(reason: "its row_count is not a whole number")
        }
        guard let list = json["errors"], !(list is NSNull) else {
            // No list at all is understood only when the counts account for every row.
            let counted = ["created", "updated", "unchanged"].compactMap { json[$0].flatMap(wholeNumber) }
            guard counted.count == 3, let rowCount, counted.reduce(0, +) == rowCount else {
                return .unconfirmed(reason: "its answer has no errors list and its counts do not cover every row")
            }
            return .completed(errors: [], rowCount: rowCount)
        }
        guard let entries = list as? [Any] else { return .unconfirmed(reason: "its errors is not a list") }
        var errors: [ImportRowError] = []
        for (n, item) in entries.enumerated() {
            guard let entry = item as? [String: Any], let row = entry["row"].flatMap(wholeNumber) else {
                return .unconfirmed(reason: "its error entry \(n + 1) has no whole-number row")
            }
            errors.append(
                ImportRowError(
                    row: row, field: entry["field"] as? String,
                    message: entry["message"] as? String ?? "rejected"))
        }
        return .completed(errors: errors, rowCount: rowCount)
    }

    /// A JSON number that is a whole number (not 1.5).
    private static func wholeNumber(_ value: Any) -> Int? {
        guard let number = value as? NSNumber else { return nil }
        let double = number.doubleValue
        guard double.isFinite, double == double.rounded(), abs(double) < 1e15 else { return nil }
        return Int(double)
    }

    /// A call with a bearer token; an `invalid_token` answer gets one new token and one more try.
    private func authorized(
        _ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], body: [UInt8]? = nil
    ) async throws -> HTTPTransport.Reply {
        let tokens = self.tokens
        let used = TokenBox()
        let authorize: @Sendable () async throws -> String = {
            let token = try await tokens.accessToken()
            used.set(token)
            return "Bearer " + token
        }
        var reply = try await transport.send(method, path, headers: headers, body: body, authorize: authorize)
        if reply.status == 401 {
            if let token = used.value { await tokens.invalidate(token) }
            reply = try await transport.send(method, path, headers: headers, body: body, authorize: authorize)
            if reply.status == 401 {
                throw SyncError(
                    .api, "the API refused a fresh access token for \(method.rawValue) \(path) (\(reply.problem))",
                    hint: "check that the credentials are still active under Administration > Integrations")
            }
        }
        return reply
    }
}

/// The last token a request used.
private final class TokenBox: Sendable {
    private let token = Mutex<String?>(nil)
    var value: String? { token.withLock { $0 } }
    func set(_ value: String) { token.withLock { $0 = value } }
}

/// Import request bodies.
enum ImportBody {
    /// `{"import_type": "users", "rows": [{…}, …]}`; a `nil` value is `null`.
    static func json(_ rows: [ImportRow], importType: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(rows.count * 160)
        bytes += Array(#"{"import_type":"#.utf8)
        JSONWriter.appendQuoted(importType, to: &bytes)
        bytes += Array(#","rows":["#.utf8)
        for (i, row) in rows.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(UInt8(ascii: "{"))
            for (j, field) in row.fields.enumerated() {
                if j > 0 { bytes.append(UInt8(ascii: ",")) }
                JSONWriter.appendQuoted(field.name, to: &bytes)
                bytes.append(UInt8(ascii: ":"))
                if let value = field.value {
                    JSONWriter.appendQuoted(value, to: &bytes)
                } else {
                    bytes += Array("null".utf8)
                }
            }
            bytes.append(UInt8(ascii: "}"))
        }
        bytes += Array("]}".utf8)
        return bytes
    }

    /// A header row of every field the rows carry, then one line per row (RFC 4180 quoting, CRLF).
    static func csv(_ rows: [ImportRow]) -> [UInt8] {
        var columns: [String] = []
        for row in rows { for field in row.fields where !columns.contains(field.name) { columns.append(field.name) } }
        var text = columns.map(quote).joined(separator: ",") + "\r\n"
        for row in rows {
            text += columns.map { name in (row[name] ?? nil).map(quote) ?? "" }.joined(separator: ",") + "\r\n"
        }
        return Array(text.utf8)
    }

    private static func quote(_ value: String) -> String {
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
