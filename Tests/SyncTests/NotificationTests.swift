import ComplianceSimulator
import Foundation
import TestSupport
import Testing

/// `notify:` webhooks, posted to a local receiver over real HTTP.
@Suite struct NotificationTests {
    func notify(_ harness: SyncHarness, _ webhook: [String: Any]) throws {
        try harness.example.editJob("quickstart.yml") {
            $0["notify"] = [["url_env": "HOOK_URL"].merging(webhook) { $1 }]
        }
    }

    @Test func aFailedRunIsToldInTheDocumentedJSONWithoutSecrets() async throws {
        let receiver = try await WebhookReceiver()
        defer { receiver.stop() }
        try await withHarness { harness in
            try notify(harness, ["on": ["failure", "guard"]])
            let result = try await harness.run(
                "sync", environment: ["COMPLIANCE_CLIENT_SECRET": "wrong-Secret-1", "HOOK_URL": receiver.url])
            #expect(result.status == 1, "\(result.all)")
            let bodies = receiver.bodies
            #expect(bodies.count == 1, "\(receiver.rawBodies)")
            let body = try #require(bodies.first)
            #expect(body["format"] as? String == "compliance-sync.notification" && body["version"] as? Int == 1)
            #expect(body["job"] as? String == "quickstart")
            #expect(body["events"] as? [String] == ["failure"])
            #expect(body["status"] as? String == "failed" && body["exit_status"] as? Int == 1)
            #expect((body["host"] as? String)?.isEmpty == false)
            #expect((body["error"] as? [String: Any])?["message"] as? String != nil)
            for secret in try harness.ssns() + [SyncHarness.secret, "wrong-Secret-1"] {
                #expect(!receiver.rawBodies.contains(secret))
            }
            #expect(!result.all.contains("T0-secret-path-X9"), "the webhook's URL is a secret")
        }
    }

    @Test func removalsInSlackFormatAfterTheReceiverRecovers() async throws {
        let receiver = try await WebhookReceiver(failing: 2)
        defer { receiver.stop() }
        try await withHarness { harness in
            let environment = ["HOOK_URL": receiver.url]
            #expect(try await harness.run("sync", environment: environment).status == 0)
            try notify(harness, ["on": "removals", "format": "slack"])
            let csv = try harness.example.read("people.csv").split(separator: "\n")
            try harness.example.write("people.csv", csv.dropLast().joined(separator: "\n") + "\n")
            let result = try await harness.run("sync", environment: environment)
            #expect(result.status == 0, "\(result.all)")
            let text = try #require(receiver.bodies.first?["text"] as? String, "\(receiver.rawBodies)")
            #expect(text.contains("compliance-sync job *quickstart*"))
            #expect(text.contains("1 terminated"), "\(text)")
            #expect(receiver.bodies.count == 1, "two 503s, then delivered once")
        }
    }

    @Test func aWebhookThatCannotBeReachedNeverChangesTheOutcome() async throws {
        try await withHarness { harness in
            try notify(harness, ["on": ["removals", "invalid", "failure"]])
            let url = "http://127.0.0.1:\(try freePort())/hooks/T0-secret-path-X9"
            let first = try await harness.run("sync", environment: ["HOOK_URL": url])
            #expect(first.status == 0, "\(first.all)")
            let csv = try harness.example.read("people.csv").split(separator: "\n")
            try harness.example.write("people.csv", csv.dropLast().joined(separator: "\n") + "\n")
            let second = try await harness.run("sync", environment: ["HOOK_URL": url])
            #expect(second.status == 0, "\(second.all)")
            #expect(second.stderr.contains("could not notify webhook 1 (127.0.0.1)"), "\(second.stderr)")
            #expect(!second.all.contains("T0-secret-path-X9"))
        }
    }

    @Test func webhookSettingsAreChecked() async throws {
        try await withHarness { harness in
            try notify(harness, ["on": ["failure", "sometimes"]])
            let unknown = try await harness.run("validate", environment: ["HOOK_URL": "https://hooks.example.com/x"])
            #expect(unknown.status == 2 && unknown.stderr.contains("unknown event `sometimes`"), "\(unknown.all)")
            try notify(harness, [:])
            let plan = try await harness.run("plan")
            #expect(plan.status == 0, "plan never notifies, so it needs no webhook URL: \(plan.all)")
            let plain = try await harness.run("validate", environment: ["HOOK_URL": "http://hooks.example.com/x"])
            #expect(plain.status == 2 && plain.stderr.contains("is not https://"), "\(plain.all)")
            #expect(!plain.all.contains("hooks.example.com/x"))
        }
    }
}
