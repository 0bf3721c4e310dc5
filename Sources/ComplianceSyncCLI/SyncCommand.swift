import ArgumentParser
import ComplianceAPI
import ConnectorCore
import Foundation
import JobConfig
import Logging
import SyncCore
import SyncOutput

/// `compliance-sync sync`: the whole run.
struct SyncCommand: AsyncParsableCommand, JobCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Send the changes to the Compliance import API and advance the snapshot by what it accepted.",
        discussion: """
            Prints a summary and writes a JSON run report (docs/run-report.md) beside the snapshot, \
            or where --report says. Exit status 4 when the API rejected some rows; they are sent \
            again next run.
            """)

    @OptionGroup var job: JobOptions

    @Flag(help: "Run even when removals exceed removals.max_count or removals.max_percent, or the source is empty.")
    var allowMassRemoval = false

    @Flag(help: "Run even when a field would be cleared for more people than guards.max_cleared_* allow.")
    var allowMassClear = false

    @Flag(help: "Run even when a field would change for more people than guards.max_changed_percent allows.")
    var allowMassChange = false

    @Flag(help: "Run even when a joined source returns no records, or matches far fewer people than last time.")
    var allowPartialJoin = false

    @Option(
        help: ArgumentHelp(
            "Lift the removal and clearing guards for exactly what this saved plan (plan --save) listed; stop on anything else.",
            valueName: "plan.json"))
    var approve: String?

    @Option(
        help: ArgumentHelp("How old an approved plan may be (90s, 15m, 24h).", valueName: "duration"),
        transform: ArgumentParsing.duration)
    var approveMaxAge: Duration = .seconds(86400)

    @Flag(help: "Send every current person as an upsert, whatever the snapshot says (heals drift).")
    var full = false

    @Flag(help: "Read the whole source, not only what its change feed says changed (source.changes).")
    var fullRead = false

    @Option(help: "Where to write the JSON run report (default: beside the snapshot, JOB.report.json).")
    var report: String?

    @Option(
        help: ArgumentHelp(
            "Write the run's Prometheus metrics here, for node_exporter's textfile collector (overrides metrics.textfile).",
            valueName: "file.prom"))
    var metricsFile: String?

    @OptionGroup var lock: LockOptions

    @Option(
        help: ArgumentHelp(
            "The exit status of a run skipped because another run of the job holds its lock; 0 for schedulers that "
                + "count only 0 as success (Kubernetes Jobs).", valueName: "status"))
    var skippedExitStatus: Int32 = 5

    func run() async throws {
        var (configuration, logger, source) = try job.load()
        configuration.snapshot.lockWait = lock.waitForLock
        let here = FileManager.default.currentDirectoryPath
        // Read before the API client exists: an error here must not leave a client unclosed.
        let approved = try approve.map {
            try PlanApproval(
                path: ConfigPaths.resolve($0, relativeTo: here), job: configuration.snapshot.job, maxAge: approveMaxAge)
        }
        let reportPath =
            report.map { ConfigPaths.resolve($0, relativeTo: here) }
            ?? (configuration.snapshot.path as NSString).deletingPathExtension + ".report.json"
        let metricsPath = metricsFile.map { ConfigPaths.resolve($0, relativeTo: here) } ?? configuration.metricsFile
        let client = try ComplianceAPIClient(settings: configuration.api, logger: logger)
        let progress = TerminalProgress.ifTerminal(logFormat: job.logFormat)

        var planner = Planner(job: configuration, logger: logger)
        planner.progress = progress?.onRead
        planner.changeReads?.forceFull = fullRead
        var syncer = Syncer(
            planner: planner, policy: configuration.policy, batchSize: configuration.api.batchSize, logger: logger)
        syncer.maxInFlight = configuration.api.maxInFlight
        syncer.progress = progress?.onSent
        var run = SyncRun(job: configuration.snapshot.job, runID: CommandContext.runID, syncer: syncer, logger: logger)
        run.full = full
        run.history = configuration.history
        run.overrides = GuardOverrides(
            allowMassRemoval: allowMassRemoval, allowMassClear: allowMassClear, allowMassChange: allowMassChange,
            allowPartialJoin: allowPartialJoin, approved: approved)
        let snapshot = configuration.snapshot
        let result = try await client.closing {
            await run.run(
                source: source, openStore: { try await SnapshotOpening.forWriting(snapshot, logger: logger) },
                service: client)
        }
        progress?.finish()
        try await write(result, report: reportPath, metrics: metricsPath, job: configuration, logger: logger)
    }

    /// Writes the run's outputs, the same on success and failure: the summary (when something was applied
    /// or the run went to its end), the JSON run report, the metrics and the webhooks; then ends with the
    /// run's exit status. A run skipped for the lock leaves the report to the run that holds it.
    private func write(
        _ result: SyncReport, report reportPath: String, metrics: String?, job: JobConfiguration, logger: Logger
    ) async throws {
        let applied = result.created + result.updated + result.terminated + result.rejected.count > 0
        if result.failure == nil || applied { print(result.summary) }
        if result.failure?.kind != .locked {
            do {
                try Self.write(result, to: reportPath)
                if result.failure == nil { print("  report: \(reportPath)") }
            } catch  where result.failure != nil {
                // The run's own failure is what the operator must read.
                logger.error("cannot write the run report \(reportPath): \(error)")
            }
        }
        Self.writeMetrics(result, to: metrics, logger: logger)
        await Notifier.send(result, to: job.webhooks, api: job.api, logger: logger)
        if let error = result.failure {
            guard error.kind == .locked, skippedExitStatus != error.exitCode else { throw error }
            // Still said, as any skip is, but ending with the status the scheduler reads as intended.
            logger.notice("\(error.message); skipped (exit status \(skippedExitStatus), --skipped-exit-status)")
            throw ExitCode(skippedExitStatus)
        }
        if result.exitCode != 0 { throw ExitCode(result.exitCode) }
    }

    /// Writes the metrics file, if the job has one; a failure to write it is logged, never the run's.
    private static func writeMetrics(_ report: SyncReport, to path: String?, logger: Logger) {
        guard let path else { return }
        do {
            try MetricsFile.write(report, to: path)
        } catch {
            logger.error("cannot write the metrics file: \(error)")
        }
    }

    /// Writes the JSON run report, whole or not at all.
    private static func write(_ report: SyncReport, to path: String) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let file = try ByteOutput(creating: path)
        try report.document.write(to: file)
        try file.finish()
    }
}
