import ComplianceSimulator
import Foundation
import TestSupport
import Testing
import Yams

@testable import SyncCore

/// A simulator on a free loopback port and a copy of the quick start pointed at it.
///
/// Safety: every stored property is a `let` of a type that is itself safe to share (the running
/// simulator, an example folder removed in `deinit`).
final class SyncHarness: @unchecked Sendable {
    static let secret = "s3cr3t-Quickstart-Value"
    let simulator: RunningSimulator
    let example: ExampleCopy

    /// Starts a simulator and copies the quick start, its job file pointed at the simulator.
    /// - Parameters:
    ///   - configure: changes to the simulator's configuration (faults, timing).
    ///   - api: settings added to the job's `api:` section.
    ///   - removals: the job's `removals:` section, replacing the quick start's.
    ///   - snapshot: the job's `snapshot:` section, replacing the quick start's.
    init(
        _ configure: (inout SimulatorConfiguration) -> Void = { _ in },
        api: [String: Any] = [:], removals: [String: Any]? = nil, snapshot: [String: Any]? = nil
    ) async throws {
        var configuration = SimulatorConfiguration()
        configuration.port = 0
        configuration.clients = ["demo-client": Self.secret]
        configuration.processingTime = 0.02
        configure(&configuration)
        simulator = try await ComplianceSimulator(configuration: configuration).start()
        example = try ExampleCopy("quickstart")
        let baseURL = simulator.baseURL
        try example.editJob("quickstart.yml") { job in
            job["api"] = job.section("api").merging(api) { $1 }.merging(["base_url": baseURL]) { $1 }
            if let removals { job["removals"] = removals }
            if let snapshot { job["snapshot"] = snapshot }
        }
    }

    /// Runs `compliance-sync COMMAND --config quickstart.yml ARGS` with the secret in the environment.
    func run(_ command: String, _ arguments: [String] = [], environment: [String: String] = [:]) async throws
        -> ProcessResult
    {
        try await runCLI(
            [command, "--config", example.path("quickstart.yml")] + arguments,
            environment: ["COMPLIANCE_CLIENT_SECRET": Self.secret].merging(environment) { $1 })
    }

    /// Stops the simulator; the example folder goes with the harness.
    func stop() async { await simulator.stop() }

    func people() async -> [[String: String]] { await simulator.simulator.people() }

    func stats() async -> [String: Int] { await simulator.simulator.stats() }

    /// The people of the CSV as the API should hold them, by employee id.
    func expectedPeople() throws -> [String: [String: String]] {
        let lines = try example.read("people.csv").split(separator: "\n").map(String.init)
        let header = lines[0].split(separator: ",").map(String.init)
        var people: [String: [String: String]] = [:]
        for line in lines.dropFirst() {
            let cells = Self.cells(line)
            let row = Dictionary(uniqueKeysWithValues: zip(header, cells))
            var person = [
                "first_name": row["first_name"]!, "last_name": row["last_name"]!,
                "email": row["email"]!.lowercased().trimmingCharacters(in: .whitespaces),
                "employee_id": row["employee_number"]!, "job_title": row["title"]!, "ssn": row["ssn"]!,
            ]
            person = person.filter { !$0.value.isEmpty }
            people[row["employee_number"]!] = person
        }
        return people
    }

    /// The simulator's people by employee id, without `terminated_at`, and the terminated ones apart.
    func actualPeople() async -> (active: [String: [String: String]], terminated: [String: [String: String]]) {
        var active: [String: [String: String]] = [:], terminated: [String: [String: String]] = [:]
        for person in await people() {
            let id = person["employee_id"] ?? person["email"]!
            if person["terminated_at"] != nil { terminated[id] = person } else { active[id] = person }
        }
        return (active, terminated)
    }

    /// Splits a CSV line of the quick start (quoted fields, doubled quotes), as lookup tables are read.
    static func cells(_ line: String) -> [String] { LookupTable.cells(line) }

    /// Every file the run left (snapshot, key, report, WAL) as one blob, to search for secrets.
    func stateBytes() throws -> Data {
        let state = example.folder.appendingPathComponent(".state")
        var data = Data()
        for name in (try? FileManager.default.contentsOfDirectory(atPath: state.path)) ?? [] {
            data += (try? Data(contentsOf: state.appendingPathComponent(name))) ?? Data()
        }
        return data
    }

