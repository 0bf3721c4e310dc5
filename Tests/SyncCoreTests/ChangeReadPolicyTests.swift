import ConnectorCore
import Foundation
import Testing

@testable import SyncCore

/// When a job with a change feed reads only the changes: every reason for a full read, from the
/// job's previous run alone (the servers' own reasons are tested against the DC).
@Suite struct ChangeReadPolicyTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let position = ChangeFeedPosition(feed: "dirsync", server: "CN=NTDS Settings,CN=DC1", cookie: "AAAA")

    var policy: ChangeReadPolicy { ChangeReadPolicy(settingsDigest: "digest", version: "1.0") }

    /// A finished sync that read everything an hour ago and stored `position`.
    func previous(_ change: (inout RunRecord) -> Void = { _ in }) -> RunRecord {
        var run = RunRecord(id: "r1", command: .sync, startedAt: now.addingTimeInterval(-3600), host: "h")
        run.status = "completed"
        var read = SourceRead(kind: .full, reason: "first run", entries: 10)
        read.position = position
        read.settingsDigest = "digest"
        read.version = "1.0"
        read.fullReadAt = now.addingTimeInterval(-3600)
        read.reread = ["a"]
        run.read = read
        change(&run)
        return run
    }

    func reason(_ decision: ChangeReadPolicy.Decision) -> String {
        if case .full(let reason) = decision { return reason }
        return "changes"
    }

    @Test func aFinishedRunWithAPositionReadsChangesAndWhoToLookAtAgain() {
        #expect(
            policy.decide(feed: "dirsync", previous: previous(), now: now) == .changes(since: position, reread: ["a"]))
    }

    @Test func everyDoubtIsAFullRead() {
        var forced = policy
        forced.forceFull = true
        #expect(reason(forced.decide(feed: "dirsync", previous: previous(), now: now)).contains("--full-read"))
        #expect(reason(policy.decide(feed: "dirsync", previous: nil, now: now)).contains("first run"))
        let cases: [(String, (inout RunRecord) -> Void)] = [
            ("did not finish (interrupted)", { $0.status = "interrupted" }),
            ("did not finish (failed)", { $0.status = "failed" }),
            ("rejected", { $0.status = "rejected" }),
            ("`baseline`", { $0.command = .baseline }),
            ("no change feed position", { $0.read?.position = nil }),
            ("no change feed position", { $0.read = nil }),
            ("feed changed", { $0.read?.position?.feed = "syncrepl" }),
            ("settings changed", { $0.read?.settingsDigest = "other" }),
            ("program changed (0.9 → 1.0)", { $0.read?.version = "0.9" }),
            ("full_every", { $0.read?.fullReadAt = now.addingTimeInterval(-25 * 3600) }),
            ("full_every", { $0.read?.fullReadAt = nil }),
        ]
        for (expected, change) in cases {
            let why = reason(policy.decide(feed: "dirsync", previous: previous(change), now: now))
            #expect(why.contains(expected), "\(expected): \(why)")
        }
    }

    @Test func aReadIsKeptWithItsRunAndAnUnreadableOneIsNone() {
        let run = previous()
        #expect(RunRecord.read(fromJSON: run.readJSON) == run.read)
        #expect(RunRecord.read(fromJSON: "{\"kind\":\"sideways\"}") == nil)
        #expect(RunRecord.read(fromJSON: nil) == nil)
    }

    @Test func theDigestSeesEveryChangeToTheNodesButNotWhereTheyAre() {
        func node(_ value: ConfigNode.Value, line: Int = 1) -> ConfigNode {
            ConfigNode(value, location: ConfigLocation(file: "job.yml", line: line, column: 1), path: "")
        }
        func source(_ pairs: [(String, String)], line: Int = 1) -> ConfigNode {
            node(.mapping(pairs.map { (key: $0.0, node: node(.scalar($0.1), line: line)) }), line: line)
        }
        let base = ChangeReadPolicy.digest(of: [source([("filter", "(a=1)")]), nil])
        #expect(base == ChangeReadPolicy.digest(of: [source([("filter", "(a=1)")], line: 9), nil]), "lines move")
        #expect(base == ChangeReadPolicy.digest(of: [source([("filter", "(a=1)")]), node(.null)]), "null is absent")
        for other in [
            [source([("filter", "(a=2)")]), nil], [source([("filte", "r(a=1)")]), nil],
            [source([("filter", "(a=1)"), ("scope", "one")]), nil], [nil, source([("filter", "(a=1)")])],
        ] {
            #expect(ChangeReadPolicy.digest(of: other) != base)
        }
    }
}
