import ConnectorCore
import Foundation

/// Finds the people gone from the snapshot under one source id who are still
/// in the source under another: the same `employee_id`, or the same email
/// compared case-insensitively. The API matches rows on exactly these, so a
/// create for the new id and a termination for the old one would land on one
/// person and leave them terminated. Such a person is a re-key, never a removal.
///
/// Two different employee ids are two people, whatever their emails: an email match whose
/// rows both carry an `employee_id`, and not the same one, is no re-key. Nor is anyone `dates:`
/// keep from being sent (not started yet, or left) a re-key's target.
struct RekeyMatcher {
    let layout: RowLayout
    let key: SnapshotKey
    /// The people missing from the source, as the snapshot holds them.
    let gone: [StoredPerson]
    private var byEmployeeID: [String: [Int]] = [:]
    private var byEmail: [String: [Int]] = [:]
    /// Which identities could belong to a gone person: a record whose values miss it (nearly
    /// all) costs two short hashes instead of two lower-cased, hashed strings.
    private var mayMatch = IdentityFilter()
    /// perf: where the identity fields sit in a row, looked up once rather than per record.
    private let employeeIDPosition: Int?
    private let emailPositions: [(field: String, position: Int)]

    /// Where a gone person was found.
    enum Target: Hashable {
        case create(Int), update(Int), unchanged(Int), invalid(Int)
    }

    /// A gone person found in the source: where, and on which field.
    struct Match {
        var target: Target
        var field: String
    }

    init(layout: RowLayout, key: SnapshotKey, gone: [StoredPerson]) {
        self.layout = layout
        self.key = key
        self.gone = gone
        let catalog = layout.catalog
        employeeIDPosition = layout.position(of: catalog.employeeID)
        emailPositions = catalog.email.compactMap { field in layout.position(of: field).map { (field, $0) } }
        for (n, person) in gone.enumerated() {
            if let id = person.fields[catalog.employeeID], !id.isEmpty {
                byEmployeeID[id, default: []].append(n)
                mayMatch.insert(id)
            }
            for field in catalog.email {
                if let email = person.fields[field], !email.isEmpty {
                    byEmail[normalisedEmail(email, field: field, stored: true), default: []].append(n)
                    mayMatch.insert(email)
                }
            }
        }
    }

    /// Finds each gone person among the people of the source.
    /// - Parameters:
    ///   - creates: the run's creates.
    ///   - updates: the run's updates.
    ///   - candidates: every record; those whose values were not moved into a create or an update
    ///     (the unchanged and the invalid) are looked at, but not those `dates:` keep from being sent.
    /// - Returns: one entry per person of ``gone``: their match, or `nil` when they really are gone.
    func matches(creates: [PlannedRow], updates: [PlannedRow], candidates: CandidateList) -> [Match?] {
        var matches = [Match?](repeating: nil, count: gone.count)
        for i in creates.indices { see(creates[i].values, .create(i), into: &matches) }
        for i in updates.indices { see(updates[i].values, .update(i), into: &matches) }
        // Creates and updates had their values moved out; everyone left still has theirs.
        for position in candidates.indices
        where !candidates[position].values.isEmpty && !candidates[position].heldByDates {
            let valid = candidates[position].problems.isEmpty
            see(candidates[position].values, valid ? .unchanged(position) : .invalid(position), into: &matches)
        }
        return matches
    }

    /// Records a person of the source as the match of any gone person who shares their identity;
    /// an `employee_id` match outranks an email match, and the first found wins among equals.
    private func see(_ values: [String?], _ target: Target, into matches: inout [Match?]) {
        let catalog = layout.catalog
        // The row's employee id as stored (a digest when the job keeps it sensitive).
        var employeeID: String?
        if let p = employeeIDPosition, let value = values[p], !value.isEmpty {
            employeeID = layout.sensitive[p] ? key.digest(field: catalog.employeeID, value: value) : value
        }
        if let employeeID, let p = employeeIDPosition, layout.sensitive[p] || mayMatch.contains(values[p]!) {
            for n in byEmployeeID[employeeID] ?? [] where matches[n]?.field != catalog.employeeID {
                matches[n] = Match(target: target, field: catalog.employeeID)
            }
        }
        for (field, p) in emailPositions {
            guard let value = values[p], !value.isEmpty,
                layout.sensitive[p] || mayMatch.contains(value)
            else { continue }
            for n in byEmail[normalisedEmail(value, field: field, stored: false)] ?? [] where matches[n] == nil {
                if let employeeID, let theirs = gone[n].fields[catalog.employeeID], !theirs.isEmpty,
                    theirs != employeeID
                {
                    continue
                }
                matches[n] = Match(target: target, field: field)
            }
        }
    }

    /// An email as compared: lower-cased, or (for a job that keeps emails as sensitive) its stored digest.
    private func normalisedEmail(_ value: String, field: String, stored: Bool) -> String {
        guard layout.position(of: field).map({ layout.sensitive[$0] }) == true else {
            return FastText.lowercased(value)
        }
        return stored ? value : key.digest(field: field, value: value)
    }
}

/// A small Bloom filter over identities, compared with ASCII letters folded to lower case:
/// `contains` is never wrong when it says no, and a yes is checked in full. Text with bytes
/// beyond ASCII always passes (its case folding is Unicode's, done in full by the caller).
struct IdentityFilter {
    private var bits = [UInt64](repeating: 0, count: 1024)

    mutating func insert(_ text: String) {
        guard let hash = Self.hash(text) else { return }
        for shift in [0, 16, 32] as [UInt64] {
            let bit = Int((hash >> shift) & 0xFFFF)
            bits[bit >> 6] |= 1 << UInt64(bit & 63)
        }
    }

    func contains(_ text: String) -> Bool {
        guard let hash = Self.hash(text) else { return true }
        // perf: three shifts written out: no array per record.
        return isSet(hash) && isSet(hash >> 16) && isSet(hash >> 32)
    }

    private func isSet(_ hash: UInt64) -> Bool {
        let bit = Int(hash & 0xFFFF)
        return bits[bit >> 6] & (1 << UInt64(bit & 63)) != 0
    }

    /// FNV-1a over the bytes with A-Z folded; `nil` for text beyond ASCII.
    private static func hash(_ text: String) -> UInt64? {
        UTF8Text.withBytes(of: text) { bytes -> UInt64? in
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325
            for byte in bytes {
                guard byte < 0x80 else { return nil }
                hash =
                    (hash ^ UInt64(byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte))
                    &* 0x100_0000_01B3
            }
            return hash
        }
    }
}
