import Foundation
import Logging
import SyncCore

/// How log lines look on standard error (`--log-format`).
enum LogFormat: String, CaseIterable {
    /// Readable lines; under systemd (`JOURNAL_STREAM` set) without our own timestamps,
    /// which the journal adds.
    case text
    /// One JSON object a line, for log shippers: time, level, message, and the metadata.
    case json
}

/// Writes one JSON object a line: `{"time":…,"level":…,"message":…,"job":…,"run":…}`.
struct JSONLogHandler: MetadataLogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .notice

    func log(event: LogEvent) {
        var fields: [String: String] = [
            "time": JSONLogHandler.time(Date()), "level": event.level.rawValue, "message": "\(event.message)",
        ]
        for (key, value) in metadata(of: event) {
            fields[key] = "\(value)"
        }
        var line: [UInt8] = [UInt8(ascii: "{")]
        for (i, key) in fields.keys.sorted().enumerated() {
            if i > 0 { line.append(UInt8(ascii: ",")) }
            JSONWriter.appendQuoted(key, to: &line)
            line.append(UInt8(ascii: ":"))
            JSONWriter.appendQuoted(fields[key]!, to: &line)
        }
        line += Array("}\n".utf8)
        line.withUnsafeBytes { _ = Foundation.write(2, $0.baseAddress, $0.count) }
    }

    /// ISO 8601 in UTC with milliseconds.
    static func time(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        let milliseconds = Int((seconds - seconds.rounded(.down)) * 1000)
        let whole = Timestamps.iso(date).dropLast()  // no Z
        return whole + "." + String(milliseconds + 1000).dropFirst() + "Z"
    }
}

/// Plain `level: message key=value` lines, for the journal, which stamps the time itself.
struct JournalLogHandler: MetadataLogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .notice

    func log(event: LogEvent) {
        let all = metadata(of: event)
        let extra = all.keys.sorted().map { " \($0)=\(all[$0]!)" }.joined()
        let line = "\(event.level.rawValue): \(event.message)\(extra)\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}

/// What the two handlers share: metadata set on the logger, merged with a line's own.
protocol MetadataLogHandler: LogHandler {}

extension MetadataLogHandler {
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// The logger's metadata with the line's on top.
    func metadata(of event: LogEvent) -> Logger.Metadata {
        metadata.merging(event.metadata ?? [:]) { $1 }
    }
}
