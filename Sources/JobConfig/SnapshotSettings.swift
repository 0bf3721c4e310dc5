import ConnectorCore
import Foundation
import SyncCore

/// Where the snapshot of the last successful sync lives (`snapshot:` in the config).
public struct SnapshotSettings: Sendable {
    /// Which store holds it.
    public enum Kind: String, Sendable { case sqlite, postgres }

    /// The store; SQLite by default.
    public var kind = Kind.sqlite
    /// The job's name; the config file's base name by default.
    public var job: String
    /// The SQLite file (for `sqlite`).
    public var path: String
    /// The file holding the key that hashes sensitive fields (mode 0600, made on first use).
    public var keyPath: String
    /// Whether `key_file` was written: the PostgreSQL store then keeps the key in that file, not in the database.
    public var keyFileGiven = false
    /// The config file's folder, which relative paths in ``options`` resolve against.
    public var folder = "."
    /// How long a writing run waits for another run of the job to finish; zero stops at once.
    public var lockWait = Duration.zero
    /// Store-specific settings (the PostgreSQL store's `conninfo`, say), read by that store.
    public var options: ConfigNode?

    /// A SQLite snapshot at `path`, keyed by `path.key`.
    public init(job: String, path: String) {
        self.job = job
        self.path = path
        self.keyPath = path + ".key"
    }

    init(section: ConfigSection?, defaultJob: String, folder: String) throws {
        let job = try section?.string("job") ?? defaultJob
        let path = try section?.path("path", relativeTo: folder) ?? Self.defaultPath(job: job, folder: folder)
        self.init(job: job, path: path)
        self.folder = folder
        guard let section else { return }
        kind = try section.choice("type", ["sqlite", "postgres"]).flatMap(Kind.init) ?? kind
        if let keyFile = try section.path("key_file", relativeTo: folder) {
            keyPath = keyFile
            keyFileGiven = true
        }
        if kind != .sqlite {
            options = section.node
            for key in section.keys { _ = section.node(key) }
        }
        try section.finish()
    }

    /// Where a job's snapshot lives when its file does not say: in the service's state folder
    /// when systemd gives one (`StateDirectory=`, so `/var/lib/compliance-sync/JOB.snapshot`),
    /// else in `.state/` beside the job file.
    static func defaultPath(
        job: String, folder: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> String {
        if let state = environment["STATE_DIRECTORY"]?.split(separator: ":").first, state.hasPrefix("/") {
            return "\(state)/\(job).snapshot"
        }
        return ConfigPaths.resolve(".state/\(job).snapshot", relativeTo: folder)
    }
}
