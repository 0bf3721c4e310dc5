import Foundation
import SyncCore

/// `history --format json`: the runs a job's store keeps, newest first (`compliance-sync.history`).
public struct HistoryDocument: OutputDocument, Sendable {
    public var format = "compliance-sync.history"
    public var version = 1
    public var job: String
    public var runs: [RunEntry]

    /// The document of a job's runs.
    public init(job: String, runs: [RunEntry]) {
        self.job = job
        self.runs = runs
    }
}

/// `history --person ID --format json`: what each run did to one person (`compliance-sync.person-history`).
public struct PersonHistoryDocument: OutputDocument, Sendable {
    /// One thing that happened to the person.
    public struct Event: Encodable, Sendable {
        public var at: String
        public var sourceId: String
        public var event: String
        /// The names of the fields it changed, never their values.
        public var fields: [String]
        @Nullable public var otherId: String?
        public var run: String
        @Nullable public var importId: String?

        enum CodingKeys: String, CodingKey {
            case at, event, fields, run
            case sourceId = "source_id"
            case otherId = "other_id"
            case importId = "import_id"
        }
    }

    public var format = "compliance-sync.person-history"
    public var version = 1
    public var job: String
    public var person: String
    public var events: [Event]

    /// The document of one person's events.
    public init(job: String, person: String, events: [PersonEvent]) {
        self.job = job
        self.person = person
        self.events = events.map {
            Event(
                at: Timestamps.iso($0.at), sourceId: $0.sourceID, event: $0.kind.rawValue, fields: $0.fields,
                otherId: $0.otherID, run: $0.runID, importId: $0.importID)
        }
    }
}
