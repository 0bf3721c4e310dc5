import ArgumentParser
import JobConfig
import Logging
import PostgresSnapshotStore
import SQLiteSnapshotStore
import SyncCore

/// Opens the snapshot a job names, in whichever store it lives.
enum SnapshotOpening {
    /// For `plan` and `validate`: creates nothing, takes no lock.
    static func forReading(_ settings: SnapshotSettings, logger: Logger) async throws -> any ReadableSnapshot {
        switch settings.kind {
        case .sqlite: try SQLiteSnapshotStore.openForReading(settings)
        case .postgres: try await PostgresSnapshotStore.openForReading(settings, logger: logger)
        }
    }

    /// For `sync` and `baseline`: holds the job's lock until the store is released.
    static func forWriting(_ settings: SnapshotSettings, logger: Logger) async throws -> any SnapshotStore {
        switch settings.kind {
        case .sqlite: try SQLiteSnapshotStore.openForWriting(settings)
        case .postgres: try await PostgresSnapshotStore.openForWriting(settings, logger: logger)
        }
    }
}

/// How a writing command treats another run of the same job.
struct LockOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Wait up to this long (90s, 15m, 2h) for another run of the job to finish, instead of stopping at once.",
            valueName: "duration"),
        transform: ArgumentParsing.duration)
    var waitForLock: Duration = .zero
}
