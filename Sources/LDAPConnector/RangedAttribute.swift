import CLDAP
import ConnectorCore

/// Active Directory's ranged attribute retrieval: a server that holds more
/// values than it returns at once (a group's `member` beyond 1,500) answers
/// `member;range=0-1499`, and the rest must be asked for as `member;range=1500-*`.
struct RangedAttribute: Equatable {
    /// The attribute's own name, such as `member`.
    var name: String
    /// The first value's index.
    var low: Int
    /// The last value's index, or `nil` for `*` (these are the last values).
    var high: Int?

    /// Parses `name;range=low-high`; `nil` for any other attribute description.
    init?(_ description: String) {
        let parts = description.split(separator: ";")
        guard parts.count >= 2, let option = parts.dropFirst().first(where: { $0.lowercased().hasPrefix("range=") })
        else { return nil }
        let bounds = option.dropFirst("range=".count).split(separator: "-", maxSplits: 1)
        guard bounds.count == 2, let low = Int(bounds[0]) else { return nil }
        name = String(parts[0])
        self.low = low
        if bounds[1] == "*" {
            high = nil
        } else {
            guard let high = Int(bounds[1]) else { return nil }
            self.high = high
        }
    }

    /// What to ask for next, or `nil` when these were the last values.
    var nextRequest: String? {
        high.map { "\(name);range=\($0 + 1)-*" }
    }
}

extension LDAPConnection {
    /// Fetches the rest of every ranged attribute of an entry, so callers see all values under the plain name.
    func completeRanges(_ entry: inout Entry) throws {
        for index in entry.attributes.indices {
            guard var range = RangedAttribute(entry.attributes[index].name) else { continue }
            var values = entry.attributes[index].values
            while let request = range.nextRequest {
                var next: (name: String, values: [RawValue])?
                try pagedSearch(
                    base: entry.dn, scope: LDAP_SCOPE_BASE, filter: "(objectClass=*)", attributes: [request],
                    pageSize: 1, completingRanges: false
                ) { found in
                    next = found.attributes.first {
                        RangedAttribute($0.name)?.name.lowercased() == range.name.lowercased()
                    }
                }
                // Fail closed: ranges that stop short, skip or repeat values would leave a short member list.
                guard let next, let following = RangedAttribute(next.name), !next.values.isEmpty,
                    following.low == (range.high ?? -1) + 1
                else {
                    throw SyncError(
                        .source,
                        "\(entry.dn): the directory stopped returning values of \(range.name) after \(values.count) "
                            + "(asked for \(request), got \(next.map { "\($0.name) with \($0.values.count) values" } ?? "nothing"))",
                        hint:
                            "check the bind account's read access to \(range.name) and the server's MaxValRange; nothing was sent"
                    )
                }
                values += next.values
                range = following
            }
            entry.attributes[index] = (range.name, values)
        }
    }
}
