import ConnectorCore
import Foundation

/// The exec connector's protocol, version 1: JSON Lines on the program's standard output.
///
///     {"protocol": "compliance-sync.records", "version": 1}
///     {"id": "E1001", "attributes": {"givenName": "Ada", "mail": ["a@x.com", "b@x.com"], "manager": null}}
///     {"id": "E1002", "attributes": {"photo": {"base64": "iVBORw0…"}}}
///
/// The first line names the protocol and its version; each further line is one
/// person: `id` a non-empty string, `attributes` an object whose values are a
/// string, a number or boolean (read as its text), `null` (absent), a list of
/// those (several values), or `{"base64": "…"}` (binary). Blank lines are
/// skipped. A last line `{"end": {"records": N}}` (optional in version 1) says how
/// many records the program meant to print: a program that stopped early but
/// exited 0 is then caught. docs/writing-a-connector.md is the reference.
struct ExecProtocol {
    /// The protocol's name on the first line.
    static let name = "compliance-sync.records"
    /// The newest version this build reads.
    static let version = 1

    /// The program whose output the lines are, for messages: `python3 hr.py`.
    let place: String
    private var sawHeader = false
    private var lastKeys: [String] = []
    private var lastSchema = AttributeSchema([])
    /// The count the end line gave, once read.
    private(set) var endCount: Int?

    init(place: String) { self.place = place }

    /// Reads one line.
    /// - Returns: the record it holds, or `nil` for the header or a blank line.
    /// - Throws: ``SyncError`` naming the line and what is wrong with it.
    mutating func read(_ line: ArraySlice<UInt8>, number: Int) throws -> SourceRecord? {
        let location = SourceLocation.outputLine(number, of: place)
        if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\r") }) {
            return nil
        }
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                throw fail(location, "is not a JSON object")
            }
            object = parsed
        } catch let error as SyncError {
            throw error
        } catch {
            guard sawHeader else {
                // Most often a stray print() of the program's own, before the header.
                throw SyncError(
                    .source, "\(location): the first line must be the protocol header, not other text",
                    hint: "standard output carries only the protocol: print diagnostics to standard error "
                        + "(Python: print(..., file=sys.stderr)), where they are logged")
            }
            throw fail(
                location, "is not valid JSON (\(JSONValues.describe(error)))",
                hint: "each line after the header is one JSON object; print diagnostics to standard error "
                    + "(Python: print(..., file=sys.stderr)), where they are logged")
        }
        guard sawHeader else {
            try checkHeader(object, location)
            sawHeader = true
            return nil
        }
        guard endCount == nil else {
            throw fail(location, "comes after the end line", hint: "print {\"end\": {\"records\": N}} last, once")
        }
        if let end = object["end"] {
            guard object.count == 1, let fields = end as? [String: Any], fields.count == 1,
                let count = fields["records"] as? Int, count >= 0
            else {
                throw fail(location, "is not an end line", hint: "the end line is {\"end\": {\"records\": N}}")
            }
            endCount = count
            return nil
        }
        return try record(object, location)
    }

    private func checkHeader(_ object: [String: Any], _ location: SourceLocation) throws {
        if object["protocol"] as? String == Self.name, let given = object["version"] {
            let text = JSONValues.text(given)
            if JSONValues.kind(of: given) != "number" || text == "true" || text == "false" {
                throw SyncError(
                    .source,
                    "\(location): the header's \"version\" is \(JSONValues.kind(of: given))\(text.map { " \"\($0)\"" } ?? ""), not a number",
                    hint: "write it as a JSON number, without quotes: {\"protocol\": \"\(Self.name)\", \"version\": 1}")
            }
        }
        guard object["protocol"] as? String == Self.name, let version = object["version"] as? Int else {
            throw SyncError(
                .source, "\(location): the first line must be the protocol header",
                hint: "print {\"protocol\": \"\(Self.name)\", \"version\": 1} before the first record")
        }
        guard version >= 1, version <= Self.version else {
            throw SyncError(
                .source,
                "\(location): the program speaks version \(version) of the protocol; this build reads 1 to \(Self.version)",
                hint: "print version \(Self.version), or upgrade compliance-sync")
        }
    }

    private mutating func record(_ object: [String: Any], _ location: SourceLocation) throws -> SourceRecord {
        for key in object.keys where key != "id" && key != "attributes" {
            throw fail(location, "has the unknown key \"\(key)\"", hint: "a record has only \"id\" and \"attributes\"")
        }
        guard let id = object["id"] as? String, !id.isEmpty else {
            throw fail(location, "needs \"id\": a non-empty string that identifies the person")
        }
        let attributes = object["attributes"] ?? [String: Any]()
        guard let attributes = attributes as? [String: Any] else {
            throw fail(location, "has \"attributes\" that is a \(JSONValues.kind(of: attributes)), not an object")
        }
        let keys = attributes.keys.sorted()
        if keys != lastKeys {
            lastKeys = keys
            lastSchema = AttributeSchema(keys)
        }
        let values = try keys.map { try value(attributes[$0]!, name: $0, location) }
        return SourceRecord(id: id, schema: lastSchema, values: values, location: location)
    }

    private func value(_ value: Any, name: String, _ location: SourceLocation) throws -> AttributeValue? {
        if let list = value as? [Any] {
            let texts = try list.compactMap { item -> String? in
                guard item is NSNull || !(item is [Any] || item is [String: Any]) else {
                    throw fail(
                        location, "has a list in \"\(name)\" holding a \(JSONValues.kind(of: item))",
                        hint: "a list holds strings, numbers or booleans")
                }
                return JSONValues.text(item)
            }
            return texts.isEmpty ? nil : .multiple(texts)
        }
        if let object = value as? [String: Any] {
            guard object.count == 1, let encoded = object["base64"] as? String, let data = Data(base64Encoded: encoded)
            else {
                throw fail(
                    location, "has an object in \"\(name)\"",
                    hint: "an attribute is a string, a number, a boolean, null, a list, or {\"base64\": \"…\"}")
            }
            return .binary(data)
        }
        return JSONValues.text(value).map(AttributeValue.text)
    }

    private func fail(_ location: SourceLocation, _ message: String, hint: String? = nil) -> SyncError {
        SyncError(
            .source, "\(location): \(message)",
            hint: hint ?? "each line after the header is {\"id\": \"…\", \"attributes\": {…}}")
    }
}
