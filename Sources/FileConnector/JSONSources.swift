import ConnectorCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// People from a JSON file: JSON Lines (one object per line, `source.type: jsonl`)
/// or one array of objects (`source.type: json`), read object by object, never whole.
///
/// Settings: `path` and `id` (the key that identifies a person), and the ``FileLimits``
/// settings `max_record_bytes` and `settle_seconds`. Blank lines are skipped.
public struct JSONFileSource: UserSource {
    /// How the objects are laid out in the file.
    public enum Layout: Sendable {
        /// One object per line.
        case lines
        /// One array of objects.
        case array
    }

    /// The file.
    public var path: String
    /// The key that identifies a person.
    public var idKey: String
    /// How the objects are laid out.
    public var layout: Layout
    /// The longest object, and how settled the file must be.
    public var limits: FileLimits

    /// Creates a JSON source.
    public init(path: String, idKey: String, layout: Layout, limits: FileLimits = FileLimits()) {
        self.path = path
        self.idKey = idKey
        self.layout = layout
        self.limits = limits
    }

    public var description: String { "\(layout == .lines ? "jsonl" : "json") \(path)" }

    public func records() -> ThreadedRecordStream {
        ThreadedRecordStream(name: "json-reader") { [path, idKey, layout, limits] emitter in
            try limits.checkSettled(path)
            let input = try ChunkedFile(path: path)
            let file = (path as NSString).lastPathComponent
            switch layout {
            case .lines:
                var lineNumber = 0
                try input.forEachLine(limits: limits) { line in
                    lineNumber += 1
                    guard
                        line.contains(where: {
                            $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") && $0 != UInt8(ascii: "\r")
                        })
                    else { return }
                    try emitter.emit(
                        JSONRecords.record(from: line, idKey: idKey, location: .line(lineNumber, of: file)))
                }
            case .array:
                try JSONArraySplitter(input: input, file: file, limits: limits).forEachElement { bytes, line in
                    try emitter.emit(JSONRecords.record(from: bytes, idKey: idKey, location: .line(line, of: file)))
                }
            }
        }
    }
}

/// `source.type: jsonl`: a JSON Lines file.
public enum JSONLinesConnector: SourceConnector {
    public static let type = "jsonl"
    public static let summary = "a JSON Lines file, one object per line: path, id"

    public static func makeSource(section: ConfigSection, context: SourceContext) throws -> any UserSource {
        let (path, id) = try fileSettings(section, context)
        return JSONFileSource(path: path, idKey: id, layout: .lines, limits: try FileLimits(section: section))
    }
}

/// `source.type: json`: a JSON file holding an array of objects.
public enum JSONArrayConnector: SourceConnector {
    public static let type = "json"
    public static let summary = "a JSON file holding an array of objects: path, id"

    public static func makeSource(section: ConfigSection, context: SourceContext) throws -> any UserSource {
        let (path, id) = try fileSettings(section, context)
        return JSONFileSource(path: path, idKey: id, layout: .array, limits: try FileLimits(section: section))
    }
}

private func fileSettings(_ section: ConfigSection, _ context: SourceContext) throws -> (String, String) {
    guard let path = try section.path("path", relativeTo: context.folder) else {
        throw section.node.error("needs `path:`, the file to read")
    }
    let id = try section.requiredString("id", hint: "name the key that identifies a person, e.g. `id: employee_id`")
    return (path, id)
}

/// A file read in blocks.
final class ChunkedFile {
    let path: String
    private let fd: Int32

    init(path: String) throws {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw SyncError(
                .source, "cannot open \(path): \(String(cString: strerror(errno)))",
                hint: "check source.path and that this user may read the file")
        }
    }

    deinit { close(fd) }

    /// Calls `body` with each block of bytes; an empty block means the end.
    func forEachBlock(_ body: (ArraySlice<UInt8>) throws -> Void) throws {
        var block = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = block.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw SyncError(.source, "\(path): read failed: \(String(cString: strerror(errno)))")
            }
            try body(block[0..<count])
            if count == 0 { return }
        }
    }

    /// Calls `body` with each line's bytes, without its line ending.
    /// - Throws: ``SyncError`` naming the line when one is longer than `limits.maxRecordBytes`.
    func forEachLine(limits: FileLimits = FileLimits(), _ body: ([UInt8]) throws -> Void) throws {
        var pending: [UInt8] = []
        var line = 1
        func checked(_ count: Int) throws {
            guard count <= limits.maxRecordBytes else { throw limits.tooLong(path, line: line, what: "the line") }
        }
        try forEachBlock { block in
            if block.isEmpty {
                if !pending.isEmpty { try body(pending) }
                return
            }
            var from = block.startIndex
            while let newline = block[from...].firstIndex(of: 10) {
                try checked(pending.count + newline - from)
                pending.append(contentsOf: block[from..<newline])
                try body(pending)
                pending.removeAll(keepingCapacity: true)
                from = newline + 1
                line += 1
            }
            try checked(pending.count + block.endIndex - from)
            pending.append(contentsOf: block[from...])
        }
    }
}

/// Cuts a top-level JSON array into its elements' bytes, tracking strings,
/// escapes and nesting, so each element is parsed on its own.
struct JSONArraySplitter {
    let input: ChunkedFile
    let file: String
    var limits = FileLimits()

    func forEachElement(_ body: ([UInt8], Int) throws -> Void) throws {
        enum State { case beforeArray, betweenElements, inElement, afterArray }
        var state = State.beforeArray
        var element: [UInt8] = []
        var depth = 0, inString = false, escaped = false
        var line = 1, elementLine = 1
        var first = true
        func fail(_ message: String) -> SyncError {
            SyncError(.source, "\(file):\(line): \(message)", hint: "the file must hold one JSON array of objects")
        }
        try input.forEachBlock { block in
            if block.isEmpty {
                if state != .afterArray { throw fail("the file ends before the array closes") }
                return
            }
            var bytes = block[...]
            if first {
                first = false
                if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
            }
            for byte in bytes {
                if byte == UInt8(ascii: "\n") { line += 1 }
                switch state {
                case .beforeArray:
                    if isSpace(byte) { continue }
                    guard byte == UInt8(ascii: "[") else { throw fail("expected `[` to open the array") }
                    state = .betweenElements
                case .betweenElements:
                    if isSpace(byte) || byte == UInt8(ascii: ",") { continue }
                    if byte == UInt8(ascii: "]") { state = .afterArray; continue }
                    state = .inElement
                    elementLine = line
                    element.removeAll(keepingCapacity: true)
                    element.append(byte)
                    depth = byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") ? 1 : 0
                    inString = byte == UInt8(ascii: "\"")
                    if depth == 0 && !inString { throw fail("an array element is not an object") }
                case .inElement:
                    guard element.count < limits.maxRecordBytes else {
                        throw limits.tooLong(file, line: elementLine, what: "the array element")
                    }
                    element.append(byte)
                    if inString {
                        if escaped {
                            escaped = false
                        } else if byte == UInt8(ascii: "\\") {
                            escaped = true
                        } else if byte == UInt8(ascii: "\"") {
                            inString = false
                        }
                        continue
                    }
                    switch byte {
                    case UInt8(ascii: "\""): inString = true
                    case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        depth -= 1
                        if depth == 0 {
                            try body(element, elementLine)
                            state = .betweenElements
                        }
                    default: break
                    }
                case .afterArray:
                    if !isSpace(byte) { throw fail("text follows the end of the array") }
                }
            }
        }
    }

    private func isSpace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
            || byte == UInt8(ascii: "\t")
    }
}
