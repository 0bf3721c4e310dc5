import ArgumentParser
import Foundation
import SyncCore
import SyncOutput

/// `compliance-sync history`: the runs a job's snapshot remembers, or what happened to one person.
struct HistoryCommand: AsyncParsableCommand, JobCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "List the job's recent runs, or (--person ID) everything the runs did to one person.",
        discussion: """
            Read from the snapshot store without taking the job's lock. The store keeps the last \
            history.keep runs (400 by default) and, for each person, the kind of change each run sent \
            and the names of the fields it changed, never their values. A re-keyed person's story \
            includes their earlier id's.
            """)

    @OptionGroup var job: JobOptions

    @Option(help: ArgumentHelp("One person's story, by source id.", valueName: "ID"))
    var person: String?

    @Option(help: "How many runs to list, newest first.")
    var limit = 30

    /// How the history is printed.
    enum Format: String, ExpressibleByArgument { case text, json, html }

    @Option(
        help: ArgumentHelp(
            "A table (text), JSON (json), or one self-contained page with a chart of the runs (html).",
            valueName: "text|json|html"))
    var format: Format = .text

    func run() async throws {
        let (configuration, logger) = try job.loadConfiguration()
        let reader = try await SnapshotOpening.forReading(configuration.snapshot, logger: logger)
        let jobName = configuration.snapshot.job
        if let person {
            let events = try await story(of: person, in: reader)
            switch format {
            case .json: try Self.writeJSON(events, person: person, job: jobName)
            case .html: print(HistoryPage.person(events, id: person, job: jobName), terminator: "")
            case .text:
                print("history of \(person) in job \(jobName) (\(reader.description)): \(events.count) events")
                if events.isEmpty { print("  nothing recorded: this id was never sent in a kept run") }
                for event in events { print("  " + Self.line(event)) }
            }
            return
        }
        let runs = try await reader.runs(limit: max(limit, 1))
        switch format {
        case .json: try Self.writeJSON(runs, job: jobName)
        case .html: print(HistoryPage.runs(runs, job: jobName), terminator: "")
        case .text:
            print(
                "runs of job \(jobName) (\(reader.description)), newest first; history.keep \(configuration.history.keep)"
            )
            if runs.isEmpty { print("  no run recorded yet") }
            for run in runs { print("  " + Self.line(run)) }
        }
    }

    /// A person's events with those of the ids they were re-keyed from, oldest first.
    private func story(of id: String, in history: any RunHistoryReader) async throws -> [PersonEvent] {
        var seen: Set<String> = [], pending = [id], events: [PersonEvent] = []
        while let next = pending.popLast(), seen.insert(next).inserted {
            let own = try await history.events(of: next)
            events += own
            pending += own.filter { $0.kind == .rekeyed }.compactMap(\.otherID)
        }
        return events.sorted { $0.at < $1.at }
    }

    static func line(_ event: PersonEvent) -> String {
        var what: String
        switch event.kind {
        case .rekeyed: what = "re-keyed from \(event.otherID ?? "?") to \(event.sourceID)"
        case .rekeyedAway: what = "re-keyed: \(event.sourceID) is now \(event.otherID ?? "?")"
        case .missing: what = "found missing from the source"
        case .returned: what = "back in the source"
        case .unconfirmed: what = "sent, but the import could not be confirmed (sent again next run)"
        default: what = event.kind.rawValue
        }
        if !event.fields.isEmpty && event.kind != .rekeyedAway { what += " " + event.fields.joined(separator: ", ") }
        return Timestamps.iso(event.at) + "  " + what + "  (run \(event.runID)"
            + (event.importID.map { ", import \($0)" } ?? "") + ")"
    }

    static func line(_ run: RunRecord) -> String {
        var text = "\(Timestamps.iso(run.startedAt))  \(run.id)  \(run.command.rawValue)  \(run.status)"
        if let exit = run.exitStatus { text += " (exit \(exit))" }
        if let finished = run.finishedAt { text += " in \(JobStatus.span(finished.timeIntervalSince(run.startedAt)))" }
        text += ": read \(run.records), created \(run.created), updated \(run.updated), terminated \(run.terminated)"
        if run.rekeyed > 0 { text += ", re-keyed \(run.rekeyed)" }
        if run.rejected > 0 { text += ", rejected \(run.rejected)" }
        if run.invalid > 0 { text += ", invalid \(run.invalid)" }
        if run.waiting > 0 { text += ", \(run.waiting) within the grace period" }
        text += " on \(run.host)"
        if let error = run.error { text += "\n      " + error }
        return text
    }

    private static func writeJSON(_ runs: [RunRecord], job: String) throws {
        try HistoryDocument(job: job, runs: runs.map(RunEntry.init)).write(to: ByteOutput(descriptor: 1))
    }

    private static func writeJSON(_ events: [PersonEvent], person: String, job: String) throws {
        try PersonHistoryDocument(job: job, person: person, events: events).write(to: ByteOutput(descriptor: 1))
    }
}
