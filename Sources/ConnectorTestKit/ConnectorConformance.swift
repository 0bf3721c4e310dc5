import ConnectorCore
import Foundation

/// Checks that a ``UserSource`` keeps the contract the sync engine relies on.
///
/// Give it a way to make the source over test data and a way to make one whose
/// read fails part-way; ``verify()`` throws a ``ConformanceFailure`` listing
/// every rule broken. It works under Swift Testing or XCTest:
///
///     @Test func conformance() async throws {
///         try await ConnectorConformance(
///             source: { WorkdaySource(path: good) },
///             failing: { WorkdaySource(path: brokenHalfWay) }
///         ).verify()
///     }
///
/// The rules:
/// - **Ids** are non-empty, without control characters, and unique within a read; two
///   reads of the same data give the same ids, each naming the same record (an id that
///   follows a row's position rather than the person would move people between reads).
/// - **Errors propagate**: a read that fails part-way throws an error that says what went
///   wrong; it never just ends early, which would look like "everyone else left", and it
///   does not throw `CancellationError`, which reads as "stopped on purpose".
/// - **Cancellation**: a read whose task is cancelled ends (returns `nil` or throws)
///   within ``cancellationTimeout`` of the cancellation, and so does one the consumer stops
///   early (counted from the first record).
/// - **Values**: attribute names are non-empty and unique within a record, a
///   multi-valued attribute holds at least one value, no text holds a NUL character, and
///   every record says where it came from (``SourceRecord/location``, not empty) so errors
///   can name it.
public struct ConnectorConformance: Sendable {
    /// Makes a source to check.
    public typealias Factory = @Sendable () async throws -> any UserSource

    /// Makes the source over good test data (at least one record).
    public var makeSource: Factory
    /// Makes a source whose read fails part-way.
    public var makeFailingSource: Factory
    /// How long a cancelled read may take to end.
    public var cancellationTimeout: Duration = .seconds(10)

    /// Creates the check.
    /// - Parameters:
    ///   - source: makes the source over good test data; called for each read.
    ///   - failing: makes a source whose read throws part-way (a bad line, a dropped connection).
    public init(source: @escaping Factory, failing: @escaping Factory) {
        makeSource = source
        makeFailingSource = failing
    }

    /// Runs every check.
    /// - Returns: what was found; empty ``ConformanceReport/problems`` means the source conforms.
    public func run() async -> ConformanceReport {
        var report = ConformanceReport()
        do {
            let first = try await readAll(makeSource())
            let second = try await readAll(makeSource())
            report.recordsRead = first.count
            checkIDs(first, second, into: &report)
            checkValues(first, into: &report)
        } catch {
            report.problems.append("reading the source failed: \(error)")
        }
        await checkFailure(into: &report)
        await checkCancellation(into: &report)
        return report
    }

    /// Runs every check and throws if any rule is broken.
    /// - Throws: ``ConformanceFailure`` listing the problems.
    public func verify() async throws {
        let report = await run()
        if !report.problems.isEmpty { throw ConformanceFailure(problems: report.problems) }
    }

