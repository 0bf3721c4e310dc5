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

    /// Why `JSONSerialization` refused a text, in a few words.
    public static func describe(_ error: any Error) -> String {
        let text = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
        return text ?? "malformed"
    }
}
