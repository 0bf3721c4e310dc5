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
struct JSONLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .notice

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields: [String: String] = [
            "time": JSONLogHandler.time(Date()), "level": event.level.rawValue, "message": "\(event.message)",
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
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
struct JournalLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .notice

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 })
        let extra = all.keys.sorted().map { " \($0)=\(all[$0]!)" }.joined()
        let line = "\(event.level.rawValue): \(event.message)\(extra)\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}