    /// Every SSN of the CSV, hyphenated and bare.
    func ssns() throws -> [String] {
        try expectedPeople().values.compactMap { $0["ssn"] }.flatMap {
            [$0, $0.replacingOccurrences(of: "-", with: "")]
        }
    }
}

/// Runs `body` with a ``SyncHarness`` (the arguments are its initialiser's) and stops the
/// harness's simulator when `body` returns or throws: nothing outlives the test.
func withHarness<Result>(
    _ configure: (inout SimulatorConfiguration) -> Void = { _ in },
    api: [String: Any] = [:], removals: [String: Any]? = nil, snapshot: [String: Any]? = nil,
    _ body: (SyncHarness) async throws -> Result
) async throws -> Result {
    let harness = try await SyncHarness(configure, api: api, removals: removals, snapshot: snapshot)
    return try await scoped(harness, stop: { await $0.stop() }, body)
}

/// Runs `body` with a simulator started from `configuration`, stopped when `body` returns or throws.
extension SimulatorConfiguration {
    /// A simulator on a free port for one job's client, answering imports at once.
    static func forClient(_ id: String, secret: String) -> SimulatorConfiguration {
        var configuration = SimulatorConfiguration()
        configuration.port = 0
        configuration.clients = [id: secret]
        configuration.processingTime = 0
        return configuration
    }
}

func withSimulator<Result>(
    _ configuration: SimulatorConfiguration, _ body: (RunningSimulator) async throws -> Result
) async throws -> Result {
    let simulator = try await ComplianceSimulator(configuration: configuration).start()
    return try await scoped(simulator, stop: { await $0.stop() }, body)
}

extension ExampleCopy {
    /// Rewrites one of the example's job files through its values: read as YAML, changed, written back.
    func editJob(_ name: String, _ change: (inout [String: Any]) throws -> Void) throws {
        guard var job = try Yams.load(yaml: try read(name)) as? [String: Any] else {
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: path(name)])
        }
        try change(&job)
        try write(name, try Yams.dump(object: job))
    }
}

extension [String: Any] {
    /// A section of a job, empty when it has none.
    func section(_ key: String) -> [String: Any] { self[key] as? [String: Any] ?? [:] }
}

/// Runs `plan --format json` on a job; returns its `summary` (creates, updates...) and the run.
func planSummary(_ job: String, environment: [String: String]) async throws -> ([String: Int]?, ProcessResult) {
    let plan = try await runCLI(["plan", "--config", job, "--format", "json"], environment: environment)
    #expect(plan.status == 0, "\(plan.stderr)")
    let summary =
        (try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any])?["summary"]
        as? [String: Int]
    return (summary, plan)
}

/// `plan --format json`: its `read` and `summary`.
func readAndSummary(_ path: String, _ env: [String: String], _ extra: [String] = []) async throws
    -> (read: [String: Any], summary: [String: Int], stderr: String)
{
    let plan = try await runCLI(["plan", "--config", path, "--format", "json"] + extra, environment: env)
    #expect(plan.status == 0, "\(plan.stderr)")
    let document = try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any]
    return (
        document?["read"] as? [String: Any] ?? [:], document?["summary"] as? [String: Int] ?? [:], plan.stderr
    )
}

/// Syncs, and checks that the run read what `kind` says (if given) and that a full read then has
/// nothing to do.
/// - Returns: the kind of read the run made.
@discardableResult
func syncAndAgree(_ path: String, _ env: [String: String], kind: String?, _ note: String) async throws -> String {
    let sync = try await runCLI(["sync", "--config", path, "--log-level", "debug"], environment: env)
    #expect(sync.status == 0, "\(note): \(sync.all)")
    // The summary's first line says a change read ("only the changes: …").
    let read = sync.stdout.contains("(only the changes:") ? "changes" : "full"
    if let kind { #expect(read == kind, "\(note): \(sync.stderr)") }
    let full = try await readAndSummary(path, env, ["--full-read"])
    let summary = full.summary
    #expect(
        summary["creates"] == 0 && summary["updates"] == 0 && summary["removals"] == 0 && summary["waiting"] == 0,
        "\(note): after the \(read) read a full read still finds \(summary)")
    return read
}
