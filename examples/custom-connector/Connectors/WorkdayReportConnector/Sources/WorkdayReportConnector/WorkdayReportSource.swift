import Foundation
import ConnectorCore

/// People from a Workday custom report in JSON (`source.type: workday-report`),
/// as Workday's Reports-as-a-Service returns it: `{"Report_Entry": [{…}, …]}`.
///
/// Settings: `path` (a saved report; a real deployment would fetch the report
/// URL with the integration user's credentials instead), `id` (the report
/// field that identifies a worker, default `Employee_ID`). Each entry's fields
/// become attributes; a list of `{"Descriptor": …}` objects (Workday's
/// multi-instance fields) becomes several values.
public struct WorkdayReportSource: UserSource, SourceConnector {
    public static let type = "workday-report"
    public static let summary = "a Workday custom report in JSON (Report_Entry): path, id"

    /// The saved report.
    public var path: String
    /// The field that identifies a worker.
    public var idField: String

    /// Creates a source.
    public init(path: String, idField: String = "Employee_ID") {
        self.path = path
        self.idField = idField
    }

    public static func makeSource(section: ConfigSection, context: SourceContext) throws -> any UserSource {
        guard let path = try section.path("path", relativeTo: context.folder) else {
            throw section.node.error("needs `path:`, the saved Workday report")
        }
        return WorkdayReportSource(path: path, idField: try section.string("id") ?? "Employee_ID")
    }

    public var description: String { "workday-report \(path)" }

    public func records() -> ThreadedRecordStream {
        ThreadedRecordStream(name: "workday-report") { [self] emitter in
            for (index, entry) in try entries().enumerated() {
                let location = SourceLocation("\(path), Report_Entry[\(index)]")
                var attributes: [String: AttributeValue] = [:]
                for (field, value) in entry {
                    if let value = Self.value(value) { attributes[field] = value }
                }
                guard case .text(let id)? = attributes[idField], !id.isEmpty else {
                    throw SyncError(.source, "\(location) has no \(idField)",
                                    hint: "add \(idField) to the report, or set source.id to the field that identifies a worker")
                }
                try emitter.emit(SourceRecord(id: id, attributes: attributes, location: location))
            }
        }
    }

    private func entries() throws -> [[String: Any]] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SyncError(.source, "cannot read the report \(path)", hint: "check the path and its permissions")
        }
        let report: Any
        do {
            report = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw SyncError(.source, "the report \(path) is not valid JSON (\(JSONValues.describe(error)))",
                            hint: "save the report again in JSON format")
        }
        guard let entries = (report as? [String: Any])?["Report_Entry"] as? [[String: Any]] else {
            throw SyncError(.source, "the report \(path) has no Report_Entry list", hint: "export the report as JSON")
        }
        return entries
    }

    /// A field's value: text, or several values for a multi-instance field.
    static func value(_ value: Any) -> AttributeValue? {
        if let list = value as? [Any] {
            let texts = list.compactMap { ($0 as? [String: Any])?["Descriptor"].flatMap(JSONValues.text) ?? JSONValues.text($0) }
            return texts.isEmpty ? nil : .multiple(texts)
        }
        if let object = value as? [String: Any] { return object["Descriptor"].flatMap(JSONValues.text).map(AttributeValue.text) }
        return JSONValues.text(value).map(AttributeValue.text)
    }
}
