import ConnectorCore
import Foundation

/// Building rows: the change set as batches, each row with the snapshot state it gets when accepted.
extension Syncer {
    /// A row to send and the snapshot state it gets when accepted.
    struct Outgoing: Sendable {
        enum Kind: String { case create, update, terminate }
        var kind: Kind
        var row: ImportRow
        var update: SnapshotUpdate
        /// The emails and employee ids an update's person had before, where the row changes them
        /// (`email:old@example.com`): the API could still match them on those (see ``claims(of:matchedOn:)``).
        var formerKeys: [String] = []
    }

    /// What the API could match a batch's rows on, before and after: their source ids (and those
    /// they re-key), each email (lower-cased) and employee id they send, and their former ones.
    static func claims(of batch: [Outgoing], matchedOn: [String]) -> Set<String> {
        var claims = Set<String>()
        for item in batch {
            claims.insert("id:" + item.update.sourceID)
            for id in item.update.replacing { claims.insert("id:" + id) }
            for field in item.row.fields where matchedOn.contains(field.name) {
                if let value = field.value { claims.insert(Self.key(field.name, value)) }
            }
            claims.formUnion(item.formerKeys)
        }
        return claims
    }

    /// A claim on a matched field's value.
    static func key(_ field: String, _ value: String) -> String { field + ":" + value.lowercased() }

    /// The change set as batches: upserts, and terminations in batches of their own
    /// (so a CSV body never has cells that would clear an unsent field). Everyone
    /// upserted is present in the source, so every such row clears `terminated_at`
    /// (unless the job maps it): a create can land on a terminated record (a rehire,
    /// a reused email, an id the API matches otherwise) and must leave the person live.
    func outgoing(_ changes: ChangeSet, now: Date) -> (upserts: [[Outgoing]], terminations: [[Outgoing]]) {
        let layout = changes.layout
        let key = changes.key
        let catalog = layout.catalog
        let clearsTermination = layout.position(of: catalog.terminatedAt) == nil
        let matchedOn = catalog.email + [catalog.employeeID]
        /// The values an update changes of those the API matches on, as they were.
        func formerKeys(_ fields: [ImportRow.Field], _ previous: [String: String]) -> [String] {
            matchedOn.compactMap { name in
                guard let old = previous[name], fields.first(where: { $0.name == name })?.value != old else {
                    return nil
                }
                return Self.key(name, old)
            }
        }
        func upsert(_ row: PlannedRow, kind: Outgoing.Kind, previous: [String: String] = [:]) -> Outgoing {
            var fields = row.values.indices.compactMap { i -> ImportRow.Field? in
                // A create leaves out what it does not have; an update clears it.
                guard kind != .create || row.values[i] != nil else { return nil }
                return ImportRow.Field(layout.fields[i], row.values[i])
            }
            if clearsTermination { fields.append(ImportRow.Field(catalog.terminatedAt, nil)) }
            return Outgoing(
                kind: kind, row: ImportRow(fields), update: snapshotUpdate(of: row, layout: layout, key: key),
                formerKeys: previous.isEmpty ? [] : formerKeys(fields, previous))
        }
        var upserts = changes.creates.map { upsert($0, kind: .create) }
        upserts += changes.updates.map { upsert($0.row, kind: .update, previous: $0.previous.fields) }
        var terminations: [Outgoing] = []
        if policy.removals.action == .terminate {
            let when = Timestamps.api(now)
            for removal in changes.removals {
                var fields = catalog.identity.compactMap { name -> ImportRow.Field? in
                    guard let value = removal.person.fields[name], !catalog.sensitive.contains(name) else { return nil }
                    return ImportRow.Field(name, value)
                }
                let terminatedAt = removal.terminatedAt ?? when
                fields.append(ImportRow.Field(catalog.terminatedAt, terminatedAt))
                terminations.append(
                    Outgoing(
                        kind: .terminate, row: ImportRow(fields),
                        update: SnapshotUpdate(
                            sourceID: removal.person.sourceID, fingerprint: removal.fingerprint,
                            fields: removal.person.fields, terminatedAt: terminatedAt),
                        formerKeys: formerKeys(fields, removal.person.fields)))
            }
        }
        return (Self.releaseOrder(upserts, matchedOn: matchedOn).flatMap(chunks), chunks(terminations))
    }

    /// Upserts in layers: a row that takes an email or employee id another row of the run gives up
    /// comes in a later layer than that row. Each layer is batched apart, so the taker's batch is
    /// later in plan order and shares a claim with the giver's, and waits for it to end
    /// (``InFlightImports``): sent first, it would be refused as "already taken", or matched by the
    /// API to the giver. A cycle (two people swapping addresses) keeps plan order past eight layers.
    static func releaseOrder(_ rows: [Outgoing], matchedOn: [String]) -> [[Outgoing]] {
        var givers: [String: [Int]] = [:]
        for (i, row) in rows.enumerated() { for key in row.formerKeys { givers[key, default: []].append(i) } }
        guard !givers.isEmpty else { return [rows] }
        let waitsFor: [[Int]] = rows.enumerated().map { i, row in
            row.row.fields.flatMap { field -> [Int] in
                guard matchedOn.contains(field.name), let value = field.value else { return [] }
                return (givers[key(field.name, value)] ?? []).filter { $0 != i }
            }
        }
        var layer = [Int](repeating: 0, count: rows.count)
        for _ in 0..<8 {
            var moved = false
            for i in rows.indices {
                let needed = waitsFor[i].map { layer[$0] + 1 }.max() ?? 0
                if needed > layer[i] && needed < 8 {
                    layer[i] = needed
                    moved = true
                }
            }
            if !moved { break }
        }
        let count = (layer.max() ?? 0) + 1
        var layers = [[Outgoing]](repeating: [], count: count)
        for (i, row) in rows.enumerated() { layers[layer[i]].append(row) }
        return layers
    }

    /// The snapshot state a row gets once accepted.
    func snapshotUpdate(of row: PlannedRow, layout: RowLayout, key: SnapshotKey) -> SnapshotUpdate {
        SnapshotUpdate(
            sourceID: row.sourceID, fingerprint: row.fingerprint,
            fields: key.storedFields(row.values, layout: layout), replacing: row.replacing)
    }

    func chunks(_ rows: [Outgoing]) -> [[Outgoing]] {
        stride(from: 0, to: rows.count, by: batchSize).map { Array(rows[$0..<min($0 + batchSize, rows.count)]) }
    }
}
