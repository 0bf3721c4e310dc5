import ConnectorCore
import Foundation
import Testing

@testable import SyncCore

/// Seeded random walks of source changes under random API faults and runs killed
/// between any two of their transactions: once the faults stop, clean runs must
/// leave the account holding exactly the source.
/// `scripts/convergence` runs many more seeds (CONVERGENCE_SEEDS=first-last).
@Suite struct ConvergenceTests {
    static var seeds: [UInt64] {
        let range = ProcessInfo.processInfo.environment["CONVERGENCE_SEEDS"]?.split(separator: "-").compactMap {
            UInt64($0)
        }
        guard let range, range.count == 2, range[0] <= range[1] else { return Array(1...12) }
        return Array(range[0]...range[1])
    }

    @Test(arguments: seeds)
    func aWalkConverges(seed: UInt64) async throws {
        var walk = Walk(seed: seed)
        let engine = Engine()
        let faults = FaultDice(seed: seed &* 7919)
        engine.account.fault = { faults.roll($0) }
        var dice = SplitMix(seed: seed &* 104_729)
        for _ in 0..<14 {
            walk.step()
            // One run in four is killed between two of its transactions.
            engine.store.die(afterWrites: dice.below(4) == 0 ? dice.below(12) : nil)
            await engine.sync(walk.records)
        }
        engine.store.die(afterWrites: nil)
        faults.stop()
        var quiet = false
        for _ in 0..<3 where !quiet {
            let report = try #require(await engine.sync(walk.records).report, "seed \(seed): a clean run failed")
            quiet = report.importsSent == 0 && report.rejected.isEmpty
        }
        #expect(quiet, "seed \(seed): clean runs keep sending")
        #expect(try await engine.plan(walk.records).isEmpty, "seed \(seed): the next plan is not empty")
        let live = engine.account.live, terminated = engine.account.terminated
        for human in walk.humans where human.present {
            let person = live[human.identity]
            #expect(
                person?["job_title"] == human.title, "seed \(seed): \(human.identity) should be live as \(human.title)")
            #expect(person?["email"] == human.email, "seed \(seed): \(human.identity)'s email")
        }
        let known = Dictionary(walk.humans.map { ($0.identity, $0) }, uniquingKeysWith: { first, _ in first })
        for identity in live.keys {
            #expect(known[identity]?.present == true, "seed \(seed): \(identity) is live but not in the source")
        }
        for identity in terminated.keys {
            #expect(known[identity]?.present == false, "seed \(seed): \(identity) is terminated but in the source")
        }
    }
}

/// One person through the walk.
struct Human {
    var sourceID: String
    var employeeID: String?
    var email: String
    var title: String
    var present = true
    /// How the account knows them: the employee id, else the email (never changed for those without one).
    var identity: String { employeeID ?? email }
}

/// A seeded sequence of real-world changes to a source.
struct Walk {
    var random: SplitMix
    var humans: [Human] = []
    private var serial = 0

    init(seed: UInt64) {
        random = SplitMix(seed: seed)
        for _ in 0..<6 { add() }
    }

    var records: [SourceRecord] {
        humans.filter(\.present).map { staff($0.sourceID, employeeID: $0.employeeID, email: $0.email, title: $0.title) }
    }

    mutating func step() {
        let present = humans.indices.filter { humans[$0].present }
        let gone = humans.indices.filter { !humans[$0].present }
        switch random.below(7) {
        case 0: add()
        case 1 where present.count > 1: humans[present[random.below(present.count)]].present = false
        case 2:
            // Re-keyed: a recreated account or a rebuilt directory.
            humans[present[random.below(present.count)]].sourceID = fresh("id")
        case 3:
            let i = present[random.below(present.count)]
            if humans[i].employeeID != nil { humans[i].email = fresh("mail") + "@example.com" }
        case 4 where !gone.isEmpty:
            // Back, under the same id or a new one.
            let i = gone[random.below(gone.count)]
            humans[i].present = true
            if random.below(2) == 0 { humans[i].sourceID = fresh("id") }
        default:
            humans[present[random.below(present.count)]].title =
                ["Engineer", "Manager", "Analyst", "Officer"][random.below(4)]
        }
    }

    private mutating func add() {
        let hasEmployeeID = random.below(5) > 0
        humans.append(
            Human(
                sourceID: fresh("id"), employeeID: hasEmployeeID ? fresh("E") : nil,
                email: fresh("mail") + "@example.com", title: "Engineer"))
    }

    private mutating func fresh(_ prefix: String) -> String {
        serial += 1
        return "\(prefix)\(serial)"
    }
}

/// Picks faults for the scripted account from a seed, until stopped.
///
/// Safety: its mutable state is read and written under `lock` only.
final class FaultDice: @unchecked Sendable {
    private let lock = NSLock()
    private var random: SplitMix
    private var stopped = false

    init(seed: UInt64) { random = SplitMix(seed: seed) }

    func stop() { lock.withLock { stopped = true } }

    func roll(_ call: ScriptedAccount.Call) -> ScriptedAccount.Fault? {
        lock.withLock {
            guard !stopped, random.below(4) == 0 else { return nil }
            switch call {
            case .submit: return [.loseSubmitAnswer, .unreachable, .refuse, .failImport, .tooLarge][random.below(5)]
            case .outcome: return [.loseOutcome, .strayRowError][random.below(2)]
            }
        }
    }
}

/// A small, seedable random number generator (SplitMix64), so a failing seed replays exactly.
struct SplitMix {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}
