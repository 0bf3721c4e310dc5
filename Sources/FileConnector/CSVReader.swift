import ConnectorCore

#if canImport(Glibc)
    import Glibc
#endif

/// A streaming RFC 4180 reader over bytes: quoted fields, doubled quotes,
/// embedded newlines, CRLF or LF, a UTF-8 byte-order mark, any one-byte
/// delimiter. It reads the input in blocks, so a file of any size takes
/// a few megabytes, and numbers lines for every error.
///
/// Fields are decoded as UTF-8 (invalid bytes are an error); an empty field
/// is `nil`. A quote inside an unquoted field is kept as text, as most
/// spreadsheet programs do; a quoted field that never closes is an error.
public final class CSVReader {
    /// The file name used in messages.
    public let name: String
    private let delimiter: UInt8
    private let fd: Int32
    private let ownsDescriptor: Bool
    // Raw memory the reader owns, not arrays: an array property of a class costs a retain
    // and an exclusivity check on every access, twice a field on millions of records.
    private var buffer: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private let maxRecordBytes: Int
    private let blockSize: Int
    private var start = 0
    private var end = 0
    private var eof: Bool
    private var line = 1
    private var spans: UnsafeMutablePointer<Span>
    private var spanCapacity = 64
    private var spanCount = 0

    /// Where a field of the record just parsed lies in the buffer.
    private struct Span {
        var from: Int
        var to: Int
        var escaped: Bool
        var line: Int
    }

    /// The fields of the last record read.
    public private(set) var fields: [String?] = []
    /// Columns to leave undecoded (always `nil` in ``fields``): those nobody reads.
    public var skippedColumns: [Bool] = []
    /// The line the last record started on (1-based).
    public private(set) var recordLine = 0

    private static let quote = UInt8(ascii: "\"")
    private static let cr = UInt8(ascii: "\r")
    private static let lf = UInt8(ascii: "\n")

    /// Opens a file.
    /// - Parameters:
    ///   - path: the file's path.
    ///   - name: how messages name the file; the path by default.
    ///   - delimiter: the field separator.
    /// - Throws: ``SyncError`` when the file cannot be opened.
    public convenience init(
        path: String, name: String? = nil, delimiter: UInt8 = UInt8(ascii: ","), maxRecordBytes: Int = 16 << 20
    ) throws {
        try self.init(path: path, name: name, delimiter: delimiter, maxRecordBytes: maxRecordBytes, blockSize: 1 << 20)
    }

