import ConnectorCore
import Foundation

/// Turns one JSON object into a source record (``JSONValues/attributes(of:location:)``).
enum JSONRecords {
    static func record(from data: some DataProtocol, idKey: String, location: SourceLocation) throws -> SourceRecord {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(data), options: [.fragmentsAllowed])
        } catch {
            throw SyncError(
                .source, "\(location): not valid JSON (\(JSONValues.describe(error)))",
                hint: "each record must be one JSON object")
        }
        guard let dictionary = object as? [String: Any] else {
            throw SyncError(.source, "\(location): a record must be a JSON object, not \(JSONValues.kind(of: object))")
        }
        let attributes = try JSONValues.attributes(of: dictionary, location: location)
        let id = attributes[idKey]?.texts.first ?? ""
        return SourceRecord(id: id, attributes: attributes, location: location)
    }
}
