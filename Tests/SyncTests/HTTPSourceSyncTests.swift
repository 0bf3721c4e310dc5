import ComplianceSimulator
import Foundation
import TestSupport
import Testing

/// The ready job files of examples/http, each run unchanged but for where the API is, against a
/// local server answering with pages recorded as the vendor documents them (Tests/Fixtures/http):
/// four of five people created (the fifth inactive), and a second plan with nothing to do.
@Suite struct HTTPSourceSyncTests {
    static let secret = "http-Job-Secret-1"

    @Test func workdayReport() async throws {
        try await syncExample("workday", env: ["WORKDAY_TENANT": "acme", "WORKDAY_PASSWORD": "wd-Secret-1"])
    }

    /// `validate` prints the first record as the mapping names its attributes, the SSN masked; no
    /// output, and nothing the runs leave, holds an SSN or the password.
    @Test func validateShowsTheFirstRecordAndNoSSN() async throws {
        let env = ["WORKDAY_TENANT": "acme", "WORKDAY_PASSWORD": "wd-Secret-1"]
        var outputs = ""
        try await syncExample(
            "workday", env: env,
            then: { example, environment in
                let validate = try await runCLI(
                    ["validate", "--config", example.path("workday.yml")], environment: environment)
                #expect(validate.status == 0, "\(validate.all)")
                #expect(validate.stdout.contains("first record: id 1001, page 1, record 1 of http://127.0.0.1:"))
                #expect(validate.stdout.contains("    Legal_First_Name: Ada\n"), "\(validate.stdout)")
                #expect(validate.stdout.contains("    National_ID: (masked: sensitive)"), "\(validate.stdout)")
                outputs += validate.all
                let state = example.folder.appendingPathComponent(".state")
                for name in try FileManager.default.contentsOfDirectory(atPath: state.path) {
                    outputs += String(decoding: try Data(contentsOf: state.appendingPathComponent(name)), as: UTF8.self)
                }
            }, outputs: { outputs += $0 })
        #expect(!outputs.contains("219-09-999") && !outputs.contains("21909999") && !outputs.contains("wd-Secret-1"))
    }

    @Test func bambooHRCustomReportWaitsOutA503() async throws {
        let requests = try await syncExample(
            "bamboohr", env: ["BAMBOOHR_COMPANY": "acme", "BAMBOOHR_API_KEY": "bamboo-Key-1"])
        #expect(requests.first?["status"] as? Int == 503, "the first answer was the throttle: \(requests)")
    }

    @Test func hiBobSearchByCursorWaitsOutA429() async throws {
        let requests = try await syncExample(
            "hibob", env: ["HIBOB_SERVICE_USER_ID": "SERVICE-1234", "HIBOB_SERVICE_USER_TOKEN": "bob-Token-1"],
            page: ("limit", 2))
        #expect(requests.map { $0["status"] as? Int } == [429, 200, 200, 200] + [200, 200, 200], "\(requests)")
    }

    @Test func personioWithClientCredentials() async throws {
        let requests = try await syncExample(
            "personio", env: ["PERSONIO_CLIENT_ID": "papi-client-1", "PERSONIO_CLIENT_SECRET": "papi-Secret-1"],
            page: ("limit", 2))
        let tokens = requests.filter { $0["path"] as? String == "/v2/auth/token" }
        #expect(tokens.count == 2, "one token a run, for the sync and the plan: \(requests)")
    }

    @Test func microsoftGraphUsers() async throws {
        try await syncExample(
            "microsoft-graph",
            env: [
                "ENTRA_TENANT_ID": "11111111-2222-3333-4444-555555555555",
                "ENTRA_CLIENT_ID": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "ENTRA_CLIENT_SECRET": "graph-Secret-1",
            ], page: ("$top", 2))
    }

