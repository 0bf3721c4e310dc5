import CLibPQ
import ConnectorCore
import Foundation

/// What a statement returns, before it runs.
public struct StatementDescription: Equatable, Sendable {
    /// The result's column names, in order.
    public var names: [String]
    /// Their type OIDs.
    public var types: [UInt32]
    /// How many `$n` parameters it takes.
    public var parameterCount: Int

    /// The same columns, taking no parameters.
    public var withoutParameters: StatementDescription {
        StatementDescription(names: names, types: types, parameterCount: 0)
    }
}

extension PostgresConnection {
    /// Parses and plans a statement without running it (the unnamed prepared statement), and
    /// says what it returns. Errors read as running it would: SQLSTATE, message, position.
    /// - Parameters:
    ///   - sql: the statement.
    ///   - parameterCount: the values that will be given for `$1`, `$2`…
    ///   - doing: what this is, for messages.
    public func describe(_ sql: String, parameterCount: Int, doing: String) throws -> StatementDescription {
        let prepared = PQprepare(handle, "", sql, Int32(parameterCount), nil)
        defer { PQclear(prepared) }
        try check(prepared, doing: doing)
        let described = PQdescribePrepared(handle, "")
        defer { PQclear(described) }
        try check(described, doing: doing)
        guard let described else { throw failure(doing: doing, message: Self.clean(PQerrorMessage(handle))) }
        let columns = 0..<PQnfields(described)
        return StatementDescription(
            names: columns.map { String(cString: PQfname(described, $0)) },
            types: columns.map { PQftype(described, $0) },
            parameterCount: Int(PQnparams(described)))
    }

    /// A value as an SQL literal the server reads back as that text (`PQescapeLiteral`, which
    /// knows the connection's encoding and quoting rules); `NULL` for `nil`.
    public func literal(_ value: String?) throws -> String {
        guard let value else { return "NULL" }
        let count = value.utf8.count
        guard let quoted = PQescapeLiteral(handle, value, count) else {
            throw failure(doing: "quoting a parameter", message: Self.clean(PQerrorMessage(handle)))
        }
        defer { PQfreemem(quoted) }
        return String(cString: quoted)
    }

    /// Runs `COPY (query) TO STDOUT` (text format) and hands each row to `body` as it arrives,
    /// so memory does not grow with the result. An error part-way throws after the rows before
    /// it were handed over; the caller must then discard them. When `body` throws, the server
    /// is told to stop and what it already sent is drained.
    /// - Parameters:
    ///   - query: a query with no parameters, as ``CopyQuery`` makes it.
    ///   - columns: how many columns it returns.
    ///   - doing: what this is, for messages.
    ///   - body: called once per row; the row is valid only during the call.
    public func copy(_ query: String, columns: Int, doing: String, _ body: (CopyRow) throws -> Void) throws {
        let started = PQexec(handle, "COPY (\n\(query)\n) TO STDOUT")
        defer { PQclear(started) }
        try check(started, doing: doing)
        guard PQresultStatus(started) == PGRES_COPY_OUT else {
            throw failure(doing: doing, message: "the server did not start sending rows")
        }
        var thrown: (any Error)?
        var row = CopyRow(columns: columns)
        var rows = 0
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let length = PQgetCopyData(handle, &buffer, 0)
            guard length > 0, let buffer else { break }
            defer { PQfreemem(buffer) }
            guard thrown == nil else { continue }
            rows += 1
            do {
                let whole = buffer.withMemoryRebound(to: UInt8.self, capacity: Int(length)) {
                    row.read(UnsafeMutableBufferPointer(start: $0, count: Int(length)))
                }
                guard whole else {
                    throw SyncError(
                        kind, "\(server): \(doing): row \(rows) from COPY does not have the query's \(columns) columns",
                        hint: "report this: the server's COPY output was not understood, and nothing was sent")
                }
                try body(row)
            } catch {
                thrown = error
                cancelRunningStatement()
            }
        }
        // The COPY counts as whole only on the server's own word that it completed: a stream that
        // ended any other way (a lost connection libpq reports only in its message) fails the read.
        var failed: (any Error)?
        var completed = false
        while let result = PQgetResult(handle) {
            defer { PQclear(result) }
            if PQresultStatus(result) == PGRES_COMMAND_OK { completed = true }
            if failed == nil { do { try check(result, doing: doing) } catch { failed = error } }
        }
        if let error = thrown ?? failed { throw error }
        guard completed else { throw failure(doing: doing, message: Self.clean(PQerrorMessage(handle))) }
    }
}

