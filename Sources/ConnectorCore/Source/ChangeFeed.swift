/// Where a directory's change feed stands: what the next read asks for the changes since.
///
/// Kept with the run that read it, in the snapshot, and written in the transaction that records the
/// run's end, after everything it sent was committed: never ahead of what the snapshot holds.
public struct ChangeFeedPosition: Sendable, Hashable, Codable {
    /// The feed: `dirsync` (Active Directory), `syncrepl` (OpenLDAP).
    public var feed: String
    /// The server the position belongs to (a domain controller's NTDS Settings DN, a server's URL):
    /// a cookie means nothing to another server, so another one means a full read.
    public var server: String
    /// The feed's cookie, as text (base64 when the server's is bytes).
    public var cookie: String

    /// Creates a position.
    public init(feed: String, server: String, cookie: String) {
        self.feed = feed
        self.server = server
        self.cookie = cookie
    }
}

/// What a source found changed since a ``ChangeFeedPosition``.
public struct SourceChanges: Sendable {
    /// The records of the people added or changed, and of those asked for again, as a full read
    /// would give them (scope, filters and all): only people the full read would list.
    public var records: [SourceRecord]
    /// The ids of people the full read would no longer list: deleted, disabled, moved out of the
    /// base, out of the filter or the groups.
    public var gone: [String]
    /// Where the feed stands after these changes.
    public var position: ChangeFeedPosition
    /// How many entries the server returned, for the report and the metrics.
    public var entriesRead: Int
    /// When the source names everyone the full read would list (syncrepl's present phase), their
    /// ids: anyone else is gone. `nil` when only ``gone`` are.
    public var present: [String]?

    /// Creates a change read's result.
    public init(records: [SourceRecord], gone: [String], position: ChangeFeedPosition, entriesRead: Int) {
        self.records = records
        self.gone = gone
        self.position = position
        self.entriesRead = entriesRead
    }
}

/// The answer of a change read: the changes, or why only a full read can tell.
public enum ChangeRead: Sendable {
    /// What changed.
    case changes(SourceChanges)
    /// The feed cannot say what changed (a cookie the server no longer knows, another server, a
    /// change the feed cannot place): the engine reads everything, and says why.
    case needsFullRead(reason: String)
}

/// A source that can read only what changed since an earlier read (a directory's change feed).
///
/// The engine decides when a change read is safe: it reads everything when it has no position, on a
/// schedule, when the job's settings or the program changed, and after a run that did not finish;
/// the source decides the rest (``ChangeRead/needsFullRead(reason:)``). A missed delete is the one
/// failure a change feed must never add: when in doubt, a source answers `needsFullRead`.
public protocol ChangeFeedSource: UserSource {
    /// The feed this job reads changes through (`dirsync`, `syncrepl`), or `nil` for none.
    var changeFeed: String? { get }
    /// Where the feed stands now; taken before a full read starts, so that the next change read
    /// begins there (changes made during the read are read again, which is harmless). `nil` when
    /// the feed cannot be used (the account lacks the right): the source says why, and every run
    /// reads everything.
    func currentPosition() async throws -> ChangeFeedPosition?
    /// What changed since `position`, plus the current records of the people in `reread`, whom the
    /// engine looks at every run (dates still to come, people held back).
    func changes(since position: ChangeFeedPosition, reread: [String]) async throws -> ChangeRead
}
