import ConnectorCore
import Foundation
import SyncCore

/// What a printed plan says besides the change set itself.
public struct PlanHeader: Sendable {
    /// The job's name.
    public var job: String
    /// The source, as it describes itself.
    public var source: String
    /// The snapshot, as it describes itself.
    public var snapshot: String
    /// What removals do.
    public var removalAction: RemovalPolicy.Action
    /// The guard that stopped the run, if one did.
    public var stoppedBy: SyncError?

    /// Creates a header.
    public init(
        job: String, source: String, snapshot: String, removalAction: RemovalPolicy.Action, stoppedBy: SyncError?
    ) {
        self.job = job
        self.source = source
        self.snapshot = snapshot
        self.removalAction = removalAction
        self.stoppedBy = stoppedBy
    }
}

/// Prints a change set for people (`--format text`) or programs (`--format json`,
/// documented in docs/plan-format.md). Sensitive values are always masked.
public enum PlanRendering {
    /// The version of the JSON plan format.
    public static let jsonVersion = 1

    static func identity(_ fields: [String: String], _ catalog: FieldCatalog) -> String {
        describe(fields["first_name"] ?? "", fields["last_name"] ?? "", fields[catalog.email.first ?? "email"] ?? "")
    }

    static func describe(_ first: String, _ last: String, _ email: String) -> String {
        let name = [first, last].filter { !$0.isEmpty }.joined(separator: " ")
        return email.isEmpty ? name : "\(name) <\(email)>"
    }
}
