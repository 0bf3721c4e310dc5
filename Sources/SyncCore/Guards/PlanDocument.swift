import Foundation

/// A plan as `plan --format json` and `plan --save` write it (docs/plan-format.md), read back:
/// `sync --approve` reads a saved plan through it, and the tests decode what the fast writer
/// wrote into it, so the writer, this type and the page cannot drift apart.
public struct PlanDocument: Codable, Sendable, Equatable {
    /// An error as documents write it: what was wrong, and what to do.
    public struct Failure: Codable, Sendable, Equatable {
        public var message: String
        public var hint: String?
    }

    /// The counts of each list.
    public struct Summary: Codable, Sendable, Equatable {
        public var records, filtered, creates, updates, rekeys, held, removals, waiting, unchanged, invalid: Int
        public var starting, leaving: Int
        public var leftUnsent: Int
        public var unmatched: Int

        enum CodingKeys: String, CodingKey {
            case records
            case filtered
            case creates
            case updates
            case rekeys
            case held
            case removals
            case waiting
            case unchanged
            case invalid
            case starting
            case leaving
            case leftUnsent = "left_unsent"
            case unmatched
        }
    }

    /// A person to create.
    public struct Create: Codable, Sendable, Equatable {
        public var sourceId: String
        public var location: String?
        /// The row as it will be sent; sensitive values masked.
        public var fields: [String: String]

        enum CodingKeys: String, CodingKey {
            case sourceId = "source_id"
            case location
            case fields
        }
    }

    /// A person to update.
    public struct Update: Codable, Sendable, Equatable {
        public var sourceId: String
        public var location: String?
        /// The fields that change; one missing from ``fields`` is cleared.
        public var changed: [String]
        public var fields: [String: String]
        /// The changed fields as they were; sensitive values masked.
        public var previous: [String: String]

        enum CodingKeys: String, CodingKey {
            case sourceId = "source_id"
            case location
            case changed
            case fields
            case previous
        }
    }

    /// A person whose source id changed.
    public struct Rekey: Codable, Sendable, Equatable {
        public var from: String
        public var sourceId: String
        public var matchedOn: String
        public var changed: [String]
        public var fields: [String: String]

        enum CodingKeys: String, CodingKey {
            case from
            case sourceId = "source_id"
            case matchedOn = "matched_on"
            case changed
            case fields
        }
    }

    /// A person gone from the source: removed now, or waiting out the grace period.
    public struct Removal: Codable, Sendable, Equatable {
        public var sourceId: String
        public var fields: [String: String]
        public var missingSince: String
        public var dueAt: String
        public var endedOn: String?

        enum CodingKeys: String, CodingKey {
            case sourceId = "source_id"
            case fields
            case missingSince = "missing_since"
            case dueAt = "due_at"
            case endedOn = "ended_on"
        }
    }

    /// A new person held back because the account gives their email to someone else.
    public struct Held: Codable, Sendable, Equatable {
        public var sourceId: String
        public var location: String?
        public var employeeId: String?
        public var field: String
        public var holder: String
        public var holderEmployeeId: String?
        public var releasedThisRun: Bool
        public var reason: String

        enum CodingKeys: String, CodingKey {
            case sourceId = "source_id"
            case location
            case employeeId = "employee_id"
            case field
            case holder
            case holderEmployeeId = "holder_employee_id"
            case releasedThisRun = "released_this_run"
            case reason
        }
    }

    /// What one joined source gave the plan.
    public struct Joined: Codable, Sendable, Equatable {
        public var source: String
        public var records: Int
        public var matched: Int
    }

    /// The records of a joined source that matched nobody.
    public struct Unmatched: Codable, Sendable, Equatable {
        public var source: String
        public var sourceIds: [String]

        enum CodingKeys: String, CodingKey {
            case source
            case sourceIds = "source_ids"
        }
    }

    /// A person held back, or about to go, by HR's dates.
    public struct Dated: Codable, Sendable, Equatable {
        public var sourceId: String
        public var startsOn: String?
        public var endsOn: String?

        enum CodingKeys: String, CodingKey {
            case sourceId = "source_id"
            case startsOn = "starts_on"
            case endsOn = "ends_on"
        }
    }

    /// A record that cannot be sent.
    public struct Invalid: Codable, Sendable, Equatable {
        public struct Problem: Codable, Sendable, Equatable {
            public var field: String?
            public var reason: String
        }
        public var sourceId: String
        public var location: String?
        public var reason: String
        public var problems: [Problem]

        enum CodingKeys: String, CodingKey {
            case sourceId = "source_id"
            case location
            case reason
            case problems
        }
    }

    /// `compliance-sync.plan`.
    public var format: String
    /// The document's version (1).
    public var version: Int
    public var job: String
    public var source: String
    public var snapshot: String
    /// When the plan was made (ISO 8601, UTC).
    public var plannedAt: String
    public var removalAction: String
    public var summary: Summary
    /// The guard that would stop a sync of this plan, if any.
    public var stopped: Failure?
    public var warnings: [String]
    public var creates: [Create]
    public var updates: [Update]
    public var rekeys: [Rekey]
    public var removals: [Removal]
    public var waiting: [Removal]
    public var held: [Held]
    public var joined: [Joined]
    public var unmatched: [Unmatched]
    /// With joined sources: the sources each mapped field reads.
    public var fieldSources: [String: [String]]
    public var starting: [Dated]
    public var leaving: [Dated]
    public var invalid: [Invalid]

    /// The name every plan document carries in `format`.
    public static let formatName = "compliance-sync.plan"

    /// Reads a plan document.
    /// - Throws: `DecodingError` when the bytes are not a whole plan document.
    public static func decode(_ data: Data) throws -> PlanDocument {
        try JSONDecoder().decode(PlanDocument.self, from: data)
    }

    /// The document as JSON (for tests and tools; `plan` writes its own, faster).
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try encoder.encode(self)
    }

    enum CodingKeys: String, CodingKey {
        case format
        case version
        case job
        case source
        case snapshot
        case plannedAt = "planned_at"
        case removalAction = "removal_action"
        case summary
        case stopped
        case warnings
        case creates
        case updates
        case rekeys
        case removals
        case waiting
        case held
        case joined
        case unmatched
        case fieldSources = "field_sources"
        case starting
        case leaving
        case invalid
    }
}
