import ConnectorCore
import Foundation
import Testing

@testable import ExecConnector

/// A Swift source served over the exec protocol (`ExecProtocolServer`) reads back, through the exec
/// source's own reader, as the same records: the two routes of a Swift connector agree.
@Suite struct ExecProtocolServerTests {
    /// A source over fixed records, failing after them when `failure` is set.
    struct FixedSource: UserSource {
        var people: [SourceRecord]
        var failure: String?
        var description: String { "fixed" }
        func records() -> AsyncThrowingStream<SourceRecord, any Error> {
            AsyncThrowingStream { continuation in
                for person in people { continuation.yield(person) }
                continuation.finish(throwing: failure.map { SyncError(.source, $0) })
            }
        }
    }

    static let people = [
        SourceRecord(
            id: "E1",
            attributes: [
                "name": .text("Zoë \"Z\" O'Brien / Ops\n"), "mail": .multiple(["z@example.com", "zo@example.com"]),
                "photo": .binary(Data([0, 1, 2, 255])), "emoji": .text("🛡️"),
            ]),
        SourceRecord(id: "E2", attributes: [:]),
        SourceRecord(id: "ü/3", attributes: ["title": .text("")]),
    ]

    /// The lines served, read back by the exec protocol's reader.
    static func roundTrip(_ source: FixedSource) async throws -> (records: [SourceRecord], end: Int?, error: String?) {
        var output = Data()
        var failure: String?
        do {
            _ = try await ExecProtocolServer.serve(source) { output.append($0) }
        } catch {
            failure = "\(error)"
        }
        var reader = ExecProtocol(place: "acme-export")
        var records: [SourceRecord] = []
        for (number, line) in output.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            if let record = try reader.read(ArraySlice(line), number: number + 1) { records.append(record) }
        }
        return (records, reader.endCount, failure)
    }

    @Test func everyKindOfValueReadsBackTheSame() async throws {
        let (records, end, failure) = try await Self.roundTrip(FixedSource(people: Self.people))
        #expect(failure == nil)
        #expect(end == 3, "the end line counts the records")
        #expect(records.map(\.id) == ["E1", "E2", "ü/3"])
        #expect(records[0].attributes == Self.people[0].attributes)
        #expect(records[1].attributes.isEmpty && records[2].attributes == Self.people[2].attributes)
    }

    @Test func aReadThatFailsEndsWithoutTheEndLine() async throws {
        let (records, end, failure) = try await Self.roundTrip(
            FixedSource(people: Array(Self.people.prefix(2)), failure: "the HR API answered 503"))
        #expect(failure?.contains("the HR API answered 503") == true)
        #expect(records.count == 2 && end == nil, "no end line: the reader cannot take the output as whole")
    }
}
