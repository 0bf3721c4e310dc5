import ComplianceSimulator
import Foundation
import TestSupport

/// A simulator on a free loopback port and a copy of the quick start pointed at it.
final class SyncHarness: @unchecked Sendable {
    static let secret = "s3cr3t-Quickstart-Value"
    let simulator: RunningSimulator
    let example: ExampleCopy

    init(
        _ configure: (inout SimulatorConfiguration) -> Void = { _ in },
        api extra: String = "", removals: String = "  action: terminate\n  max_percent: 20\n",
        snapshot: String? = nil
    ) async throws {
        var configuration = SimulatorConfiguration()
        configuration.port = 0
        configuration.clients = ["demo-client": Self.secret]
        configuration.processingTime = 0.02
        configure(&configuration)
        simulator = try await ComplianceSimulator(configuration: configuration).start()
        example = try ExampleCopy("quickstart")
        let config = try example.read("quickstart.yml")
            .replacingOccurrences(of: "http://127.0.0.1:8080", with: simulator.baseURL + "\n" + extra)
            .replacingOccurrences(of: "  action: terminate\n  max_percent: 20\n", with: removals)
            .replacingOccurrences(
                of: "  path: .state/quickstart.snapshot\n", with: snapshot ?? "  path: .state/quickstart.snapshot\n")
        try example.write("quickstart.yml", config)
    }

    /// Runs `compliance-sync COMMAND --config quickstart.yml ARGS` with the secret in the environment.
    func run(_ command: String, _ arguments: [String] = [], environment: [String: String] = [:]) async throws
        -> ProcessResult
    {
        try await runCLI(
            [command, "--config", example.path("quickstart.yml")] + arguments,
            environment: ["COMPLIANCE_CLIENT_SECRET": Self.secret].merging(environment) { $1 })
    }

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

    /// Splits a CSV line of the quick start (quoted fields, doubled quotes).
    static func cells(_ line: String) -> [String] {
        var cells: [String] = [], cell = "", quoted = false
        var chars = Array(line)[...]
        while let c = chars.popFirst() {
            if quoted {
                if c == "\"" {
                    if chars.first == "\"" { cell.append("\""); chars.removeFirst() } else { quoted = false }
                } else {
                    cell.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                cells.append(cell)
                cell = ""
            } else {
                cell.append(c)
            }
        }
        cells.append(cell)
        return cells
    }

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
