import ConnectorCore
import Foundation

/// What every file source guards against: a record without end (an unclosed
/// quote, a line with no newline) and a file still being written.
///
/// Settings: `max_record_bytes` (16 MiB by default) and `settle_seconds`
/// (0 by default: off), read from the `source:` section.
public struct FileLimits: Sendable, Hashable {
    /// The longest record (a CSV record, a JSON line or array element) read, in bytes.
    public var maxRecordBytes = 16 << 20
    /// How long ago the file must have last changed before it is read; 0 reads it at once.
    public var settleSeconds = 0

    /// The defaults: 16 MiB records, no settling.
    public init() {}

    /// Reads the limits from a file source's section.
    public init(section: ConfigSection) throws {
        maxRecordBytes = try section.int("max_record_bytes", in: 1024...(1 << 40)) ?? maxRecordBytes
        settleSeconds = try section.int("settle_seconds", in: 0...86400) ?? settleSeconds
    }

    /// Refuses a file modified less than ``settleSeconds`` ago: an export still being
    /// written, cut at a line boundary, looks complete.
    /// - Throws: ``SyncError`` (kind `.source`) naming the file and its age.
    public func checkSettled(_ path: String, now: Date = Date()) throws {
        guard settleSeconds > 0 else { return }
        guard let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
        else {
            return  // The reader names a file it cannot open.
        }
        let age = now.timeIntervalSince(modified)
        if age < Double(settleSeconds) {
            throw SyncError(
                .source,
                "\(path) changed \(max(0, Int(age))) seconds ago, less than source.settle_seconds (\(settleSeconds)); nothing was read",
                hint: "it may still be being written; run again later. Exports are safest written to a temporary "
                    + "name and renamed into place when complete (then settle_seconds can stay 0)")
        }
    }

    /// The error for a record longer than the limit.
    func tooLong(_ file: String, line: Int, what: String) -> SyncError {
        SyncError(
            .source,
            "\(file):\(line): \(what) starting here is longer than source.max_record_bytes (\(maxRecordBytes) bytes)",
            hint: "look for a quote that never closes or a missing line end near that line; "
                + "raise source.max_record_bytes if records really are this long")
    }
}
