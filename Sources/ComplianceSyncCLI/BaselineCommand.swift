import ArgumentParser
import ConnectorCore
import Foundation
import SyncCore

/// `compliance-sync baseline`: records the source as already in the account, sending nothing.
struct BaselineCommand: AsyncParsableCommand, JobCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline",
        abstract: "Record every valid source record in the snapshot as if it had been sent. Sends nothing.",
        discussion: """
            For adopting an account whose people were already loaded by other means: the next sync \
            then sends only what changes from here on. Refuses to touch a snapshot that already holds \
            people unless --force is given.
            """)

    @OptionGroup var job: JobOptions

    @Flag(help: "Overwrite what a non-empty snapshot holds for these people.")
    var force = false

    @OptionGroup var lock: LockOptions

    func run() async throws {
        var (configuration, logger, source) = try job.load()
        configuration.snapshot.lockWait = lock.waitForLock
        let store = try await SnapshotOpening.forWriting(configuration.snapshot, logger: logger)
        let existing = try await store.index().count
        if existing > 0 && !force {
            throw SyncError(
                .configuration, "the snapshot \(store.description) already holds \(existing) people",
                hint: "use `sync` to bring it up to date, or `baseline --force` to overwrite it")
        }
        let recorder = RunRecorder(
            store: store, run: RunRecord(id: CommandContext.runID, command: .baseline),
            policy: configuration.history, logger: logger)
        try await recorder.begin()
        var report = SyncReport(job: configuration.snapshot.job, source: source.description)
        let changes: ChangeSet, rows: [PlannedRow]
        do {
            changes = try await Planner(job: configuration, logger: logger).plan(source: source, snapshot: store)
            rows = changes.creates + changes.updates.map(\.row) + changes.moved
            let layout = changes.layout
            for batch in stride(from: 0, to: rows.count, by: configuration.api.batchSize) {
                let slice = rows[batch..<min(batch + configuration.api.batchSize, rows.count)]
                try await store.commit(
                    slice.map {
                        SnapshotUpdate(
                            sourceID: $0.sourceID, fingerprint: $0.fingerprint,
                            fields: store.key.storedFields($0.values, layout: layout), replacing: $0.replacing)
                    })
            }
        } catch let error as SyncError {
            report.failure = error
            await recorder.finish(&report)
            throw error
        }
        (report.records, report.unchanged, report.finishedAt) = (changes.recordsRead, changes.unchanged, Date())
        report.invalid = changes.invalid
        await recorder.finish(&report)
        print(
            "baseline: recorded \(rows.count) people in \(store.description); "
                + "\(changes.unchanged) already there, \(changes.invalid.count) invalid (not recorded)")
    }
}
