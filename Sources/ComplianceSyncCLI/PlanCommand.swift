import ArgumentParser
import ConnectorCore
import Foundation
import SyncCore
import SyncOutput

/// `compliance-sync plan`: what a sync would change, without sending or writing anything.
struct PlanCommand: AsyncParsableCommand, JobCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Read, map, validate and diff; print what a sync would change. Sends nothing, writes nothing.")

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json, html }

    @OptionGroup var job: JobOptions

    @Option(
        help:
            "Output format: text for people, json for programs (see docs/plan-format.md), html for an approver (one self-contained page)."
    )
    var format: Format = .text

    @Flag(help: "Plan as if the removal limits were lifted.")
    var allowMassRemoval = false

    @Flag(help: "Plan as if the clearing limits were lifted.")
    var allowMassClear = false

    @Flag(help: "Plan as if the limits on mass changes were lifted.")
    var allowMassChange = false

    @Flag(help: "Plan as if a joined source were allowed to return no records, or match far fewer people.")
    var allowPartialJoin = false

    @Flag(help: "Plan from a read of the whole source, not only what its change feed says changed.")
    var fullRead = false

    @Option(
        help: ArgumentHelp(
            "Also write the plan as JSON to this file (mode 0600), for review and `sync --approve`. Sensitive values are masked.",
            valueName: "plan.json"))
    var save: String?

    @Option(
        help: ArgumentHelp(
            "Also write the plan as one self-contained HTML page to this file (mode 0600), to attach to a change ticket.",
            valueName: "plan.html"))
    var saveHTML: String?

    func run() async throws {
        let (configuration, logger, source) = try job.load()
        let snapshot = try await SnapshotOpening.forReading(configuration.snapshot, logger: logger)
        let progress = TerminalProgress.ifTerminal(logFormat: job.logFormat)
        var planner = Planner(job: configuration, logger: logger)
        planner.progress = progress?.onRead
        planner.lastSuccess = try await snapshot.lastSuccess()
        planner.previousRun = try await snapshot.runs(limit: 1).first
        planner.changeReads?.forceFull = fullRead
        let changes: ChangeSet
        do {
            changes = try await planner.plan(source: source, snapshot: snapshot)
            progress?.finish()
        } catch {
            progress?.finish()
            throw error
        }
        let stopped = Guards.check(
            changes, policy: configuration.policy,
            overrides: GuardOverrides(
                allowMassRemoval: allowMassRemoval, allowMassClear: allowMassClear, allowMassChange: allowMassChange,
                allowPartialJoin: allowPartialJoin))
        let header = PlanHeader(
            job: configuration.snapshot.job, source: source.description, snapshot: snapshot.description,
            removalAction: configuration.removals.action, stoppedBy: stopped)
        let out = ByteOutput(descriptor: 1)
        switch format {
        case .text: PlanRendering.text(changes, header: header, to: out)
        case .json: PlanRendering.json(changes, header: header, to: out)
        case .html: try PlanRendering.html(changes, header: header, to: out)
        }
        for (path, render) in [(save, PlanRendering.json), (saveHTML, PlanRendering.html)] {
            guard let path else { continue }
            let file = try ByteOutput(
                creating: ConfigPaths.resolve(path, relativeTo: FileManager.default.currentDirectoryPath))
            try render(changes, header, file)
            try file.finish()
        }
        for warning in changes.warnings { logger.warning("\(warning)") }
        // The plan is printed: end the process here rather than free a million rows one by one.
        Foundation.exit(stopped?.exitCode ?? 0)
    }
}
