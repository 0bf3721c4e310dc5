import ArgumentParser
import ComplianceAPI
import ConnectorCore
import Foundation
import SyncCore

/// `compliance-sync journal`: what earlier runs submitted and never confirmed, and settling it.
struct JournalCommand: AsyncParsableCommand, JobCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal",
        abstract: "List the submissions an interrupted run left unconfirmed; --resolve settles them now.",

        discussion: """
            Every sync settles these by itself before it plans; this is for looking, and for settling \
            them without a whole run. --resolve asks the API for each import it has an id for and \
            records what it applied; people of a submission that cannot be confirmed are marked so \
            that the next sync sends them in their current state. --unconfirm KEY settles one entry \
            by hand, without asking the API (for an import whose status the API can no longer \
            answer): its people are sent again, in their current state, by the next sync. No values \
            are printed. Takes the job's lock while it reads (exit 5 when another run holds it).
            """)

    @OptionGroup var job: JobOptions

    @Flag(help: "Settle the pending entries with the API now.")
    var resolve = false

    @Option(
        help: ArgumentHelp(
            "Settle this entry (its key, as listed) by hand: its people are sent again by the next sync.",
            valueName: "key"))
    var unconfirm: String?

    @OptionGroup var lock: LockOptions

    func run() async throws {
        var (configuration, logger, _) = try job.load()
        configuration.snapshot.lockWait = lock.waitForLock
        let store = try await SnapshotOpening.forWriting(configuration.snapshot, logger: logger)
        let entries = try await store.journalEntries()
        print("journal of \(configuration.snapshot.job) (\(store.description)): \(entries.count) pending")
        let now = Date()
        for entry in entries {
            let age = Int(now.timeIntervalSince(entry.createdAt))
            print(
                "  \(entry.key)  \(entry.importID ?? "(no import id)")  \(entry.updates.count) rows  "
                    + "age \(age / 3600)h\(age % 3600 / 60)m")
        }
        if let unconfirm {
            guard let entry = entries.first(where: { $0.key == unconfirm }) else {
                throw SyncError(
                    .configuration, "the journal of \(configuration.snapshot.job) has no entry \(unconfirm)",
                    hint: "give a key as `journal` lists it")
            }
            try await store.markUnconfirmed(entry.updates, resolving: entry.key)
            print(
                "settled \(entry.key) by hand: its \(entry.updates.count) people are sent again, in their current "
                    + "state, by the next sync")
            return
        }
        guard resolve, !entries.isEmpty else { return }
        let client = try ComplianceAPIClient(settings: configuration.api, logger: logger)
        let syncer = Syncer(
            planner: Planner(job: configuration, logger: logger), policy: configuration.policy,
            batchSize: configuration.api.batchSize, logger: logger
        )
        var report = SyncReport(job: configuration.snapshot.job, source: "", startedAt: now, finishedAt: now)
        let recorder = RunRecorder(
            store: store, run: RunRecord(id: CommandContext.runID, command: .journal),
            policy: configuration.history, logger: logger)
        try await recorder.begin()
        do {
            try await client.closing {
                try await syncer.settleJournal(store: store, service: client, report: &report)
            }
        } catch let error as SyncError {
            report.failure = error
            await recorder.finish(&report)
            throw error
        }
        report.finishedAt = Date()
        await recorder.finish(&report)
        let left = try await store.journalEntries().count
        print(
            "settled \(report.settled) entries; \(left) pending. People that could not be confirmed are sent "
                + "again, in their current state, by the next sync.")
        for warning in report.warnings { print("  warning: \(warning)") }
    }
}
