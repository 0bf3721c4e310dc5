import ConnectorCore
import ConnectorTestKit
import Foundation
import Logging
import TestSupport
import Testing

@testable import HTTPConnector

/// The HTTP source against a local server answering recorded pages: what it reads, and each way a
/// half-read collection fails the read instead of looking like "everyone else left".
@Suite struct HTTPSourceTests {
    /// People `first...last` as API records.
    static func people(_ range: ClosedRange<Int>) -> [[String: Any]] {
        range.map {
            ["id": "u\($0)", "name": ["givenName": "Given\($0)"], "emails": [["value": "p\($0)@example.com"]]]
        }
    }

    /// A folder with a routes.json of `routes` and a page file for each of `pages`.
    static func recording(_ routes: [[String: Any]], pages: [String: Any] = [:]) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("recording-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (name, page) in pages {
            let data =
                page as? String == nil ? try JSONSerialization.data(withJSONObject: page) : Data((page as! String).utf8)
            try data.write(to: folder.appendingPathComponent(name))
        }
        try JSONSerialization.data(withJSONObject: ["routes": routes]).write(
            to: folder.appendingPathComponent("routes.json"))
        return folder.path
    }

    static func route(_ query: [String: String]?, _ file: String, status: Int = 200, headers: [String: String] = [:])
        -> [String: Any]
    {
        var route: [String: Any] = ["path": "/users", "status": status, "body_file": file, "response_headers": headers]
        if let query { route["query"] = query }
        return route
    }

    static func settings(_ base: String, _ change: (inout HTTPSourceSettings) -> Void = { _ in }) -> HTTPSourceSettings
    {
        var settings = HTTPSourceSettings(url: URL(string: base + "/users")!, idAttribute: "id")
        settings.records = "data"
        settings.maxAttempts = 2
        change(&settings)
        return settings
    }

    static func read(_ settings: HTTPSourceSettings) async throws -> [SourceRecord] {
        var records: [SourceRecord] = []
        for try await record in HTTPSource(settings: settings, logger: Logger(label: "test")).records() {
            records.append(record)
        }
        return records
    }

    /// Reads, expecting a failure whose message holds every one of `words`.
    static func expectFailure(
        _ settings: HTTPSourceSettings, _ words: String..., sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) async {
        do {
            let records = try await read(settings)
            Issue.record("read \(records.count) records instead of failing", sourceLocation: sourceLocation)
        } catch {
            let text = "\(error)"
            for word in words {
                #expect(text.contains(word), "\(text)", sourceLocation: sourceLocation)
            }
        }
    }

    // MARK: - Reading

    @Test func offsetPagesAreReadUntilAnEmptyPageEvenWhenTheServerCapsThePageSize() async throws {
        // Asked for 3 a page, the server gives 2: a short page is not the end.
        let folder = try Self.recording(
            [
                Self.route(["offset": "0", "limit": "3"], "1.json"),
                Self.route(["offset": "2", "limit": "3"], "2.json"),
                Self.route(["offset": "4", "limit": "3"], "3.json"),
                Self.route(["offset": "5", "limit": "3"], "4.json"),
            ],
            pages: [
                "1.json": ["data": Self.people(1...2)], "2.json": ["data": Self.people(3...4)],
                "3.json": ["data": Self.people(5...5)], "4.json": ["data": []],
            ])
        try await withRecordedAPI(folder) { api in
            let records = try await Self.read(
                Self.settings(api.base) {
                    $0.pagination.kind = .offset
                    $0.pagination.parameter = "offset"
                    $0.pagination.sizeParameter = "limit"
                    $0.pagination.pageSize = 3
                })
            #expect(records.map(\.id) == ["u1", "u2", "u3", "u4", "u5"])
            #expect(records[0].attributes["name.givenName"]?.texts == ["Given1"])
            #expect(records[0].attributes["emails.0.value"]?.texts == ["p1@example.com"], "lists of objects by index")
            let third = records[2].location.map { "\($0)" } ?? ""
            #expect(third.contains("page 2"), "\(third)")
        }
    }

    @Test func linkHeaderPagesAreFollowed() async throws {
        let folder = try Self.recording(
            [
                Self.route(
                    [:], "1.json",
                    headers: ["Link": "<{base}/users?page=2>; rel=\"next\", <{base}/users?page=2>; rel=\"last\""]),
                Self.route(["page": "2"], "2.json", headers: ["Link": "<{base}/users>; rel=\"first\""]),
            ],
            pages: ["1.json": ["data": Self.people(1...2)], "2.json": ["data": Self.people(3...3)]])
        try await withRecordedAPI(folder) { api in
            let records = try await Self.read(Self.settings(api.base) { $0.pagination.kind = .link })
            #expect(records.map(\.id) == ["u1", "u2", "u3"])
        }
    }

    @Test func theSourceConformsToTheConnectorContract() async throws {
        let folder = try Self.recording(
            [
                Self.route(["cursor": "", "limit": "2"], "x.json").merging(["query": ["limit": "2"]]) { $1 },
                Self.route(["cursor": "c2", "limit": "2"], "2.json"),
                Self.route(["cursor": "c3", "limit": "2"], "3.json"),
            ],
            pages: [
                "x.json": ["data": Self.people(1...2), "next": "c2"],
                "2.json": ["data": Self.people(3...4), "next": "c3"],
                "3.json": ["data": Self.people(5...5)],
            ])
        try await withRecordedAPI(folder) { api in
            let good = Self.settings(api.base) {
                $0.pagination.kind = .cursor
                $0.pagination.parameter = "cursor"
                $0.pagination.sizeParameter = "limit"
                $0.pagination.pageSize = 2
                $0.pagination.nextPath = "next"
            }
            let failing = { () -> HTTPSourceSettings in
                var settings = good
                settings.records = "missing"
                return settings
            }()
            let logger = Logger(label: "test")
            try await ConnectorConformance(
                source: { HTTPSource(settings: good, logger: logger) },
                failing: { HTTPSource(settings: failing, logger: logger) }
            ).verify()
        }
    }

    // MARK: - Failing closed

    @Test func aPageThatIsNotASuccessFailsTheRead() async throws {
        let folder = try Self.recording(
            [
                Self.route(["page": "1", "per_page": "2"], "1.json"),
                Self.route(["page": "2", "per_page": "2"], "error.json", status: 500),
                Self.route(["page": "3", "per_page": "2"], "error.json", status: 403),
            ],
            pages: ["1.json": ["data": Self.people(1...2)], "error.json": ["message": "Internal error\nwith a trace"]])
        try await withRecordedAPI(folder) { api in
            let paged = Self.settings(api.base) {
                $0.pagination.kind = .page
                $0.pagination.parameter = "page"
                $0.pagination.sizeParameter = "per_page"
                $0.pagination.start = 1
                $0.pagination.pageSize = 2
            }
            await Self.expectFailure(paged, "page 2", "still answered 500 after 2 attempts")
            var forbidden = paged
            forbidden.pagination.start = 3
            await Self.expectFailure(forbidden, "page 1", "answered 403: Internal error", "read rights")
        }
    }

    @Test func aPageThatIsNotJSONOrLacksTheRecordsFailsTheRead() async throws {
        let folder = try Self.recording(
            [
                [
                    "path": "/users", "query": ["v": "html"], "body_file": "login.html",
                    "response_headers": ["Content-Type": "text/html"],
                ],
                ["path": "/users", "query": ["v": "other"], "body_file": "other.json"],
                ["path": "/users", "query": ["v": "object"], "body_file": "object.json"],
            ],
            pages: [
                "login.html": "<html><body>Sign in</body></html>", "other.json": ["items": [], "count": 0],
                "object.json": ["data": ["id": "u1"]],
            ])
        try await withRecordedAPI(folder) { api in
            func at(_ variant: String) -> HTTPSourceSettings {
                Self.settings(api.base) { $0.url = URL(string: api.base + "/users?v=\(variant)")! }
            }
            await Self.expectFailure(at("html"), "page 1 is not JSON", "text/html")
            await Self.expectFailure(at("other"), "page 1 has no `data`", "count, items")
            await Self.expectFailure(at("object"), "`data` is object, not a list")
        }
    }

    @Test func aReportedTotalThatIsNotMetFailsTheRead() async throws {
        let list = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
        let folder = try Self.recording(
            [
                Self.route(["startIndex": "1", "count": "2"], "1.json"),
                Self.route(["startIndex": "3", "count": "2"], "2.json"),
            ],
            pages: [
                "1.json": ["schemas": [list], "totalResults": 4, "Resources": Self.people(1...2)],
                "2.json": ["schemas": [list], "totalResults": 4, "Resources": []],
            ])
        try await withRecordedAPI(folder) { api in
            let scim = Self.settings(api.base) {
                $0.records = "Resources"
                $0.total = "totalResults"
                $0.pagination.kind = .scim
                $0.pagination.parameter = "startIndex"
                $0.pagination.sizeParameter = "count"
                $0.pagination.start = 1
                $0.pagination.pageSize = 2
            }
            await Self.expectFailure(scim, "page 2 is empty", "reported 4 records and 2 were read")
        }
    }

    @Test func aTotalThatChangesBetweenPagesFailsTheRead() async throws {
        let folder = try Self.recording(
            [
                Self.route(["p": "2"], "2.json"),
                Self.route([:], "1.json", headers: ["Link": "<{base}/users?p=2>; rel=next"]),
            ],
            pages: [
                "1.json": ["data": Self.people(1...2), "total": 3], "2.json": ["data": Self.people(3...3), "total": 4],
            ])
        try await withRecordedAPI(folder) { api in
            await Self.expectFailure(
                Self.settings(api.base) {
                    $0.pagination.kind = .link
                    $0.total = "total"
                }, "page 1 reported 3 records in all, page 2 reports 4")
        }
    }

    @Test func aCursorSeenTwiceOrALinkElsewhereFailsTheRead() async throws {
        let folder = try Self.recording(
            [
                ["path": "/users", "query": ["limit": "2"], "body_file": "1.json"],
                ["path": "/users", "query": ["limit": "2", "cursor": "again"], "body_file": "1.json"],
                ["path": "/elsewhere", "body_file": "away.json"],
            ],
            pages: [
                "1.json": ["data": [], "next": "again"],
                "away.json": ["data": Self.people(1...1), "next": "https://attacker.example.net/users?page=2"],
            ])
        try await withRecordedAPI(folder) { api in
            await Self.expectFailure(
                Self.settings(api.base) {
                    $0.pagination.kind = .cursor
                    $0.pagination.parameter = "cursor"
                    $0.pagination.sizeParameter = "limit"
                    $0.pagination.pageSize = 2
                    $0.pagination.nextPath = "next"
                }, "page 2 gives a cursor an earlier page gave")
            await Self.expectFailure(
                Self.settings(api.base) {
                    $0.url = URL(string: api.base + "/elsewhere")!
                    $0.pagination.kind = .nextURL
                    $0.pagination.nextPath = "next"
                }, "links to a next page on another server (attacker.example.net)")
        }
    }

    @Test func aServerThatStaysBusyFailsTheReadWithinItsLimits() async throws {
        let folder = try Self.recording(
            [
                [
                    "path": "/users", "query": ["wait": "long"], "status": 429,
                    "response_headers": ["Retry-After": "3600"],
                ],
                [
                    "path": "/users", "query": ["wait": "short"], "status": 503,
                    "response_headers": ["Retry-After": "5"],
                ],
            ])
        try await withRecordedAPI(folder) { api in
            await Self.expectFailure(
                Self.settings(api.base) { $0.url = URL(string: api.base + "/users?wait=long")! },
                "asked to wait 3600 seconds", "max_retry_after")
            // Ten attempts 5 s apart would take 45 s; 8 s of waiting in all allows one.
            let start = ContinuousClock.now
            await Self.expectFailure(
                Self.settings(api.base) {
                    $0.url = URL(string: api.base + "/users?wait=short")!
                    $0.maxAttempts = 10
                    $0.maxRetryWait = .seconds(8)
                }, "still answered 503 after waiting source.max_retry_wait")
            #expect(ContinuousClock.now - start < .seconds(40))
            let requests = api.requests().filter { ($0["query"] as? [String: String])?["wait"] == "short" }
            #expect(requests.count == 2, "one wait of 5 s fits in 8 s, a second does not: \(requests.count)")
        }
    }

    @Test func recordsAndPagesAreBounded() async throws {
        let big = ["id": "u1", "notes": String(repeating: "x", count: 5000)]
        let folder = try Self.recording(
            [
                ["path": "/users", "query": ["v": "big"], "body_file": "big.json"],
                ["path": "/users", "query": ["v": "endless", "page": "1"], "body_file": "endless.json"],
                ["path": "/users", "query": ["v": "endless", "page": "2"], "body_file": "endless.json"],
                ["path": "/users", "query": ["v": "endless", "page": "3"], "body_file": "endless.json"],
            ],
            pages: [
                "big.json": ["data": [big]],
                "endless.json": ["data": Self.people(1...1)],
            ])
        try await withRecordedAPI(folder) { api in
            await Self.expectFailure(
                Self.settings(api.base) {
                    $0.url = URL(string: api.base + "/users?v=big")!
                    $0.maxRecordBytes = 1000
                }, "page 1, record 1 is", "source.max_record_bytes (1000)")
            await Self.expectFailure(
                Self.settings(api.base) {
                    $0.url = URL(string: api.base + "/users?v=endless")!
                    $0.maxPages = 2
                    $0.pagination.kind = .page
                    $0.pagination.parameter = "page"
                    $0.pagination.start = 1
                }, "more than 2 pages")
        }
    }

    @Test func aServerThatIgnoresThePagingParametersFailsTheRead() async throws {
        let folder = try Self.recording(
            [["path": "/users", "body_file": "1.json"]], pages: ["1.json": ["data": Self.people(1...2)]])
        try await withRecordedAPI(folder) { api in
            await Self.expectFailure(
                Self.settings(api.base) {
                    $0.pagination.kind = .offset
                    $0.pagination.parameter = "offset"
                    $0.pagination.sizeParameter = "limit"
                    $0.pagination.pageSize = 2
                }, "page 2, record 1", "id = u1, as a record of page 1 had")
        }
    }

    @Test func credentialsNeverAppearInErrors() async throws {
        let folder = try Self.recording(
            [["path": "/users", "status": 401, "body_file": "denied.json"]],
            pages: ["denied.json": ["error": "invalid_token", "error_description": "The token expired"]])
        try await withRecordedAPI(folder) { api in
            let secret = "Very-Secret-Key-42"
            await Self.expectFailure(
                Self.settings(api.base) {
                    $0.authentication = .apiKey(.init(header: nil, query: "api_key", prefix: "", key: Secret(secret)))
                }, "answered 401: The token expired", "check source.auth")
            do {
                _ = try await Self.read(
                    Self.settings(api.base) {
                        $0.authentication = .apiKey(
                            .init(header: nil, query: "api_key", prefix: "", key: Secret(secret)))
                    })
            } catch {
                #expect(!"\(error)".contains(secret) && !String(reflecting: error).contains(secret))
            }
        }
    }

    @Test func mutualTLSShowsTheClientCertificate() async throws {
        let certificates = try await TestCertificates()
        let client = try await certificates.clientCertificate()
        let folder = try Self.recording(
            [["path": "/users", "body_file": "1.json"]], pages: ["1.json": ["data": Self.people(1...2)]])
        try await withRecordedAPI(
            folder, tls: (certificates.serverCertificate, certificates.serverKey, certificates.ca)
        ) { api in
            let base = api.base.replacingOccurrences(of: "127.0.0.1", with: "localhost")
            let withCertificate = Self.settings(base) {
                $0.caFile = certificates.ca
                $0.clientCertificateFile = client.certificate
                $0.clientKey = Secret(try! String(contentsOfFile: client.key, encoding: .utf8))
            }
            let records = try await Self.read(withCertificate)
            #expect(records.count == 2)
            await Self.expectFailure(
                Self.settings(base) { $0.caFile = certificates.ca }, "asks for a client certificate")
            await Self.expectFailure(Self.settings(base), "not trusted")
        }
    }

    @Test func oauthTokensAreFetchedAgainBeforeTheyExpireAndAfterA401() async throws {
        let token: [String: Any] = [
            "path": "/token", "method": "POST",
            "form": ["grant_type": "client_credentials", "client_id": "c1", "client_secret": "s1", "scope": "read"],
        ]
        // The first token is refused (revoked); the later ones last 2 seconds, less than three answers.
        var routes: [[String: Any]] = [
            token.merging([
                "responses": [
                    ["body": ["access_token": "t1", "token_type": "Bearer", "expires_in": 3600]],
                    ["body": ["access_token": "t2", "token_type": "bearer", "expires_in": 2]],
                    ["body": ["access_token": "t3", "token_type": "Bearer", "expires_in": "2"]],
                ]
            ]) { $1 }
        ]
        for page in 1...3 {
            for accepted in ["t2", "t3"] {
                routes.append([
                    "path": "/users", "query": ["page": "\(page)"], "headers": ["Authorization": "Bearer \(accepted)"],
                    "body_file": "\(page).json",
                ])
            }
        }
        let folder = try Self.recording(
            routes,
            pages: [
                "1.json": ["data": Self.people(1...1)], "2.json": ["data": Self.people(2...2)], "3.json": ["data": []],
            ])
        try await withRecordedAPI(folder, latency: 1.0) { api in
            let records = try await Self.read(
                Self.settings(api.base) {
                    $0.authentication = .oauth2(
                        .init(
                            tokenURL: URL(string: api.base + "/token")!, clientID: "c1", clientSecret: Secret("s1"),
                            scopes: ["read"], basicClientAuth: true, parameters: []))
                    $0.pagination.kind = .page
                    $0.pagination.parameter = "page"
                    $0.pagination.start = 1
                })
            #expect(records.map(\.id) == ["u1", "u2"])
            let statuses = api.requests().map { "\($0["path"]!) \($0["status"]!)" }
            #expect(
                Array(statuses.prefix(4)) == ["/token 200", "/users 401", "/token 200", "/users 200"], "\(statuses)")
            #expect(
                statuses.filter { $0 == "/token 200" }.count >= 3, "a token expiring mid-read is renewed: \(statuses)")
            #expect(
                statuses.filter { $0 == "/users 401" }.count == 1, "renewed before it expires, not after: \(statuses)")
        }
    }

    @Test func jsonPathsFindKeysThatHoldDots() {
        let page: [String: Any] = ["@odata.nextLink": "n", "_meta": ["links": ["next": ["href": "h"]]], "a": NSNull()]
        #expect(JSONPath("@odata.nextLink").value(in: page) as? String == "n")
        #expect(JSONPath("_meta.links.next.href").value(in: page) as? String == "h")
        #expect(JSONPath("_meta.links.prev.href").value(in: page) == nil)
        #expect(JSONPath("a").value(in: page) is NSNull)
        #expect(PageWalker.nextLink(#"<https://x/1>; rel="prev", <https://x/3>; rel="next last""#) == "https://x/3")
        #expect(PageWalker.nextLink("<https://x/1>; rel=prev") == nil)
    }
}
