import ComplianceSimulator
import Foundation
import HTTPClientSupport
import SyncCore
import TestSupport
import Testing

@testable import ComplianceAPI

/// Odd or hostile answers from the network, played by the simulator over real HTTP.
@Suite struct HostileAnswerTests {
    @Test func aRedirectedTokenRequestIsNeverFollowed() async throws {
        try await withHarness({ $0.tokenRedirect = "http://127.0.0.1:9/steal" }) { harness in
            let result = try await harness.run("sync")
            #expect(result.status == 1, "\(result.all)")
            #expect(result.stderr.contains("answered 307, redirecting to http://127.0.0.1:9/steal"), "\(result.all)")
            #expect(result.stderr.contains("never followed"))
            #expect(!result.all.contains(SyncHarness.secret))
            #expect(await harness.stats()["redirects"] == 1, "asked once, not followed, not retried")
        }
    }

    /// Any refusal of a refresh grant, not only `invalid_grant`, falls back to the client credentials.
    @Test(arguments: [400, 401])
    func aRefusedRefreshFallsBackToTheClientCredentials(_ status: Int) async throws {
        try await withHarness(
            {
                // Shorter than the client's refresh margin (at least 5 s), so every call refreshes; as long
                // as that allows, since a loaded machine (Chromium rendering beside this test) has taken
                // over 3 s between the token endpoint's answer and the request that carries the token.
                $0.tokenLifetime = 4.9
                $0.latency = 0.05
                $0.refuseRefreshWith = status
            }, api: ["batch_size": 3]
        ) { harness in
            let result = try await harness.run("sync")
            #expect(result.status == 0, "\(result.all)")
            #expect(await harness.stats()["refused_refreshes"] ?? 0 >= 1, "the refresh was tried and refused")
            #expect(await harness.actualPeople().active == (try harness.expectedPeople()))
        }
    }

    @Test(arguments: ["Sun, 06 Nov 1994 08:49:37 GMT", "inf", "nan", "-5", "soon"])
    func retryAfterAsADateOrNonsenseStillConverges(_ text: String) async throws {
        try await withHarness(
            {
                $0.rateLimitEvery = 3
                $0.retryAfterText = text
            }, api: ["batch_size": 10, "max_attempts": 8, "max_backoff": "1s"]
        ) { harness in
            let result = try await harness.run("sync")
            #expect(result.status == 0, "\(result.all)")
            #expect(await harness.actualPeople().active == (try harness.expectedPeople()))
        }
    }

    @Test func aRetryAfterLongerThanTheCapFailsNamingTheWait() async throws {
        try await withHarness(
            {
                $0.rateLimitEvery = 1
                $0.retryAfterText = "86400"
            }, api: ["max_retry_after": "10m"]
        ) { harness in
            let started = Date()
            let result = try await harness.run("sync")
            #expect(result.status == 1, "\(result.all)")
            #expect(
                result.stderr.contains("asked to wait 86400 seconds (Retry-After), longer than api.max_retry_after"),
                "\(result.all)")
            // Failed without waiting: far less than the 10-minute cap, even on a saturated machine.
            #expect(Date().timeIntervalSince(started) < 120)
        }
    }

    @Test func rowErrorsThatCannotBeMappedCommitNothing() async throws {
        try await withHarness({ $0.unmappableErrorsFirst = 2 }, api: ["batch_size": 10]) { harness in
            let first = try await harness.run("sync")
            #expect(first.status == 4, "\(first.all)")
            #expect(first.stdout.contains("not confirmed: its error entry 2 has no whole-number row"), "\(first.all)")
            // Imports of 10, 10 and 8 rows in flight: the first two answers to come are unmappable.
            let created = first.stdout.contains("created 8,") ? 8 : first.stdout.contains("created 10,") ? 10 : nil
            #expect(created != nil, "only the import whose answer was whole counts: \(first.all)")
            let second = try await harness.run("sync")
            #expect(second.status == 0, "\(second.all)")
            #expect(
                second.stdout.contains("updated \(28 - (created ?? 0)),"),
                "the unconfirmed are sent again: \(second.all)")
            #expect(await harness.actualPeople().active == (try harness.expectedPeople()))
            let third = try await harness.run("sync")
            #expect(third.stdout.contains("nothing to do, 0 imports sent"), "\(third.all)")
        }
    }
}

