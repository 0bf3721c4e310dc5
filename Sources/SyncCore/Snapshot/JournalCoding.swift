import ConnectorCore
import Foundation

/// How journaled rows are stored: a JSON array of the snapshot states they
/// will get (sensitive fields already hashed), in request order. Every snapshot
/// store keeps the journal in this form.
public enum JournalCoding {
    /// The journal text of rows.
    public static func encode(_ updates: [SnapshotUpdate]) throws -> String {
        let list: [[String: Any]] = updates.map { update in
            [
                "source_id": update.sourceID,
                "fingerprint": update.fingerprint.bytes.map { String(format: "%02x", $0) }.joined(),
                "fields": update.fields,
                "terminated_at": update.terminatedAt ?? NSNull(),
                "replacing": update.replacing,
            ]
        }
        return String(decoding: try JSONSerialization.data(withJSONObject: list, options: [.sortedKeys]), as: UTF8.self)
    }

    /// Rows from their journal text.
    /// - Throws: ``SyncError`` naming the snapshot when the text is damaged.
    public static func decode(_ text: String, description: String) throws -> [SnapshotUpdate] {
        let damaged = SyncError.damagedSnapshot(description, "a journal entry is damaged")
        guard let list = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]] else {
            throw damaged
        }
        return try list.map { item in
            guard let id = item["source_id"] as? String, let hex = item["fingerprint"] as? String,
                let fields = item["fields"] as? [String: String], let fingerprint = Fingerprint(hex: hex)
            else { throw damaged }
            return SnapshotUpdate(
                sourceID: id, fingerprint: fingerprint, fields: fields,
                terminatedAt: item["terminated_at"] as? String,
                replacing: item["replacing"] as? [String] ?? [])
        }
    }
}

extension Fingerprint {
    /// From 32 hexadecimal digits.
    init?(hex: String) {
        let digits = Array(hex.utf8)
        guard digits.count == 32 else { return nil }
        var bytes: [UInt8] = []
        for i in stride(from: 0, to: 32, by: 2) {
            guard let byte = UInt8(String(decoding: digits[i..<i + 2], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        self.init(bytes: bytes)
    }
}
