import ConnectorCore
import Foundation

/// Turns one JSON object into a source record.
///
/// Strings stay text; numbers and booleans become their JSON spelling; `null`
/// is absent; an array of scalars is a multi-valued attribute; a nested object
/// is flattened with dots (`{"manager": {"name": "x"}}` gives `manager.name`).
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
        var attributes: [String: AttributeValue] = [:]
        try flatten(dictionary, prefix: "", into: &attributes, location: location)
        let id = attributes[idKey]?.texts.first ?? ""
        return SourceRecord(id: id, attributes: attributes, location: location)
    }

    private static func flatten(
        _ object: [String: Any], prefix: String, into attributes: inout [String: AttributeValue],
        location: SourceLocation
    ) throws {
        for (key, value) in object {
            let name = prefix + key
            if let nested = value as? [String: Any] {
                try flatten(nested, prefix: name + ".", into: &attributes, location: location)
            } else if let array = value as? [Any] {
                let texts = try array.compactMap { item -> String? in
                    guard let text = JSONValues.text(item) else {
                        if item is NSNull { return nil }
                        throw SyncError(
                            .source, "\(location): \"\(name)\" holds a list of \(JSONValues.kind(of: item))s",
                            hint: "a list may hold only strings, numbers or booleans")
                    }
                    return text
                }.filter { !$0.isEmpty }
                if !texts.isEmpty { attributes[name] = texts.count == 1 ? .text(texts[0]) : .multiple(texts) }
            } else if let text = JSONValues.text(value) {
                if !text.isEmpty { attributes[name] = .text(text) }
            }
        }
    }
}