@Suite struct AnswerReadingTests {
    @Test func retryAfterInEachFormAndNonsense() {
        let now = Date(timeIntervalSince1970: 784_111_777)  // Sun, 06 Nov 1994 08:49:37 GMT
        #expect(RetryAfter.seconds("120", now: now) == 120)
        #expect(RetryAfter.seconds("Sun, 06 Nov 1994 08:50:37 GMT", now: now) == 60)
        #expect(RetryAfter.seconds("Sunday, 06-Nov-94 08:50:37 GMT", now: now) == 60)
        #expect(RetryAfter.seconds("Sun Nov 6 08:50:37 1994", now: now) == 60)
        #expect(RetryAfter.seconds("Sun, 06 Nov 1994 08:00:00 GMT", now: now) == 0, "a date in the past waits nothing")
        #expect(RetryAfter.seconds("99999999999999999999", now: now) == .greatestFiniteMagnitude)
        for nonsense in ["inf", "nan", "-5", "1e9", "", "soon", "12.5", nil] {
            #expect(RetryAfter.seconds(nonsense, now: now) == nil, "\(nonsense ?? "nil")")
        }
    }

    @Test func smallRepliesDecodeIntoTypes() {
        func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
        let token = WireReply.decode(
            WireReply.Token.self, from: bytes(#"{"access_token": "a", "token_type": "Bearer", "expires_in": 3600}"#))
        #expect(token?.accessToken == "a" && token?.expiresIn == 3600 && token?.refreshToken == nil)
        #expect(WireReply.decode(WireReply.Token.self, from: bytes(#"{"access_token": "a"}"#)) == nil)
        #expect(WireReply.decode(WireReply.Token.self, from: bytes(#"{"access_token": 7, "expires_in": 1}"#)) == nil)
        #expect(
            WireReply.decode(WireReply.Submitted.self, from: bytes(#"{"id": "imp_8f2c", "status": "queued"}"#))?.id
                == "imp_8f2c")
        #expect(WireReply.decode(WireReply.Submitted.self, from: bytes(#"{"id": 42}"#))?.id == "42")
        #expect(WireReply.decode(WireReply.Submitted.self, from: bytes(#"{"id": null}"#)) == nil)
        #expect(
            WireReply.decode(WireReply.Problem.self, from: bytes(#"{"error": "invalid_grant"}"#))?.error
                == "invalid_grant")
        #expect(WireReply.decode(WireReply.Problem.self, from: bytes("<html>502</html>")) == nil)
    }

    @Test func aCompletedAnswerIsAcceptedOnlyWhenFullyUnderstood() {
        func outcome(_ json: String) -> ImportOutcome {
            ComplianceAPIClient.completedOutcome(
                try! JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any])
        }
        #expect(
            outcome(#"{"row_count": 2, "errors": [{"row": 1, "field": "email", "message": "bad"}]}"#)
                == .completed(errors: [ImportRowError(row: 1, field: "email", message: "bad")], rowCount: 2))
        #expect(
            outcome(#"{"row_count": 2, "created": 1, "updated": 1, "unchanged": 0}"#)
                == .completed(errors: [], rowCount: 2))
        for garbled in [
            #"{"row_count": 2}"#, #"{"row_count": 2, "errors": {"row": 1}}"#, #"{"errors": [{"row": "1"}]}"#,
            #"{"errors": [{"row": 1.5}]}"#, #"{"errors": [{"message": "no row"}]}"#, #"{"errors": ["text"]}"#,
            #"{"row_count": "2", "errors": []}"#,
        ] {
            guard case .unconfirmed = outcome(garbled) else {
                Issue.record("\(garbled) was read as \(outcome(garbled))")
                continue
            }
        }
    }
}
