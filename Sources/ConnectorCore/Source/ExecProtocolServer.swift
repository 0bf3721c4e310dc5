import Foundation

/// Serves a ``UserSource`` over the exec protocol on standard output, so a Swift connector can be a
/// small program of its own that an installed `compliance-sync` runs (`source.type: exec`):
/// build only the connector, not the whole command line.
///
///     @main struct AcmeExport {
///         static func main() async {
///             await ExecProtocolServer.main(AcmeSource(settings: .fromEnvironment()))
///         }
///     }
///
/// It prints the protocol's header, one line a record (`{"id": …, "attributes": {…}}`; several
/// values as a list, binary values as `{"base64": …}`), and the end line with the count, so a run
/// whose read stopped early can never pass for a whole one. A read that throws prints its error on
/// standard error and exits with status 1 after the records so far, with no end line: the run fails
/// and nothing is sent.
public enum ExecProtocolServer {
    /// The protocol's first line.
    static let header = #"{"protocol":"compliance-sync.records","version":1}"#

    /// Reads every record of `source`, writing the protocol through `write`.
    /// - Returns: how many records were written.
    /// - Throws: the source's error, after the lines written before it.
    public static func serve(_ source: some UserSource, write: (Data) throws -> Void) async throws -> Int {
        var buffer = Data(header.utf8)
        buffer.append(0x0A)
        var count = 0
        do {
            for try await record in source.records() {
                buffer.append(try line(for: record))
                buffer.append(0x0A)
                count += 1
                if buffer.count >= 1 << 16 {
                    try write(buffer)
                    buffer.removeAll(keepingCapacity: true)
                }
            }
        } catch {
            try? write(buffer)  // the records so far, and no end line: the reader cannot take them as whole
            throw error
        }
        buffer.append(contentsOf: Array(#"{"end":{"records":\#(count)}}"#.utf8))
        buffer.append(0x0A)
        try write(buffer)
        return count
    }

    /// Serves `source` on standard output and exits: status 0 when every record was written, 1 with
    /// the error on standard error when the read failed.
    public static func main(_ source: some UserSource) async -> Never {
        do {
            _ = try await serve(source) { try FileHandle.standardOutput.write(contentsOf: $0) }
            exit(0)
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            exit(1)
        }
    }

    /// One record's line.
    static func line(for record: SourceRecord) throws -> Data {
        var attributes: [String: Any] = [:]
        for (name, value) in zip(record.schema.names, record.values) {
            guard let value, attributes[name] == nil else { continue }
            switch value {
            case .text(let text): attributes[name] = text
            case .multiple(let texts): attributes[name] = texts
            case .binary(let data): attributes[name] = ["base64": data.base64EncodedString()]
            }
        }
        return try JSONSerialization.data(
            withJSONObject: ["id": record.id, "attributes": attributes],
            options: [.sortedKeys, .withoutEscapingSlashes])
    }
}