/// One row of `COPY … TO STDOUT` in text format, unescaped in place; valid only inside the call
/// that hands it over. Reads like ``PostgresRow``: the same text for every value.
public struct CopyRow: PostgresRowValues {
    private var starts: [Int]
    private var lengths: [Int]  // -1 for NULL
    private var base: UnsafeMutableBufferPointer<UInt8> = .init(start: nil, count: 0)

    init(columns: Int) {
        starts = Array(repeating: 0, count: columns)
        lengths = Array(repeating: -1, count: columns)
    }

    /// Splits a line at its tabs and undoes COPY's backslash escapes, in place.
    /// - Returns: `false` when the line does not have exactly the row's columns.
    mutating func read(_ line: UnsafeMutableBufferPointer<UInt8>) -> Bool {
        base = line
        var end = line.count
        if end > 0 && line[end - 1] == UInt8(ascii: "\n") { end -= 1 }
        var column = 0
        var read = 0
        while column < starts.count {
            guard read <= end else { return false }
            var write = read
            let start = read
            var isNull = false
            while read < end && line[read] != UInt8(ascii: "\t") {
                let c = line[read]
                guard c == UInt8(ascii: "\\"), read + 1 < end else {
                    line[write] = c
                    write += 1
                    read += 1
                    continue
                }
                let next = line[read + 1]
                read += 2
                switch next {
                case UInt8(ascii: "N") where read - 2 == start && (read == end || line[read] == UInt8(ascii: "\t")):
                    isNull = true
                case UInt8(ascii: "b"): line[write] = 8
                case UInt8(ascii: "f"): line[write] = 12
                case UInt8(ascii: "n"): line[write] = 10
                case UInt8(ascii: "r"): line[write] = 13
                case UInt8(ascii: "t"): line[write] = 9
                case UInt8(ascii: "v"): line[write] = 11
                case UInt8(ascii: "0")...UInt8(ascii: "7"):
                    var value = Int(next - 48)
                    for _ in 0..<2 where read < end && (48...55).contains(line[read]) {
                        value = value * 8 + Int(line[read] - 48)
                        read += 1
                    }
                    line[write] = UInt8(truncatingIfNeeded: value)
                case UInt8(ascii: "x") where read < end && line[read].isHexDigit:
                    var value = Int(line[read].hexValue)
                    read += 1
                    if read < end && line[read].isHexDigit {
                        value = value * 16 + Int(line[read].hexValue)
                        read += 1
                    }
                    line[write] = UInt8(value)
                default: line[write] = next
                }
                if !isNull { write += 1 }
            }
            starts[column] = start
            lengths[column] = isNull ? -1 : write - start
            column += 1
            read += 1  // the tab
        }
        return read > end
    }

    public func isNull(_ column: Int) -> Bool { lengths[column] < 0 }

    public func bytes(_ column: Int) -> UnsafeRawBufferPointer {
        guard lengths[column] > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: base.baseAddress! + starts[column], count: lengths[column])
    }
}

extension UInt8 {
    fileprivate var isHexDigit: Bool { (48...57).contains(self) || (97...102).contains(self | 0x20) }
    fileprivate var hexValue: UInt8 { self <= 57 ? self - 48 : (self | 0x20) - 87 }
}