    @Test func googleWorkspaceUsers() async throws {
        let token = FileManager.default.temporaryDirectory.appendingPathComponent("google-token-\(UUID())")
        try "ya29.google-access-1\n".write(to: token, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: token) }
        try await syncExample(
            "google-workspace", env: [:], page: ("maxResults", 2),
            change: { source in source["auth"] = ["type": "bearer", "token_file": token.path] })
    }

    @Test func scimUsersFromRecordedPages() async throws {
        try await syncExample("scim", env: ["SCIM_TOKEN": "scim-Token-1"], page: ("count", 2))
    }

    /// Syncs examples/http/NAME.yml against its recorded API, then plans again.
    /// - Parameters:
    ///   - page: a smaller page size for the recorded pages (the example's own is the vendor's largest).
    ///   - change: any other change to the source section (beyond where the API is).
    ///   - then: more to do with the example and its environment after the sync and the plan.
    ///   - outputs: given what the sync and the plan printed.
    /// - Returns: the requests the recorded API answered.
    @discardableResult
    func syncExample(
        _ name: String, env: [String: String], page: (String, Int)? = nil,
        change: (inout [String: Any]) -> Void = { _ in },
        then: (ExampleCopy, [String: String]) async throws -> Void = { _, _ in },
        outputs: (String) -> Void = { _ in }
    ) async throws -> [[String: Any]] {
        try await withSimulator(.forClient("http-job", secret: Self.secret)) { simulator in
            try await withRecordedAPI(name) { api in
                let example = try ExampleCopy("http")
                var scimURL: [String: String] = [:]
                try example.editJob("\(name).yml") { job in
                    job["api"] = [
                        "base_url": simulator.baseURL, "client_id": "http-job", "client_secret_env": "HTTP_JOB_SECRET",
                    ]
                    var source = job.section("source")
                    let url = source["url"] as! String
                    if url.hasPrefix("${SCIM_URL}") {
                        scimURL["SCIM_URL"] = api.base + "/scim/v2"
                    } else {
                        source["url"] = Self.moved(url, to: api.base)
                    }
                    var auth = source.section("auth")
                    if let tokenURL = auth["token_url"] as? String {
                        auth["token_url"] = Self.moved(tokenURL, to: api.base)
                    }
                    source["auth"] = auth
                    if let (parameter, size) = page {
                        var pagination = source.section("pagination")
                        pagination["page_size"] = size
                        #expect(pagination["size_param"] as? String ?? "count" == parameter)
                        source["pagination"] = pagination
                    }
                    change(&source)
                    job["source"] = source
                }
                let path = example.path("\(name).yml")
                let environment = env.merging(scimURL) { $1 }.merging(["HTTP_JOB_SECRET": Self.secret]) { $1 }
                let sync = try await runCLI(["sync", "--config", path], environment: environment)
                #expect(sync.status == 0, "\(sync.all)")
                #expect(sync.stdout.contains("created 4, updated 0, terminated 0"), "\(sync.all)")
                let people = await simulator.simulator.people()
                #expect(Set(people.compactMap { $0["email"] }).contains("ada.lovelace@example.com"), "\(people)")
                #expect(!people.contains { $0["email"] == "edsger.dijkstra@example.com" }, "inactive: not created")
                let (again, plan) = try await planSummary(path, environment: environment)
                #expect(again?["creates"] == 0 && again?["updates"] == 0 && again?["removals"] == 0, "\(again ?? [:])")
                outputs(sync.all + plan.all)
                try await then(example, environment)
                return api.requests()
            }
        }
    }

    /// `https://vendor.example.com/path` as `BASE/path`.
    static func moved(_ url: String, to base: String) -> String {
        guard let slash = url.range(of: "://").flatMap({ url[$0.upperBound...].firstIndex(of: "/") }) else {
            return base
        }
        return base + url[slash...]
    }
}

