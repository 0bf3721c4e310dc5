import ArgumentParser
import Foundation
import SyncCore
import SyncOutput

/// `compliance-sync status`: a monitoring plugin (Nagios, Icinga, Zabbix, Sensu...) for a job.
struct StatusCommand: AsyncParsableCommand, JobCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Check a job for monitoring: one plugin line and exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
        discussion: """
            Reads the snapshot store's run history without taking the job's lock (a run may be going) \
            and without reaching the source or the API. CRITICAL: the last success is older than \
            --max-age (or no run succeeded in that time), the last run failed or died, or rows were \
            rejected in each of the last history.rejected_runs_critical runs. WARNING: a \
            guard stopped the last run, it had rejected rows or invalid records, imports are waiting \
            to be settled, or the last success is older than --warning-age. UNKNOWN: no run is \
            recorded, or the job or its snapshot cannot be read. Thresholds and output: \
            docs/operations.md.
            """)

    @OptionGroup var job: JobOptions

    @Option(
        help: ArgumentHelp(
            "CRITICAL when the last success is older than this (default: the job's history.stale_after, 26h).",
            valueName: "duration"),
        transform: ArgumentParsing.duration)
    var maxAge: Duration?

    @Option(
        help: ArgumentHelp("WARNING when the last success is older than this.", valueName: "duration"),
        transform: ArgumentParsing.duration)
    var warningAge: Duration?

    @Option(help: ArgumentHelp("The plugin line (text) or a JSON object (json).", valueName: "text|json"))
    var format: OutputFormat = .text

    @Flag(help: "When the job is stale, also tell the job's webhooks that want `stale`.")
    var notify = false

    enum OutputFormat: String, ExpressibleByArgument { case text, json }

    func run() async throws {
        let status: JobStatus
        do {
            let (configuration, logger) = try job.loadConfiguration()
            let reader = try await SnapshotOpening.forReading(configuration.snapshot, logger: logger)
            status = try await JobStatus.read(
                reader, job: configuration.snapshot.job, maxAge: maxAge ?? configuration.history.staleAfter,
                warningAge: warningAge, rejectedRunsCritical: configuration.rejectedRunsCritical)
            if notify && status.isStale {
                await Notifier.send(stale: status, to: configuration.webhooks, api: configuration.api, logger: logger)
            }
        } catch {
            // A check that cannot look is UNKNOWN, never OK, and says why.
            let reason = String("\(error)".map { $0 == "\n" || $0 == "|" ? " " : $0 })
            print("COMPLIANCE-SYNC UNKNOWN - \(reason)")
            throw ExitCode(JobStatus.State.unknown.rawValue)
        }
        switch format {
        case .text: print(status.pluginOutput)
        case .json: try status.document.write(to: ByteOutput(descriptor: 1))
        }
        throw ExitCode(status.verdict.state.rawValue)
    }
}
