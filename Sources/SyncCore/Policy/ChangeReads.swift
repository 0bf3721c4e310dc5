import ConnectorCore
import Crypto
import Foundation

/// How a run read its source, kept with the run in the snapshot's history: the kind of read and
/// why, and, for a source with a change feed, where the feed stands and what the next read needs.
public struct SourceRead: Sendable, Hashable, Codable {
    /// A full read, or only the changes since the last run.
    public enum Kind: String, Sendable, Codable {
        case full, changes
    }

    /// Which read.
    public var kind: Kind
    /// Why: `changes since …`, or why everything was read.
    public var reason: String
    /// The entries the source read (for a change read, those the server returned).
    public var entries: Int
    /// Where the change feed stands after this read; `nil` without a feed.
    public var position: ChangeFeedPosition?
    /// The digest of the settings that decide what a read returns (source, mapping, dates).
    public var settingsDigest: String?
    /// The program's version that read it.
    public var version: String?
    /// When the last full read was: this one's start, if it was one.
    public var fullReadAt: Date?
    /// People the next change read reads again whatever the feed says: dates still to come, people
    /// held back.
    public var reread: [String] = []

    /// Creates a read's record.
    public init(kind: Kind, reason: String, entries: Int = 0) {
        self.kind = kind
        self.reason = reason
        self.entries = entries
    }
}

/// When a job with a change feed reads only the changes, and when everything (`source.changes`,
/// `source.full_every`, `sync --full-read`). Whatever is in doubt means a full read: a missed
/// delete is the one failure a change feed must never add.
public struct ChangeReadPolicy: Sendable {
    /// How long change reads go on before a full read reconciles everything (`source.full_every`).
    public var fullEvery = Duration.seconds(24 * 3600)
    /// The digest of the job's settings that decide what a read returns.
    public var settingsDigest: String
    /// The program's version.
    public var version: String
    /// Read everything this run (`sync --full-read`).
    public var forceFull = false

    /// Creates a policy.
    public init(settingsDigest: String, version: String) {
        self.settingsDigest = settingsDigest
        self.version = version
    }

    /// What to read this run.
    public enum Decision: Sendable, Equatable {
        /// Everything, for this reason.
        case full(String)
        /// The changes since this position, and these people again.
        case changes(since: ChangeFeedPosition, reread: [String])
    }

    /// Decides from the job's previous run (any command, the run in progress excluded).
    /// - Parameters:
    ///   - feed: the feed the source reads changes through now.
    ///   - previous: the run before this one, if any.
    public func decide(feed: String, previous: RunRecord?, now: Date) -> Decision {
        if forceFull { return .full("a full read was asked for (--full-read)") }
        guard let previous else { return .full("this is the job's first run") }
        guard previous.command == .sync || previous.command == .full else {
            return .full("the last run was `\(previous.command.rawValue)`, which read nothing from the source")
        }
        guard previous.status == "completed" else {
            return .full(
                previous.status == "rejected"
                    ? "the last run had rows the API rejected" : "the last run did not finish (\(previous.status))")
        }
        guard let read = previous.read, let position = read.position else {
            return .full("no change feed position is stored yet")
        }
        guard position.feed == feed else { return .full("the job's feed changed from \(position.feed) to \(feed)") }
        guard read.settingsDigest == settingsDigest else {
            return .full("the job's source, mapping or dates settings changed")
        }
        guard read.version == version else {
            return .full("the program changed (\(read.version ?? "unknown") → \(version))")
        }
        guard let last = read.fullReadAt,
            now.timeIntervalSince(last) < Double(fullEvery.components.seconds)
        else {
            return .full(
                "the last full read is older than source.full_every (\(fullEvery.components.seconds / 3600) h)")
        }
        return .changes(since: position, reread: read.reread)
    }

    /// A digest of the settings that decide what a read returns: nodes in order, each as written
    /// (keys, values, order), so any change to them means a full read.
    public static func digest(of nodes: [ConfigNode?]) -> String {
        var hash = SHA256()
        for node in nodes {
            var text = ""
            describe(node, into: &text)
            hash.update(data: Data(text.utf8))
            hash.update(data: Data([0x1E]))
        }
        return hash.finalize().map { String(format: "%02x", $0) }.joined()
    }

    private static func describe(_ node: ConfigNode?, into text: inout String) {
        guard let node else { return text += "~" }
        switch node.value {
        case .null: text += "~"
        case .scalar(let value): text += "s\(value.utf8.count):\(value)"
        case .sequence(let items):
            text += "["
            for item in items { describe(item, into: &text) }
            text += "]"
        case .mapping(let pairs):
            text += "{"
            for (key, value) in pairs {
                text += "k\(key.utf8.count):\(key)"
                describe(value, into: &text)
            }
            text += "}"
        }
    }
}
