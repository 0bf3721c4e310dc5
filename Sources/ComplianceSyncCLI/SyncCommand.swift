import ArgumentParser
import ComplianceAPI
import ConnectorCore
import Foundation
import Logging
import SyncCore

/// `compliance-sync sync`: the whole run.
struct SyncCommand: AsyncParsableCommand {
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

    @Option(help: "Where to write the JSON run report (default: beside the snapshot, JOB.report.json).")
    var report: String?

    @Option(
        help: ArgumentHelp(
            "Write the run's Prometheus metrics here, for node_exporter's textfile collector (overrides metrics.textfile).",
            valueName: "file.prom"))
    var metricsFile: String?

    @OptionGroup var lock: LockOptions

    func run() async throws {
        var (configuration, logger, source) = try job.load()
        configuration.snapshot.lockWait = lock.waitForLock
        // Read before the API client exists: an error here must not leave a client unclosed.
        let approved = try approve.map {
            try PlanApproval(
                path: ConfigPaths.resolve($0, relativeTo: FileManager.default.currentDirectoryPath),
                job: configuration.snapshot.job, maxAge: approveMaxAge)
        }
        let client = try ComplianceAPIClient(settings: configuration.api, logger: logger)
        let progress = TerminalProgress.ifTerminal(logFormat: job.logFormat)
        var planner = Planner(job: configuration, logger: logger)
        planner.progress = progress?.onRead
        var syncer = Syncer(planner: planner, batchSize: configuration.api.batchSize, logger: logger)
        syncer.maxInFlight = configuration.api.maxInFlight
        syncer.progress = progress?.onSent
        let overrides = GuardOverrides(
            allowMassRemoval: allowMassRemoval, allowMassClear: allowMassClear, allowMassChange: allowMassChange,
            allowPartialJoin: allowPartialJoin, approved: approved)
        let reportPath =
            report.map { ConfigPaths.resolve($0, relativeTo: FileManager.default.currentDirectoryPath) }
            ?? (configuration.snapshot.path as NSString).deletingPathExtension + ".report.json"
        let metricsPath =
            metricsFile.map { ConfigPaths.resolve($0, relativeTo: FileManager.default.currentDirectoryPath) }
            ?? configuration.metricsFile
        let started = Date()
        var result: SyncReport
        do {
            result = try await client.closing {
                let store = try await SnapshotOpening.forWriting(configuration.snapshot, logger: logger)
                let recorder = RunRecorder(
                    store: store, run: RunRecord(id: CommandContext.runID, command: full ? .full : .sync),
                    job: configuration, logger: logger)
                try await recorder.begin()
                // What the last successful run's joined sources matched, for the join guard.
                var syncer = syncer
                syncer.planner.lastSuccess = try await (store as? any RunHistoryReader)?.lastSuccess()
                // Filled as the run goes: a run that fails part-way still reports what it applied.
                var report = SyncReport(
                    job: configuration.snapshot.job, source: source.description, startedAt: started)
                do {
                    try await syncer.run(
                        source: source, store: store, service: client, full: full, overrides: overrides,
                        into: &report)
                } catch let error as SyncError {
                    report.failure = error
                    report.finishedAt = Date()
                }
                report.apiRetries = client.retries
                await recorder.finish(&report)
                return report
            }
        } catch let error as SyncError {
            // Failed before the run could begin (the lock, the snapshot, the API's settings).
            result = SyncReport(job: configuration.snapshot.job, source: source.description, startedAt: started)
            result.failure = error
            result.apiRetries = client.retries
        }
        progress?.finish()
        if let error = result.failure {
            // The report never shows a stale success: a failed or stopped run writes one too.
            // (A run skipped for the lock leaves the report to the run that holds it.)
            if error.kind != .locked { try? Self.write(result, to: reportPath) }
            // What it applied before it failed is kept: said here too, not only in the report.
            if result.created + result.updated + result.terminated + result.rejected.count > 0 { print(result.summary) }
            Self.writeMetrics(result, to: metricsPath, logger: logger)
            await Notifier.send(result, to: configuration.webhooks, api: configuration.api, logger: logger)
            throw error
        }
        print(result.summary)
        try Self.write(result, to: reportPath)
        print("  report: \(reportPath)")
        Self.writeMetrics(result, to: metricsPath, logger: logger)
        await Notifier.send(result, to: configuration.webhooks, api: configuration.api, logger: logger)
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
        report.writeJSON(to: file)
        try file.finish()
    }
}
