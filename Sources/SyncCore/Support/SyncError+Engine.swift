import ConnectorCore

extension SyncError.Kind {
    /// The snapshot could not be opened, read or written (exit 1).
    public static let snapshot = SyncError.Kind(name: "snapshot")
    /// A guard stopped the run before anything was sent (exit 3).
    public static let guardStopped = SyncError.Kind(name: "guardStopped")
    /// The Compliance API refused or failed (exit 1).
    public static let api = SyncError.Kind(name: "api")
    /// The API refused one request for good (400, 409, 413, 422): it applied nothing of it,
    /// and sending it again unchanged will not help (exit 1 when it ends a run).
    public static let refused = SyncError.Kind(name: "refused")
    /// The API refused one request as too large (413): it applied nothing of it (exit 1 when it ends a run).
    public static let tooLarge = SyncError.Kind(name: "tooLarge")
    /// The API refused a request that an earlier attempt of (a timeout, a reset, a 5xx) may
    /// have applied: whether it did cannot be known, so its rows are sent again next run (exit 1
    /// when it ends a run).
    public static let unconfirmed = SyncError.Kind(name: "unconfirmed")
    /// The run finished but the API rejected some rows (exit 4).
    public static let rejected = SyncError.Kind(name: "rejected")
    /// Another run of the job holds its lock: this one was skipped (exit 5).
    public static let locked = SyncError.Kind(name: "locked")
}

extension SyncError {
    /// The process exit status this error maps to (the command-line contract): 2 for the config,
    /// 3 for a guard, 4 for rows rejected, 5 for a run skipped for the lock, 1 for anything else.
    public var exitCode: Int32 {
        switch kind {
        case .configuration: 2
        case .guardStopped: 3
        case .rejected: 4
        case .locked: 5
        default: 1
        }
    }

    /// A snapshot that holds something it cannot have written: the one remedy is the same everywhere.
    /// - Parameters:
    ///   - snapshot: the snapshot, as it describes itself.
    ///   - problem: what is damaged (`the stored fields of E1001 are damaged`).
    public static func damagedSnapshot(_ snapshot: String, _ problem: String) -> SyncError {
        SyncError(
            .snapshot, "\(snapshot): \(problem)",
            hint: "restore the snapshot from backup, or run `sync --full` to rebuild it")
    }
}
