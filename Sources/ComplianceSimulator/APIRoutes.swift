import FileConnector
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The API's endpoints: token, submit an import, import status.
struct APIRoutes: Sendable {
    let state: SimulatorState
    let configuration: SimulatorConfiguration

    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!

    // MARK: POST token

    func token(_ request: Request, _ context: some RequestContext) async throws -> Response {
        if let fault = try await fault() { return fault }
        if let target = configuration.tokenRedirect {
            await state.countRedirect()
            return Response(status: .temporaryRedirect, headers: [.location: target])
        }
        var request = request
        let body = try await request.collectBody(upTo: 1 << 20)
        let text = String(buffer: body)
        let form: [String: String]
        if request.headers[.contentType]?.hasPrefix("application/x-www-form-urlencoded") == true {
            form = Self.formFields(text)
        } else {
            guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                return try Self.error(.badRequest, "invalid_request", "the body must be a JSON object")
            }
            form = object.compactMapValues { $0 as? String }
        }
        let result: SimulatorState.TokenResult
        switch form["grant_type"] {
        case "client_credentials":
            result = await state.clientCredentials(id: form["client_id"] ?? "", secret: form["client_secret"] ?? "")
        case "refresh_token" where configuration.refuseRefreshWith != nil:
            await state.countRefusedRefresh()
            return try Self.error(
                HTTPResponse.Status(code: configuration.refuseRefreshWith!), "unauthorized_client",
                "refresh grants are not allowed for this client")
        case "refresh_token":
            result = await state.refresh(
                token: form["refresh_token"] ?? "", id: form["client_id"], secret: form["client_secret"])
        default:
            return try Self.error(
                .badRequest, "unsupported_grant_type", "grant_type must be client_credentials or refresh_token")
        }
        switch result {
        case .issued(let access, let refresh):
            return try Self.json(
                .ok,
                [
                    "access_token": access, "token_type": "Bearer", "expires_in": Int(configuration.tokenLifetime),
                    "refresh_token": refresh, "refresh_token_expires_in": Int(configuration.refreshLifetime),
                ])
        case .invalidClient:
            return try Self.error(.unauthorized, "invalid_client", "the client credentials are not valid")
        case .invalidGrant:
            return try Self.error(.badRequest, "invalid_grant", "the refresh token is invalid or expired")
        }
    }

    // MARK: POST imports

    func submit(_ request: Request, _ context: some RequestContext) async throws -> Response {
        if let fault = try await fault() { return fault }
        guard let client = await authorized(request) else { return try Self.invalidToken() }
        if configuration.clientsWithoutImports.contains(client) {
            return try Self.error(.forbidden, "forbidden", "the credentials' user lacks the Imports permission")
        }
        var request = request
        let body = try await request.collectBody(upTo: 64 << 20)
        let rows: [[String: String?]]
        do {
            rows = try parseRows(request, body)
        } catch let error as SimulatorError {
            return try Self.error(.badRequest, "invalid_request", error.message)
        }
        if rows.count > configuration.maxRows {
            return try Self.error(.contentTooLarge, "too_many_rows", "at most \(configuration.maxRows) rows per import")
        }
        switch await state.submit(
            rows: rows, bytes: body.readableBytes, idempotencyKey: request.headers[Self.idempotencyKey])
        {
        case .replayed(let job):
            if let code = configuration.replayAnswer {
                return try Self.error(HTTPResponse.Status(code: code), "conflict", "this idempotency key was used")
            }
            return try Self.json(.ok, ["id": job.id, "status": status(of: job), "row_count": job.rowCount])
        case .created(let job, let dropAnswer, let failAnswer):
            if failAnswer {
                // Applied, but answered as if it failed: only a retry under the same key can tell.
                return try Self.error(.serviceUnavailable, "unavailable", "try again later")
            }
            if dropAnswer {
                // Applied, but the answer is lost: hang until the client gives up.
                try await Task.sleep(for: .seconds(configuration.dropAnswerHang))
            }
            return try Self.json(.accepted, ["id": job.id, "status": "queued", "row_count": job.rowCount])
        }
    }

    private func parseRows(_ request: Request, _ body: ByteBuffer) throws -> [[String: String?]] {
        if request.headers[.contentType]?.hasPrefix("text/csv") == true {
            guard request.uri.queryParameters["import_type"] == "users" else {
                throw SimulatorError(message: "import_type=users is required in the query")
            }
            let reader = try CSVReader(bytes: Array(buffer: body), name: "body")
            guard try reader.next() else { return [] }
            let header = reader.fields.map { $0 ?? "" }
            var rows: [[String: String?]] = []
            while try reader.next() {
                var row: [String: String?] = [:]
                for (name, value) in zip(header, reader.fields) { row[name] = .some(value) }
                rows.append(row)
            }
            return rows
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any] else {
            throw SimulatorError(message: "the body must be a JSON object")
        }
        guard object["import_type"] as? String == "users" else {
            throw SimulatorError(message: "import_type must be \"users\"")
        }
        guard let list = object["rows"] as? [[String: Any]] else {
            throw SimulatorError(message: "rows must be a list of objects")
        }
        return list.map { row in
            row.mapValues { value -> String? in
                switch value {
                case let text as String: text
                case is NSNull: nil
                case let number as NSNumber: number.stringValue
                default: "\(value)"
                }
            }
        }
    }

    // MARK: GET imports/{id}

    func status(_ request: Request, _ context: some RequestContext) async throws -> Response {
        if let fault = try await fault() { return fault }
        guard await authorized(request) != nil else { return try Self.invalidToken() }
        if let code = await state.statusFault(for: context.parameters.get("id")) {
            return try Self.error(HTTPResponse.Status(code: code), code == 410 ? "gone" : "broken", "no status")
        }
        guard let id = context.parameters.get("id"), let job = await state.job(id) else {
            return try Self.error(.notFound, "not_found", "no such import")
        }
        let status = status(of: job)
        var answer: [String: Any] = ["id": job.id, "status": status, "row_count": job.rowCount]
        if status == "completed", let result = job.result {
            answer["created"] = result.created
            answer["updated"] = result.updated
            answer["unchanged"] = result.unchanged
            var errors = result.errors.map { error -> [String: Any] in
                var entry: [String: Any] = ["row": error.row, "message": error.message]
                entry["email"] = error.email ?? NSNull()
                entry["field"] = error.field ?? NSNull()
                return entry
            }
            if job.unmappable {
                errors += [["row": job.rowCount + 7, "message": "row out of range"], ["message": "no row at all"]]
            }
            answer["errors"] = errors
        } else if status == "failed" {
            answer["message"] = job.failure ?? "failed"
        }
        return try Self.json(.ok, answer)
    }

    private func status(of job: SimulatorState.ImportJob) -> String {
        let age = Date().timeIntervalSince(job.created)
        if age < configuration.processingTime / 2 { return "queued" }
        if age < configuration.processingTime { return "processing" }
        return job.failure == nil ? "completed" : "failed"
    }

    // MARK: Helpers

    private func fault() async throws -> Response? {
        if configuration.latency > 0 { try await Task.sleep(for: .seconds(configuration.latency)) }
        switch await state.nextFault() {
        case .none: return nil
        case .rateLimited:
            var response = try Self.error(.tooManyRequests, "rate_limited", "slow down")
            response.headers[.retryAfter] = configuration.retryAfterText ?? String(configuration.retryAfter)
            return response
        case .unavailable(let code):
            return try Self.error(HTTPResponse.Status(code: code), "unavailable", "try again later")
        }
    }

    private func authorized(_ request: Request) async -> String? {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else { return nil }
        return await state.client(forToken: String(header.dropFirst(7)))
    }

    static func invalidToken() throws -> Response {
        var response = try error(.unauthorized, "invalid_token", "the access token is invalid or expired")
        response.headers[.wwwAuthenticate] = "Bearer error=\"invalid_token\""
        return response
    }

    static func error(_ status: HTTPResponse.Status, _ code: String, _ message: String) throws -> Response {
        try json(status, ["error": code, "message": message])
    }

    static func json(_ status: HTTPResponse.Status, _ object: Any) throws -> Response {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func formFields(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            if parts.count == 2 { fields[parts[0]] = parts[1] }
        }
        return fields
    }
}
