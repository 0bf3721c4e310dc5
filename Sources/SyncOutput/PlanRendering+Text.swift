import Foundation
import SyncCore

/// The plan for people (`--format text`).
extension PlanRendering {
    /// Writes the plan as text.
    public static func text(_ changes: ChangeSet, header: PlanHeader, to out: ByteOutput) {
        let removalVerb = header.removalAction == .terminate ? "terminate" : "report as gone"
        out.write("Plan for job \(header.job)\n  source:   \(header.source)\n  snapshot: \(header.snapshot)\n")
        if let read = changes.read, read.kind == .changes || read.position != nil {
            out.write(
                "  read:     \(read.kind == .changes ? "only the changes" : "everything"): \(read.reason) "
                    + "(\(read.entries) entries)\n")
        }
        out.write(
            "  \(changes.recordsRead) records read: \(changes.creates.count) to create, "
                + "\(changes.updates.count) to update, \(changes.removals.count) to \(removalVerb), "
                + (changes.rekeys.isEmpty ? "" : "\(changes.rekeys.count) re-keyed (never terminated), ")
                + "\(changes.unchanged) unchanged, \(changes.invalid.count) invalid"
                + (changes.held.isEmpty ? "" : ", \(changes.held.count) held")
                + (changes.filtered > 0 ? " (\(changes.filtered) more left out by include/exclude)" : "") + "\n")
        sent(changes, to: out)
        gone(changes, header: header, to: out)
        held(changes, to: out)
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

    /// Who is created, updated and re-keyed.
    private static func sent(_ changes: ChangeSet, to out: ByteOutput) {
        let layout = changes.layout
        let printer = RowPrinter(layout: layout, out: out)
        if !changes.creates.isEmpty {
            out.write("\nCreate (\(changes.creates.count))\n")
            // perf: By index: a for-in loop copies (retains and releases) each row.
            for i in changes.creates.indices {
                out.write("  + ")
                printer.write(changes.creates[i], details: true)
                out.write(byte: UInt8(ascii: "\n"))
            }
        }
        if !changes.updates.isEmpty {
            out.write("\nUpdate (\(changes.updates.count))\n")
            for update in changes.updates {
                out.write("  ~ ")
                printer.write(update.row, details: false)
                out.write("  ")
                out.write(
                    update.changed.map { field in
                        describeChange(field, update, layout)
                            + (changes.fieldSources[field].map { " (from \($0.joined(separator: " or ")))" } ?? "")
                    }.joined(separator: "; "))
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
    }

    /// Who goes (now, after the grace period, on HR's days) and who starts later.
    private static func gone(_ changes: ChangeSet, header: PlanHeader, to out: ByteOutput) {
        let layout = changes.layout
        if !changes.removals.isEmpty {
            let title = header.removalAction == .terminate ? "Terminate" : "Gone from the source (reported only)"
            out.write("\n\(title) (\(changes.removals.count))\n")
            for removal in changes.removals {
                let why =
                    removal.endedOn.map { "left on \($0) (dates.ends_on)" }
                    ?? "missing since \(Timestamps.iso(removal.missingSince))"
                out.write(
                    "  - \(removal.person.sourceID)  \(identity(removal.person.fields, layout.catalog))  \(why)\n")
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
        for (title, list) in [
            ("Starting later: not created until their first day (dates.starts_on)", changes.starting),
            ("Leaving: terminated from their last day (dates.ends_on)", changes.leaving),
        ] where !list.isEmpty {
            out.write("\n\(title) (\(list.count))\n")
            for person in list { out.write("  \(person.day)  \(person.sourceID)\n") }
        }
    }

    /// What joined sources gave, and who is not sent: left unsent, held, invalid.
    private static func held(_ changes: ChangeSet, to out: ByteOutput) {
        if !changes.joined.isEmpty {
            out.write(
                "\nJoined: "
                    + changes.joined.map { "\($0.source) \($0.records) records, \($0.matched) matched" }
                    .joined(separator: "; ") + "\n")
        }
        for unmatched in changes.unmatched {
            out.write(
                "\nIn \(unmatched.source), matching no one: never a person (\(unmatched.ids.count))\n  "
                    + unmatched.ids.prefix(20).joined(separator: ", ")
                    + (unmatched.ids.count > 20 ? ", … and \(unmatched.ids.count - 20) more" : "") + "\n")
        }
        if changes.leftUnsent > 0 {
            out.write("\n\(changes.leftUnsent) in the source left before they were ever sent: nothing to do\n")
        }
        if !changes.held.isEmpty {
            out.write("\nHeld, not sent: the API would match them to someone else's record (\(changes.held.count))\n")
            for person in changes.held {
                let place = person.row.location.map { " (\($0))" } ?? ""
                out.write("  ! \(person.sourceID)\(place)  \(person.reason)\n")
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
            if named { out.write(byte: UInt8(ascii: " ")) }
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