    /// Opens a file to be read at most `blockSize` bytes at a time: tests make it tiny, so that
    /// records, quotes and line ends fall across every buffer boundary.
    init(path: String, name: String?, delimiter: UInt8, maxRecordBytes: Int, blockSize: Int) throws {
        self.name = name ?? path
        self.delimiter = delimiter
        self.maxRecordBytes = maxRecordBytes
        self.blockSize = max(1, blockSize)
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw SyncError(
                .source, "cannot open \(path): \(String(cString: strerror(errno)))",
                hint: "check source.path and that this user may read the file")
        }
        ownsDescriptor = true
        capacity = min(1 << 20, maxRecordBytes)
        buffer = .allocate(capacity: capacity)
        spans = .allocate(capacity: spanCapacity)
        eof = false
        try skipByteOrderMark()
    }

    /// Reads from bytes in memory (for tests and small inputs).
    public init(bytes: [UInt8], name: String = "input", delimiter: UInt8 = UInt8(ascii: ",")) throws {
        self.name = name
        self.delimiter = delimiter
        maxRecordBytes = max(bytes.count, 1)
        blockSize = maxRecordBytes
        fd = -1
        ownsDescriptor = false
        capacity = max(bytes.count, 1)
        buffer = .allocate(capacity: capacity)
        buffer.initialize(from: bytes, count: bytes.count)
        spans = .allocate(capacity: spanCapacity)
        end = bytes.count
        eof = true
        try skipByteOrderMark()
    }

    deinit {
        if ownsDescriptor { close(fd) }
        buffer.deallocate()
        spans.deallocate()
    }

    /// Reads the next record into ``fields``.
    /// - Returns: `false` at the end of the input.
    /// - Throws: ``SyncError`` naming the file and line of an unbalanced quote, a stray character
    ///   after a closing quote, invalid UTF-8 or a read error.
    public func next() throws -> Bool {
        guard let record = try nextRecord({ $0 }) else { return false }
        fields = record
        return true
    }

    /// Reads the next record and makes each field into a value: the way to read millions of
    /// records, as each field is decoded once, straight into the array returned.
    /// - Parameter make: what to make of a field's text.
    /// - Returns: one value per field, `nil` for an empty or skipped field; `nil` at the end of the input.
    /// - Throws: as ``next()``.
    public func nextRecord<Value>(_ make: (String) -> Value) throws -> [Value?]? {
        while true {
            // Skip blank lines between records.
            while true {
                if start == end {
                    if eof { return nil }
                    try refill()
                    continue
                }
                if buffer[start] == Self.lf {
                    start += 1
                    line += 1
                } else if buffer[start] == Self.cr {
                    if start + 1 == end && !eof { try refill(); continue }
                    start += 1
                    if start < end && buffer[start] == Self.lf { start += 1 }
                    line += 1
                } else {
                    break
                }
            }
            if let consumed = try parseRecord() {
                start = consumed
                return try decode(make)
            }
            // The record runs past the buffer: read more and parse it again.
            try refill()
        }
    }

    /// Finds the fields of one record at `start` (into ``spans``); `nil` when the buffer ends
    /// before the record does. Nothing is decoded until the whole record is in.
    private func parseRecord() throws -> Int? {
        // perf: The loop works on locals: a class's properties cost an exclusivity check per access.
        let b = buffer, end = end, eof = eof, delimiter = delimiter, line = line
        recordLine = line
        var newlines = 0
        var count = 0
        func append(_ span: Span) {
            if count == spanCapacity { growSpans() }
            spans[count] = span
            count += 1
        }
        let consumed = try { () throws -> Int? in
            var i = start
            while true {
                if i < end && b[i] == Self.quote {
                    // A quoted field.
                    let quoteLine = line + newlines
                    var j = i + 1
                    var escaped = false
                    while true {
                        while j < end && b[j] != Self.quote {
                            if b[j] == Self.lf { newlines += 1 }
                            j += 1
                        }
                        if j >= end {
                            if eof {
                                throw error(
                                    line: quoteLine, "a quoted field opens here and never closes",
                                    hint: "close the quote, or double any quote inside the field (\"\")")
                            }
                            return nil
                        }
                        if j + 1 < end && b[j + 1] == Self.quote {
                            escaped = true
                            j += 2
                            continue
                        }
                        if j + 1 >= end && !eof { return nil }
                        break
                    }
                    append(Span(from: i + 1, to: j, escaped: escaped, line: quoteLine))
                    i = j + 1
                    if i < end && b[i] != delimiter && b[i] != Self.lf && b[i] != Self.cr {
                        throw error(
                            line: line + newlines, "text follows a closing quote in field \(count)",
                            hint: "quote the whole field, and double quotes inside it (\"\")")
                    }
                } else {
                    var j = i
                    while j < end && b[j] != delimiter && b[j] != Self.lf && b[j] != Self.cr { j += 1 }
                    if j >= end && !eof { return nil }
                    append(Span(from: i, to: j, escaped: false, line: line + newlines))
                    i = j
                }
                // After a field: a delimiter, the end of the record, or the end of the input.
                if i >= end {
                    if !eof { return nil }
                    return i
                }
                if b[i] == delimiter {
                    i += 1
                    continue
                }
                if b[i] == Self.cr {
                    if i + 1 >= end && !eof { return nil }
                    i += 1
                    if i < end && b[i] == Self.lf { i += 1 }
                } else {
                    i += 1
                }
                newlines += 1
                return i
            }
        }()
        spanCount = count
        if consumed != nil { self.line = line + newlines }
        return consumed
    }

    private func growSpans() {
        let grown = UnsafeMutablePointer<Span>.allocate(capacity: spanCapacity * 2)
        grown.initialize(from: spans, count: spanCapacity)
        spans.deallocate()
        spans = grown
        spanCapacity *= 2
    }

    /// The fields of the record just parsed, decoded as UTF-8 and made into values.
    private func decode<Value>(_ make: (String) -> Value) throws -> [Value?] {
        let b = buffer, skipped = skippedColumns
        var values: [Value?] = []
        values.reserveCapacity(spanCount)
        for n in 0..<spanCount {
            let span = spans[n]
            if span.from == span.to || (n < skipped.count && skipped[n]) {
                values.append(nil)
                continue
            }
            let text: String?
            if span.escaped {
                var unescaped: [UInt8] = []
                unescaped.reserveCapacity(span.to - span.from)
                var k = span.from
                while k < span.to {
                    unescaped.append(b[k])
                    k += b[k] == Self.quote ? 2 : 1
                }
                text = String(validating: unescaped, as: UTF8.self)
            } else {
                text = UTF8Text.string(UnsafeBufferPointer(start: b + span.from, count: span.to - span.from))
            }
            guard let text else {
                throw error(
                    line: span.line, "field \(n + 1) is not valid UTF-8",
                    hint: "save the file as UTF-8 (in Excel: CSV UTF-8)")
            }
            values.append(make(text))
        }
        return values
    }

    /// Moves the unread bytes to the front and reads more after them.
    private func refill() throws {
        guard !eof else { return }
        if start > 0 {
            let remaining = end - start
            if remaining > 0 { memmove(buffer, buffer + start, remaining) }
            end = remaining
            start = 0
        }
        if end == capacity {
            // A record longer than the buffer: double it, up to the limit (an unclosed quote
            // in a 5 GB file must fail naming its line, not take all memory).
            guard capacity < maxRecordBytes else {
                throw error(
                    line: recordLine,
                    "the record starting here is longer than source.max_record_bytes "
                        + "(\(maxRecordBytes) bytes)",
                    hint: "look for a quote that never closes near that line; raise source.max_record_bytes "
                        + "if records really are this long")
            }
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: min(capacity * 2, maxRecordBytes))
            grown.initialize(from: buffer, count: end)
            buffer.deallocate()
            buffer = grown
            capacity = min(capacity * 2, maxRecordBytes)
        }
        let count = read(fd, buffer + end, min(capacity - end, blockSize))
        if count < 0 {
            throw SyncError(.source, "\(name): read failed: \(String(cString: strerror(errno)))")
        }
        if count == 0 { eof = true }
        end += count
    }

    private func skipByteOrderMark() throws {
        while end - start < 3 && !eof { try refill() }
        if end - start >= 3 && buffer[start] == 0xEF && buffer[start + 1] == 0xBB && buffer[start + 2] == 0xBF {
            start += 3
        }
    }

    /// An error at a line of this file.
    func error(line: Int, _ message: String, hint: String? = nil) -> SyncError {
        SyncError(.source, "\(name):\(line): \(message)", hint: hint)
    }
}
