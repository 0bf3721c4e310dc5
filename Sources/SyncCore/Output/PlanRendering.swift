import Foundation

/// What a printed plan says besides the change set itself.
public struct PlanHeader: Sendable {
    /// The job's name.
    public var job: String
    /// The source, as it describes itself.
    public var source: String
    /// The snapshot, as it describes itself.
    public var snapshot: String
    /// What removals do.
    public var removalAction: RemovalPolicy.Action
    /// The guard that stopped the run, if one did.
    public var stoppedBy: SyncError?

    /// Creates a header.
    public init(
        job: String, source: String, snapshot: String, removalAction: RemovalPolicy.Action, stoppedBy: SyncError?
    ) {
        self.job = job
        self.source = source
        self.snapshot = snapshot
        self.removalAction = removalAction
        self.stoppedBy = stoppedBy
    }
}

/// Prints a change set for people (`--format text`) or programs (`--format json`,
/// documented in docs/plan-format.md). Sensitive values are always masked.
public enum PlanRendering {
    /// The version of the JSON plan format.
    public static let jsonVersion = 1

    /// Writes the plan as text.
    public static func text(_ changes: ChangeSet, header: PlanHeader, to out: ByteOutput) {
        let layout = changes.layout
        let removalVerb = header.removalAction == .terminate ? "terminate" : "report as gone"
        out.write("Plan for job \(header.job)\n  source:   \(header.source)\n  snapshot: \(header.snapshot)\n")
        out.write(
            "  \(changes.recordsRead) records read: \(changes.creates.count) to create, "
                + "\(changes.updates.count) to update, \(changes.removals.count) to \(removalVerb), "
                + (changes.rekeys.isEmpty ? "" : "\(changes.rekeys.count) re-keyed (never terminated), ")
                + "\(changes.unchanged) unchanged, \(changes.invalid.count) invalid\n")
        let printer = RowPrinter(layout: layout, out: out)
        if !changes.creates.isEmpty {
            out.write("\nCreate (\(changes.creates.count))\n")
            // By index: a for-in loop copies (retains and releases) each row.
            for i in changes.creates.indices {
                out.write("  + ")
                printer.write(changes.creates[i], details: true)
                out.write(byte: 10)
            }
        }
        if !changes.updates.isEmpty {
            out.write("\nUpdate (\(changes.updates.count))\n")
            for update in changes.updates {
                out.write("  ~ ")
                printer.write(update.row, details: false)
                out.write("  ")
                out.write(update.changed.map { describeChange($0, update, layout) }.joined(separator: "; "))
                out.write("\n")
            }
        }
        if !changes.rekeys.isEmpty {
            out.write("\nRe-keyed: a new source id, the same person; never terminated (\(changes.rekeys.count))\n")
            for rekey in changes.rekeys {
                let change =
                    rekey.changed.isEmpty ? "nothing else changed" : "changed: " + rekey.changed.joined(separator: ", ")
                out.write(
                    "  > \(rekey.previous.sourceID) -> \(rekey.sourceID)  \(identity(rekey.previous.fields, layout.catalog))"
                        + "  same \(rekey.matchedOn); \(change)\n")
            }
        }
        if !changes.removals.isEmpty {
            let title = header.removalAction == .terminate ? "Terminate" : "Gone from the source (reported only)"
            out.write("\n\(title) (\(changes.removals.count))\n")
            for removal in changes.removals {
                out.write(
                    "  - \(removal.person.sourceID)  \(identity(removal.person.fields, layout.catalog))"
                        + "  missing since \(Timestamps.iso(removal.missingSince))\n")
            }
        }
        if !changes.waiting.isEmpty {
            out.write("\nMissing, within the grace period (\(changes.waiting.count))\n")
            for removal in changes.waiting {
                out.write(
                    "  ? \(removal.person.sourceID)  \(identity(removal.person.fields, layout.catalog))"
                        + "  removed from \(Timestamps.iso(removal.dueAt)) if still missing\n")
            }
        }
        if !changes.invalid.isEmpty {
            out.write("\nInvalid, not sent (\(changes.invalid.count))\n")
            for record in changes.invalid {
                let place = record.location.map { " (\($0))" } ?? ""
                let id = record.sourceID.isEmpty ? "(no id)" : record.sourceID
                out.write("  ! \(id)\(place)  \(record.reason)\n")
            }
        }
        if !changes.warnings.isEmpty {
            out.write("\nWarnings\n")
            for warning in changes.warnings { out.write("  * \(warning)\n") }
        }
        if let stopped = header.stoppedBy {
            out.write("\nSTOPPED: \(stopped.message)\n")
            if let hint = stopped.hint { out.write("  hint: \(hint)\n") }
        } else if changes.isEmpty {
            out.write("\nNothing to do.\n")
        }
        out.flush()
    }

