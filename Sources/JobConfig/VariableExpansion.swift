/// `${VAR}` expansion for config values.
public enum VariableExpansion {
    /// Replaces each `${NAME}` in `text` with the variable's value; `$$` stands for `$`.
    /// - Parameters:
    ///   - text: a config scalar.
    ///   - environment: the variables.
    /// - Returns: the expanded text.
    /// - Throws: the name of the first variable that is not set, as `.missing(name)`.
    public static func expand(_ text: String, environment: [String: String]) throws(Failure) -> String {
        guard text.contains("$") else { return text }
        var result = ""
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            result += rest[..<dollar]
            let after = rest[rest.index(after: dollar)...]
            if after.hasPrefix("$") {
                result += "$"
                rest = after.dropFirst()
            } else if after.hasPrefix("{"), let close = after.firstIndex(of: "}") {
                let name = String(after[after.index(after: after.startIndex)..<close])
                guard let value = environment[name] else { throw .missing(name) }
                result += value
                rest = after[after.index(after: close)...]
            } else {
                result += "$"
                rest = after
            }
        }
        return result + rest
    }

    /// Why expansion failed.
    public enum Failure: Error {
        /// The variable is not set.
        case missing(String)
    }
}
