import Foundation

/// A place in a JSON page named with dots, as a job file writes it: `value`, `data.employees`,
/// `_meta.links.next.href`. A key that itself holds dots (`@odata.nextLink`) is found too: at each
/// level the longest key the object has wins.
struct JSONPath: Sendable, Hashable, CustomStringConvertible {
    /// The path as written.
    let text: String

    init(_ text: String) { self.text = text }

    var description: String { text }

    /// The value at the path, or `nil` when some step is missing or not an object.
    /// `null` is returned as `NSNull`, so a caller can tell "absent" from "null".
    func value(in root: Any) -> Any? {
        Self.lookup(Substring(text), in: root)
    }

    private static func lookup(_ path: Substring, in value: Any) -> Any? {
        guard let object = value as? [String: Any] else { return nil }
        if let whole = object[String(path)] { return whole }
        // Try the longest prefix that is a key first: `a.b.c` tries `a.b` then `a`.
        var cut = path.endIndex
        while let dot = path[..<cut].lastIndex(of: ".") {
            if let inner = object[String(path[..<dot])] {
                return lookup(path[path.index(after: dot)...], in: inner)
            }
            cut = dot
        }
        return nil
    }
}