    /// Writes the plan as one JSON object.
    public static func json(_ changes: ChangeSet, header: PlanHeader, to out: ByteOutput) {
        let layout = changes.layout
        var json = JSONWriter(out)
        json.beginObject()
        json.field("format", "compliance-sync.plan")
        json.field("version", jsonVersion)
        json.field("job", header.job)
        json.field("source", header.source)
        json.field("snapshot", header.snapshot)
        json.field("planned_at", Timestamps.iso(changes.plannedAt))
        json.field("removal_action", header.removalAction.rawValue)
        json.key("summary")
        json.beginObject()
        json.field("records", changes.recordsRead)
        json.field("creates", changes.creates.count)
        json.field("updates", changes.updates.count)
        json.field("rekeys", changes.rekeys.count)
        json.field("removals", changes.removals.count)
        json.field("waiting", changes.waiting.count)
        json.field("unchanged", changes.unchanged)
        json.field("invalid", changes.invalid.count)
        json.endObject()
        json.key("stopped")
        if let stopped = header.stoppedBy {
            json.beginObject()
            json.field("message", stopped.message)
            json.field("hint", stopped.hint)
            json.endObject()
        } else {
            json.value(nil as String?)
        }
        json.field("warnings", strings: changes.warnings)
        json.key("creates")
        json.beginArray()
        for i in changes.creates.indices {
            let row = changes.creates[i]
            json.beginObject()
            json.field("source_id", row.sourceID)
            json.field("location", row.location?.description)
            json.key("fields")
            fields(Masking.shown(row.values, layout: layout), &json)
            json.endObject()
        }
        json.endArray()
        json.key("updates")
        json.beginArray()
        for update in changes.updates {
            json.beginObject()
            json.field("source_id", update.row.sourceID)
            json.field("location", update.row.location?.description)
            json.field("changed", strings: update.changed)
            json.key("fields")
            fields(Masking.shown(update.row.values, layout: layout), &json)
            json.key("previous")
            let previous = Masking.shown(stored: update.previous.fields, catalog: layout.catalog)
            fields(previous.filter { update.changed.contains($0.field) }, &json)
            json.endObject()
        }
        json.endArray()
        json.key("rekeys")
        json.beginArray()
        for rekey in changes.rekeys {
            json.beginObject()
            json.field("from", rekey.previous.sourceID)
            json.field("source_id", rekey.sourceID)
            json.field("matched_on", rekey.matchedOn)
            json.field("changed", strings: rekey.changed)
            json.key("fields")
            let identity = layout.catalog.identity
            fields(
                Masking.shown(stored: rekey.previous.fields, catalog: layout.catalog)
                    .filter { identity.contains($0.field) }, &json)
            json.endObject()
        }
        json.endArray()
        for (name, list) in [("removals", changes.removals), ("waiting", changes.waiting)] {
            json.key(name)
            json.beginArray()
            for removal in list {
                json.beginObject()
                json.field("source_id", removal.person.sourceID)
                json.key("fields")
                let identity = layout.catalog.identity
                fields(
                    Masking.shown(stored: removal.person.fields, catalog: layout.catalog)
                        .filter { identity.contains($0.field) }, &json)
                json.field("missing_since", Timestamps.iso(removal.missingSince))
                json.field("due_at", Timestamps.iso(removal.dueAt))
                json.endObject()
            }
            json.endArray()
        }
        json.key("invalid")
        json.beginArray()
        for record in changes.invalid {
            json.beginObject()
            json.field("source_id", record.sourceID)
            json.field("location", record.location?.description)
            json.field("reason", record.reason)
            json.key("problems")
            json.beginArray()
            for problem in record.problems {
                json.beginObject()
                json.field("field", problem.field)
                json.field("reason", problem.reason)
                json.endObject()
            }
            json.endArray()
            json.endObject()
        }
        json.endArray()
        json.endObject()
        out.write("\n")
        out.flush()
    }

