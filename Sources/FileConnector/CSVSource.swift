import ConnectorCore
import Foundation

/// People from a CSV file (`source.type: csv`).
///
/// Settings: `path` (the file, relative to the config), `id` (the column that
/// identifies a person), `delimiter` (one character, or `tab`; `,` by default),
/// `columns` (the column names, for a file without a header row), and the
/// ``FileLimits`` settings `max_record_bytes` and `settle_seconds`.
public struct CSVSource: UserSource, SourceConnector {
    public static let type = "csv"
    public static let summary = "a CSV file (RFC 4180) with a header row: path, id, delimiter, columns"

    /// The file.
    public var path: String
    /// The column that identifies a person.
    public var idColumn: String
    /// The field separator.
    public var delimiter: UInt8
    /// The column names when the file has no header row.
    public var columns: [String]?
    /// The columns to read besides the id column; `nil` for all. Others are checked for structure but not decoded.
    public var columnsNeeded: Set<String>?
    /// The longest record, and how settled the file must be.
    public var limits = FileLimits()

    /// Creates a CSV source.
    public init(
        path: String, idColumn: String, delimiter: UInt8 = UInt8(ascii: ","), columns: [String]? = nil,
        columnsNeeded: Set<String>? = nil
    ) {
        self.path = path
        self.idColumn = idColumn
        self.delimiter = delimiter
        self.columns = columns
        self.columnsNeeded = columnsNeeded
    }

    public static func makeSource(section: ConfigSection, context: SourceContext) throws -> any UserSource {
        let path = try section.path("path", relativeTo: context.folder)
        guard let path else { throw section.node.error("needs `path:`, the CSV file to read") }
        let id = try section.requiredString(
            "id", hint: "name the column that identifies a person, e.g. `id: employee_number`")
        var delimiter = UInt8(ascii: ",")
        if let node = section.node("delimiter") {
            let text = try node.text()
            let bytes = Array((text == "tab" || text == "\\t" ? "\t" : text).utf8)
            guard bytes.count == 1, bytes[0] != UInt8(ascii: "\""), bytes[0] != UInt8(ascii: "\n"),
                bytes[0] != UInt8(ascii: "\r")
            else {
                throw node.error("must be one character (or `tab`), not a quote or a newline")
            }
            delimiter = bytes[0]
        }
        let columns = try section.strings("columns")
        var source = CSVSource(
            path: path, idColumn: id, delimiter: delimiter, columns: columns,
            columnsNeeded: Set(context.mappedAttributes))
        source.limits = try FileLimits(section: section)
        return source
    }

    public var description: String { "csv \(path)" }

    public func records() -> ThreadedRecordStream {
        ThreadedRecordStream(name: "csv-reader") { emitter in
            try limits.checkSettled(path)
            let reader = try CSVReader(path: path, delimiter: delimiter, maxRecordBytes: limits.maxRecordBytes)
            let names: [String]
            if let columns {
                names = columns
            } else {
                guard try reader.next() else {
                    throw reader.error(
                        line: 1, "the file is empty: it has no header row",
                        hint: "export the file with its header row")
                }
                names = try header(reader)
            }
            let schema = AttributeSchema(names)
            guard let idPosition = schema.position(of: idColumn) else {
                throw reader.error(
                    line: 1, "there is no column \"\(idColumn)\" for the source id",
                    hint: "set source.id to one of: \(names.joined(separator: ", "))")
            }
            if let columnsNeeded { reader.skippedColumns = names.map { !columnsNeeded.contains($0) && $0 != idColumn } }
            let file = (path as NSString).lastPathComponent
            while let values = try reader.nextRecord(AttributeValue.text) {
                guard values.count == names.count else {
                    throw reader.error(
                        line: reader.recordLine,
                        "this record has \(values.count) fields, the header has \(names.count)",
                        hint: "a value containing the delimiter must be in double quotes")
                }
                var id = ""
                if case .text(let text)? = values[idPosition] { id = text }
                try emitter.emit(
                    SourceRecord(
                        id: id, schema: schema, values: values, location: .line(reader.recordLine, of: file)))
            }
        }
    }

    private func header(_ reader: CSVReader) throws -> [String] {
        var names: [String] = []
        for (i, field) in reader.fields.enumerated() {
            guard let name = field?.trimmingCharacters(in: .whitespaces), !name.isEmpty else {
                throw reader.error(
                    line: reader.recordLine, "column \(i + 1) of the header has no name",
                    hint: "give every column a name")
            }
            if names.contains(name) {
                throw reader.error(
                    line: reader.recordLine, "the header names the column \"\(name)\" twice",
                    hint: "rename one of them")
            }
            names.append(name)
        }
        return names
    }
}