/// examples/http/scim.yml, unchanged but for the API's address, against a SCIM server no one here
/// wrote (`scim2-server` from PyPI, started by scripts/scim-test-server), with users loaded through
/// its own API: three pages of people, then a deactivation and a deletion seen as leavers.
@Suite(.enabled(if: TestServers.scim, Comment(rawValue: TestServers.why))) struct SCIMServerSyncTests {
    @Test func theSCIMJobReadsARealSCIMServer() async throws {
        let base = try TestServers.setting("SCIM_TEST_URL") + "/tenant-\(UUID().uuidString.prefix(8))"
        let token = try TestServers.setting("SCIM_TEST_TOKEN")
        let ids = try await Self.scim(
            base, token,
            """
            import json, sys, urllib.request
            ids = []
            for n in range(1, 251):
                user = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": f"  Person{n}@Example.COM ",
                        "externalId": f"E{n:04d}", "name": {"givenName": f"Given{n}", "familyName": f"Family{n}"},
                        "active": n % 25 != 0, "emails": [{"value": f"person{n}@example.com", "primary": True}]}
                if n % 2: user["title"] = "Engineer"
                ids.append(call("POST", "/Users", user)["id"])
            print(json.dumps(ids))
            """)
        try await withSimulator(.forClient("scim-job", secret: HTTPSourceSyncTests.secret)) { simulator in
            let example = try ExampleCopy("http")
            try example.editJob("scim.yml") { job in
                job["api"] = [
                    "base_url": simulator.baseURL, "client_id": "scim-job", "client_secret_env": "JOB_SECRET",
                ]
                job["removals"] = ["action": "terminate", "max_percent": 5]
            }
            let path = example.path("scim.yml")
            let env = ["SCIM_URL": base, "SCIM_TOKEN": token, "JOB_SECRET": HTTPSourceSyncTests.secret]
            let sync = try await runCLI(["sync", "--config", path], environment: env)
            #expect(sync.status == 0, "\(sync.all)")
            #expect(sync.stdout.contains("created 240, updated 0, terminated 0"), "\(sync.all)")
            let people = await simulator.simulator.people()
            #expect(people.contains { $0["email"] == "person1@example.com" && $0["employee_id"] == "E0001" })

            let ids = try JSONSerialization.jsonObject(with: Data(ids.utf8)) as! [String]
            _ = try await Self.scim(
                base, token,
                """
                call("PATCH", "/Users/\(ids[0])", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                     "Operations": [{"op": "replace", "path": "active", "value": False}]})
                call("DELETE", "/Users/\(ids[1])", None)
                """)
            let leavers = try await runCLI(["sync", "--config", path], environment: env)
            #expect(leavers.status == 0, "\(leavers.all)")
            #expect(leavers.stdout.contains("created 0, updated 0, terminated 2"), "\(leavers.all)")
        }
    }

    /// Runs Python against the SCIM server: `call(method, path, body)` answers the parsed JSON.
    /// - Returns: what the script printed.
    static func scim(_ base: String, _ token: String, _ script: String) async throws -> String {
        let prelude = """
            import json, urllib.request
            def call(method, path, body):
                request = urllib.request.Request(\"\(base)\" + path, method=method,
                    data=None if body is None else json.dumps(body).encode(),
                    headers={"Authorization": "Bearer \(token)", "Content-Type": "application/scim+json"})
                with urllib.request.urlopen(request) as answer:
                    text = answer.read()
                    return json.loads(text) if text else None

            """
        let result = try await runProcess("/usr/bin/python3", ["-c", prelude + script])
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout
    }
}

/// The exec connector skeleton of docs/writing-a-connector.md, run as printed there against an API
/// that pages and is busy once: it reads every page and the job plans every person.
@Suite struct ExecSkeletonTests {
    @Test func theDocumentedSkeletonReadsEveryPage() async throws {
        let document = try String(
            contentsOf: repositoryRoot.appendingPathComponent("docs/writing-a-connector.md"), encoding: .utf8)
        let section = try #require(document.range(of: "### A skeleton: paging an API"))
        let after = document[section.upperBound...]
        let start = try #require(after.range(of: "```python\n"))
        let end = try #require(after[start.upperBound...].range(of: "```"))
        let script = String(after[start.upperBound..<end.lowerBound])
        try await withRecordedAPI("exec-skeleton") { api in
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("skeleton-\(UUID())")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            try script.write(to: folder.appendingPathComponent("example_hr.py"), atomically: true, encoding: .utf8)
            let job = """
                source:
                  type: exec
                  command: [python3, example_hr.py]
                  env: { HR_API_URL: \(api.base) }
                  pass_env: [HR_API_TOKEN]
                  require_end: true
                mapping:
                  first_name: first_name
                  last_name: last_name
                  email: { attribute: email, transform: [trim, lowercase] }
                  employee_id: $id
                snapshot:
                  path: \(folder.path)/job.snapshot

                """
            try job.write(to: folder.appendingPathComponent("job.yml"), atomically: true, encoding: .utf8)
            let (summary, plan) = try await planSummary(
                folder.appendingPathComponent("job.yml").path,
                environment: ["HR_API_TOKEN": "skeleton-Token-1", "COMPLIANCE_CLIENT_SECRET": "unused"])
            #expect(summary?["creates"] == 3, "\(plan.all)")
            #expect(plan.stderr.contains("503, trying again"), "the busy answer is logged: \(plan.stderr)")
        }
    }
}
