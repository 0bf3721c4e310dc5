import ConnectorCore
import Foundation
import SyncCore

/// A JSON document compliance-sync writes for other programs: the run report, `status --format json`,
/// `history --format json`. Each is an `Encodable` type that carries its schema's name (`format`)
/// and `version`; its keys are written sorted, and an absent value as `null`, never left out. (The
/// plan, which can be a million people long, keeps a writer of its own; ``PlanDocument`` reads it.)
public protocol OutputDocument: Encodable {
    /// The schema's name, such as `compliance-sync.run-report`.
    var format: String { get }
    /// The schema's version.
    var version: Int { get }
}

extension OutputDocument {
    /// The document as one line of JSON and a newline.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self) + Data("\n".utf8)
    }

    /// Writes the document.
    /// - Throws: ``SyncError`` (kind `.io`) if it cannot be encoded: nothing is written, so a report
    ///   file being replaced keeps its old content rather than becoming empty.
    public func write(to out: ByteOutput) throws {
        let data: Data
        do {
            data = try encoded()
        } catch {
            throw SyncError(.io, "cannot write the \(format) document: \(error)", underlying: error)
        }
        out.write(bytes: [UInt8](data))
        out.flush()
    }
}

/// A value written as `null` when absent, rather than left out: readers find every documented key.
@propertyWrapper
public struct Nullable<Value: Encodable & Sendable>: Encodable, Sendable {
    public var wrappedValue: Value?

    public init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(wrappedValue)
    }
}

/// An error as documents give it: what was wrong, and what to do.
public struct ErrorEntry: Encodable, Sendable {
    public var message: String
    @Nullable public var hint: String?

    init?(_ error: SyncError?) {
        guard let error else { return nil }
        message = error.message
        hint = error.hint
    }
}

/// A run as `status` and `history` give it.
public struct RunEntry: Encodable, Sendable {
    public var run, command, host, status: String
    @Nullable public var exitStatus: Int?
    public var startedAt: String
    @Nullable public var finishedAt: String?
    public var records, created, updated, terminated, rekeyed, rejected, invalid, waiting, importsSent: Int
    @Nullable public var error: String?

    enum CodingKeys: String, CodingKey {
        case run, command, host, status, records, created, updated, terminated, rekeyed, rejected, invalid, waiting
        case error
        case exitStatus = "exit_status"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case importsSent = "imports_sent"
    }

    /// The entry of a recorded run.
    public init(_ run: RunRecord) {
        self.run = run.id
        command = run.command.rawValue
        host = run.host
        status = run.status
        exitStatus = run.exitStatus
        startedAt = Timestamps.iso(run.startedAt)
        finishedAt = run.finishedAt.map(Timestamps.iso)
        (records, created, updated, terminated) = (run.records, run.created, run.updated, run.terminated)
        (rekeyed, rejected, invalid, waiting) = (run.rekeyed, run.rejected, run.invalid, run.waiting)
        importsSent = run.importsSent
        error = run.error
    }
}
