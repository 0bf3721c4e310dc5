import Foundation

/// How values parsed by `JSONSerialization` become attribute text, for the
/// connectors that read JSON (files, the exec protocol).
public enum JSONValues {
    /// A scalar's text: strings as they are, booleans `true`/`false`, whole
    /// numbers without a fraction, other numbers as JSON spells them.
    /// - Returns: `nil` for `null`, objects and lists.
    public static func text(_ value: Any) -> String? {
        switch value {
        case let text as String: return text
        case is NSNull: return nil
        case let number as NSNumber:
            if String(cString: number.objCType) == "c" { return number.boolValue ? "true" : "false" }
            let double = number.doubleValue
            if double == double.rounded(), abs(double) < 1e15 { return String(number.int64Value) }
            return number.stringValue
        default: return nil
        }
    }

    /// What to do with a list that holds objects or lists.
    public enum NestedLists: Sendable {
        /// Refuse it, naming the record and the attribute (files, the exec protocol: the writer chose the shape).
        case refused
        /// Flatten each item under its index from 0 (`emails.0.value`), as APIs nest them (SCIM's `emails`).
        case indexed
    }

    /// A JSON object as attributes, the way the `json` and `jsonl` sources read one:
    /// strings as they are; numbers and booleans as their JSON text; `null` and `""`
    /// absent; a list of scalars several values (its nulls and empty strings left out);
    /// a nested object flattened with dots (`{"manager": {"name": "x"}}` gives
    /// `manager.name`), at any depth.
    /// - Parameters:
    ///   - object: what `JSONSerialization` made of the record.
    ///   - location: where the record is, for errors.
    ///   - nestedLists: what a list of objects or lists becomes; refused unless said.
    /// - Throws: ``SyncError`` naming the record and the attribute when a list holds an object or a
    ///   list and `nestedLists` is `.refused`.
    public static func attributes(
        of object: [String: Any], location: SourceLocation, nestedLists: NestedLists = .refused
    ) throws -> [String: AttributeValue] {
        var attributes: [String: AttributeValue] = [:]
        try flatten(object, prefix: "", into: &attributes, location: location, nestedLists: nestedLists)
        return attributes
    }

    private static func flatten(
        _ object: [String: Any], prefix: String, into attributes: inout [String: AttributeValue],
        location: SourceLocation, nestedLists: NestedLists
    ) throws {
        for (key, value) in object {
            try add(value, named: prefix + key, into: &attributes, location: location, nestedLists: nestedLists)
        }
    }

    private static func add(
        _ value: Any, named name: String, into attributes: inout [String: AttributeValue], location: SourceLocation,
        nestedLists: NestedLists
    ) throws {
        if let nested = value as? [String: Any] {
            try flatten(nested, prefix: name + ".", into: &attributes, location: location, nestedLists: nestedLists)
        } else if let array = value as? [Any] {
            var texts: [String] = []
            for (index, item) in array.enumerated() {
                if let text = JSONValues.text(item) {
                    if !text.isEmpty { texts.append(text) }
                } else if item is NSNull {
                    continue
                } else if nestedLists == .indexed {
                    try add(
                        item, named: "\(name).\(index)", into: &attributes, location: location, nestedLists: nestedLists
                    )
                } else {
                    throw SyncError(
                        .source, "\(location): \"\(name)\" holds a list of \(JSONValues.kind(of: item))s",
                        hint: "a list may hold only strings, numbers or booleans")
                }
            }
            if !texts.isEmpty { attributes[name] = texts.count == 1 ? .text(texts[0]) : .multiple(texts) }
        } else if let text = JSONValues.text(value) {
            if !text.isEmpty { attributes[name] = .text(text) }
        }
    }

    /// What a value is, in words, for messages: `object`, `list`, `string`, `null`, `number`.
    public static func kind(of value: Any) -> String {
        switch value {
        case is [String: Any]: "object"
        case is [Any]: "list"
        case is String: "string"
        case is NSNull: "null"
        default: "number"
        }
    }

    /// Why `JSONSerialization` or a `JSONDecoder` refused a text, in a few words that say where:
    /// `Invalid value around character 18.`, `at [3].manager.name: expected a String, found a number`.
    public static func describe(_ error: any Error) -> String {
        if let error = error as? DecodingError {
            let context: DecodingError.Context
            var what: String
            switch error {
            case .typeMismatch(let type, let found):
                context = found
                what = "expected \(type): \(found.debugDescription)"
            case .valueNotFound(let type, let found):
                context = found
                what = "expected \(type), found null"
            case .keyNotFound(let key, let found):
                context = found
                what = "no \"\(key.stringValue)\""
            case .dataCorrupted(let found):
                context = found
                what = (found.underlyingError.map(describe) ?? found.debugDescription)
            @unknown default:
                return "\(error)"
            }
            let path = context.codingPath.map { key in key.intValue.map { "[\($0)]" } ?? "." + key.stringValue }
                .joined()
            if path.isEmpty { return what }
            return "at \(path.hasPrefix(".") ? String(path.dropFirst()) : path): \(what)"
        }
        let text = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
        return text ?? "\(error)"
    }
}