    private static func fields(_ pairs: [(field: String, value: String)], _ json: inout JSONWriter) {
        json.beginObject()
        for (field, value) in pairs { json.field(field, value) }
        json.endObject()
    }

    private static func identity(_ fields: [String: String], _ catalog: FieldCatalog) -> String {
        describe(fields["first_name"] ?? "", fields["last_name"] ?? "", fields[catalog.email.first ?? "email"] ?? "")
    }

    private static func describe(_ first: String, _ last: String, _ email: String) -> String {
        let name = [first, last].filter { !$0.isEmpty }.joined(separator: " ")
        return email.isEmpty ? name : "\(name) <\(email)>"
    }

    private static func describeChange(_ field: String, _ update: PlannedUpdate, _ layout: RowLayout) -> String {
        if layout.catalog.sensitive.contains(field) { return "\(field) changed" }
        let old = update.previous.fields[field]
        let new = layout.position(of: field).flatMap { update.row.values[$0] }
        switch (old, new) {
        case (nil, let new?): return "\(field): set to \"\(new)\""
        case (_?, nil): return "\(field): cleared"
        case (let old?, let new?): return "\(field): \"\(old)\" -> \"\(new)\""
        default: return field == layout.catalog.terminatedAt ? "back in the source: \(field) cleared" : field
        }
    }
}

/// Writes a row's id, name, email and (optionally) other fields on one line,
/// straight to the output: a plan may hold a million of them.
private struct RowPrinter {
    let layout: RowLayout
    let out: ByteOutput
    let first: Int?, last: Int?, email: Int?
    let masks: [String?]

    init(layout: RowLayout, out: ByteOutput) {
        self.layout = layout
        self.out = out
        first = layout.position(of: "first_name")
        last = layout.position(of: "last_name")
        email = layout.catalog.email.first.flatMap(layout.position(of:))
        masks = layout.fields.indices.map {
            layout.sensitive[$0] ? Masking.mask(field: layout.fields[$0], catalog: layout.catalog) : nil
        }
    }

    func write(_ row: PlannedRow, details: Bool) {
        out.write(row.sourceID)
        out.write("  ")
        var named = false
        if let first, row.values[first] != nil {
            out.write(row.values[first]!)
            named = true
        }
        if let last, row.values[last] != nil {
            if named { out.write(byte: 32) }
            out.write(row.values[last]!)
            named = true
        }
        if let email, row.values[email] != nil {
            out.write(named ? " <" : "<")
            out.write(row.values[email]!)
            out.write(byte: 62)
        }
        guard details else { return }
        for i in row.values.indices where i != first && i != last && i != email && row.values[i] != nil {
            out.write("  ")
            out.write(layout.fields[i])
            out.write(byte: 61)
            out.write(masks[i] ?? row.values[i]!)
        }
    }
}

/// Times as the outputs write them.
public enum Timestamps {
    /// ISO 8601 in UTC, to the second: `2026-01-31T05:00:00Z`.
    public static func iso(_ date: Date) -> String {
        let civil = CivilDateTime(secondsSinceEpoch: Int(date.timeIntervalSince1970.rounded(.down)), offset: 0)
        return civil.dateText + "T" + civil.dateTimeText.suffix(8) + "Z"
    }

    /// The API's date-time format in UTC: `2026-01-31 05:00:00 UTC`.
    public static func api(_ date: Date) -> String {
        CivilDateTime(secondsSinceEpoch: Int(date.timeIntervalSince1970.rounded(.down)), offset: 0).dateTimeText
            + " UTC"
    }
}