    private func checkIDs(_ first: [SourceRecord], _ second: [SourceRecord], into report: inout ConformanceReport) {
        if first.isEmpty {
            report.problems.append("the source read no records: give the check a source over some test data")
        }
        for (index, record) in first.enumerated() where record.id.isEmpty {
            report.problems.append(
                "record \(index + 1) (\(record.location?.description ?? "no location")) has an empty id")
        }
        for (index, record) in first.enumerated() {
            guard let offset = record.id.unicodeScalars.firstIndex(where: { $0.value < 32 || $0.value == 127 }) else {
                continue
            }
            let position = record.id.unicodeScalars.distance(from: record.id.unicodeScalars.startIndex, to: offset)
            report.problems.append(
                "record \(index + 1)'s id has a control character (at character \(position + 1)): "
                    + "the engine sets such a record aside as invalid")
        }
        var seen: [String: Int] = [:]
        for (index, record) in first.enumerated() where !record.id.isEmpty {
            if let earlier = seen.updateValue(index, forKey: record.id) {
                report.problems.append("the id \(record.id) is given twice (records \(earlier + 1) and \(index + 1))")
            }
        }
        let again = Dictionary(second.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var moved = 0
        for record in first {
            guard let other = again[record.id], Self.attributes(of: record) != Self.attributes(of: other) else {
                continue
            }
            moved += 1
            if moved <= 5 {
                report.problems.append(
                    "the id \(record.id) names a different record in the second read of the same data: "
                        + "an id must follow the person, not the row's position or the time of the read")
            }
        }
        let a = Set(first.map(\.id)), b = Set(second.map(\.id))
        if a != b || first.count != second.count {
            let missing = a.subtracting(b).sorted().prefix(5), extra = b.subtracting(a).sorted().prefix(5)
            report.problems.append(
                "two reads gave different ids (\(first.count) then \(second.count) records; "
                    + "missing the second time: \(missing.joined(separator: ", ")); new: \(extra.joined(separator: ", ")))"
            )
        }
    }

    /// A record's attributes by name, whatever their order.
    private static func attributes(of record: SourceRecord) -> [String: AttributeValue] {
        var result: [String: AttributeValue] = [:]
        for (name, value) in zip(record.schema.names, record.values) { result[name] = value }
        return result
    }

    private func checkValues(_ records: [SourceRecord], into report: inout ConformanceReport) {
        var reported = Set<String>()
        func problem(_ text: String) {
            if reported.insert(text).inserted && reported.count <= 20 { report.problems.append(text) }
        }
        for record in records {
            let name = "record \(record.id)"
            if record.location == nil { problem("\(name) has no location: errors could not say where it came from") }
            if let location = record.location, location.description.allSatisfy(\.isWhitespace) {
                problem("\(name) has an empty location: errors could not say where it came from")
            }
            if Set(record.schema.names).count != record.schema.names.count {
                problem("\(name) has an attribute name twice: \(record.schema.names)")
            }
            for (attribute, value) in zip(record.schema.names, record.values) {
                if attribute.isEmpty { problem("\(name) has an attribute with an empty name") }
                if case .multiple(let values)? = value, values.isEmpty {
                    problem("\(name) has `\(attribute)` as an empty list: an attribute without values is absent (nil)")
                }
                let texts: [String] =
                    switch value {
                    case .text(let text)?: [text]
                    case .multiple(let texts)?: texts
                    default: []
                    }
                if texts.contains(where: { $0.utf8.contains(0) }) {
                    problem("\(name) has a NUL character in `\(attribute)`: decode the value, or give it as binary")
                }
            }
        }
    }

    private func checkFailure(into report: inout ConformanceReport) async {
        var count = 0
        do {
            for try await _ in try await makeFailingSource().records() { count += 1 }
            report.problems.append(
                "the failing source ended normally after \(count) records: a read that fails must throw, not stop early"
            )
        } catch is CancellationError {
            report.problems.append(
                "the failing source threw CancellationError after \(count) records: a read that fails must say "
                    + "why (a SyncError naming the record or line), not look as if it was stopped on purpose")
        } catch {
            report.failingReadError = "\(error)"
            if "\(error)".allSatisfy(\.isWhitespace) {
                report.problems.append("the failing source's error says nothing: say what went wrong and where")
            }
        }
    }

    private func checkCancellation(into report: inout ConformanceReport) async {
        let make = makeSource
        // The clock starts once the read is told to stop, not when it is started: a slow start
        // (a busy machine, a server that takes its time to answer) is not a failure to stop.
        let (toldToStop, stopping) = AsyncStream<Void>.makeStream()
        let cancelled = await Self.ends(within: cancellationTimeout, after: toldToStop) {
            let reader = Task {
                var iterator = try await make().records().makeAsyncIterator()
                _ = try await iterator.next()
                withUnsafeCurrentTask { $0?.cancel() }
                stopping.finish()
                while try await iterator.next() != nil {}
            }
            _ = await reader.result
            stopping.finish()
        }
        if !cancelled {
            report.problems.append(
                "a cancelled read was still going after \(cancellationTimeout): stop reading when the task is cancelled"
            )
        }
        let (leaving, left) = AsyncStream<Void>.makeStream()
        let ended = await Self.ends(within: cancellationTimeout, after: leaving) {
            do {
                for try await _ in try await make().records() {
                    left.finish()
                    break
                }
            } catch {}
            left.finish()
        }
        if !ended {
            report.problems.append("leaving a read after the first record took longer than \(cancellationTimeout)")
        }
    }

    /// Whether `body` finishes within `timeout` of the moment `start` ends (and `start` ends
    /// within a minute more: a read whose first record never comes does not hang the kit).
    private static func ends(
        within timeout: Duration, after start: AsyncStream<Void>, _ body: @escaping @Sendable () async -> Void
    ) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await body()
                return true
            }
            group.addTask {
                let started = await withTaskGroup(of: Bool.self) { waiting in
                    waiting.addTask {
                        for await _ in start {}
                        return true
                    }
                    waiting.addTask {
                        try? await Task.sleep(for: timeout + .seconds(60))
                        return false
                    }
                    let first = await waiting.next() ?? false
                    waiting.cancelAll()
                    return first
                }
                if started { try? await Task.sleep(for: timeout) }
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }
}

/// What a conformance run found.
public struct ConformanceReport: Sendable {
    /// Each rule broken, in words; empty when the source conforms.
    public var problems: [String] = []
    /// How many records the first read gave.
    public var recordsRead = 0
    /// The error the failing source threw, when it threw.
    public var failingReadError: String?
}

/// The rules a source broke.
public struct ConformanceFailure: Error, CustomStringConvertible {
    /// Each rule broken, in words.
    public var problems: [String]

    public var description: String {
        "the source does not conform:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}
