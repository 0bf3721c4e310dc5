import ConnectorCore
import Foundation
import TestSupport
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
        var engine = Engine()
        engine.filter.exclude = [Condition(attribute: "status", test: .equals("inactive"))]
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
            let result = await engine.sync(walk.records)
            let report = try #require(result.report, "seed \(seed): a clean run failed: \(result)")
            quiet = report.importsSent == 0 && report.rejected.isEmpty
        }
        #expect(quiet, "seed \(seed): clean runs keep sending")
        #expect(try await engine.plan(walk.records).isEmpty, "seed \(seed): the next plan is not empty")
        let live = engine.account.live, terminated = engine.account.terminated
        for human in walk.humans where human.counts {
            // Held, and rightly: the account still gives their address to a leaver with another employee id.
            let held =
                live[human.identity] == nil && terminated[human.identity] == nil
                && terminated.contains { $0.key != human.identity && $0.value["email"] == human.email }
            if held { continue }
            let person = live[human.identity]
            #expect(
                person?["job_title"] == human.title, "seed \(seed): \(human.identity) should be live as \(human.title)")
            #expect(person?["email"] == human.email, "seed \(seed): \(human.identity)'s email")
        }
        let known = Dictionary(walk.humans.map { ($0.identity, $0) }, uniquingKeysWith: { first, _ in first })
        for identity in live.keys {
            #expect(known[identity]?.counts == true, "seed \(seed): \(identity) is live but not in the source")
        }
        for identity in terminated.keys {
            #expect(known[identity]?.counts == false, "seed \(seed): \(identity) is terminated but in the source")
            // A leaver keeps their own record: their employee id, under their own identity.
            #expect(
                terminated[identity]?["employee_id"] == known[identity]?.employeeID,
                "seed \(seed): \(identity)'s record was handed to someone else")
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
    /// Left out by the source's filter (`exclude: { attribute: status, equals: inactive }`), an
    /// attribute the mapping never reads.
    var inactive = false
    /// Left, their address given to a new hire: never back.
    var handedOver = false
    /// Whether the source's filtered records hold them.
    var counts: Bool { present && !inactive }
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
        humans.filter(\.present).map { human in
            staff(
                human.sourceID, employeeID: human.employeeID, email: human.email, title: human.title,
                status: human.inactive ? "inactive" : "active")
        }
    }

    mutating func step() {
        let present = humans.indices.filter { humans[$0].present }
        let gone = humans.indices.filter { !humans[$0].present && !humans[$0].handedOver }
        switch random.below(9) {
        case 7:
            // A leaver's address goes to a new hire with another employee id.
            guard humans.filter(\.counts).count > 1,
                let i = present.first(where: { humans[$0].employeeID != nil && humans[$0].counts })
            else { break }
            humans[i].present = false
            humans[i].handedOver = true
            humans.append(
                Human(sourceID: fresh("id"), employeeID: fresh("E"), email: humans[i].email, title: "Analyst"))
        case 8:
            // The filter's attribute flips: left out (never the last one counted), or back in.
            let i = present[random.below(present.count)]
            if humans[i].inactive || humans.filter(\.counts).count > 1 { humans[i].inactive.toggle() }
        case 0: add()
        case 1 where humans.filter(\.counts).count > 1: humans[present[random.below(present.count)]].present = false
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
            case .submit:
                return [.loseSubmitAnswer, .unreachable, .refuse, .failImport, .tooLarge, .refuseAfterApply][
                    random.below(6)]
            case .outcome: return [.loseOutcome, .strayRowError][random.below(2)]
            }
        }
    }
}
