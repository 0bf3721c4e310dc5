import ConnectorCore
import Foundation
import SyncCore

/// The plan for programs (`--format json`, docs/plan-format.md).
extension PlanRendering {
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
        summary(changes, &json)
        if let read = changes.read {
            json.key("read")
            json.beginObject()
            json.field("kind", read.kind.rawValue)
            json.field("reason", read.reason)
            json.field("entries", read.entries)
            json.endObject()
        }
        json.field("stopped", error: header.stoppedBy)
        json.field("warnings", strings: changes.warnings)
        json.key("creates")
        json.beginArray()
        writeCreates(changes.creates, layout: layout, to: &json)
        json.endArray()
        updates(changes, &json)
        rekeys(changes, &json)
        removals(changes, &json)
        held(changes, &json)
        joins(changes, &json)
        dated(changes, &json)
        invalid(changes, &json)
        json.endObject()
        out.write("\n")
        out.flush()
    }

    private static func summary(_ changes: ChangeSet, _ json: inout JSONWriter) {
        json.key("summary")
        json.beginObject()
        json.field("records", changes.recordsRead)
        json.field("filtered", changes.filtered)
        json.field("creates", changes.creates.count)
        json.field("updates", changes.updates.count)
        json.field("rekeys", changes.rekeys.count)
        json.field("held", changes.held.count)
        json.field("removals", changes.removals.count)
        json.field("waiting", changes.waiting.count)
        json.field("unchanged", changes.unchanged)
        json.field("invalid", changes.invalid.count)
        json.field("starting", changes.starting.count)
        json.field("leaving", changes.leaving.count)
        json.field("left_unsent", changes.leftUnsent)
        json.field("unmatched", changes.unmatched.reduce(0) { $0 + $1.ids.count })
        json.endObject()
    }

    private static func updates(_ changes: ChangeSet, _ json: inout JSONWriter) {
        let layout = changes.layout
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
    }

    private static func rekeys(_ changes: ChangeSet, _ json: inout JSONWriter) {
        let catalog = changes.layout.catalog
        json.key("rekeys")
        json.beginArray()
        for rekey in changes.rekeys {
            json.beginObject()
            json.field("from", rekey.previous.sourceID)
            json.field("source_id", rekey.sourceID)
            json.field("matched_on", rekey.matchedOn)
            json.field("changed", strings: rekey.changed)
            json.key("fields")
            fields(
                Masking.shown(stored: rekey.previous.fields, catalog: catalog)
                    .filter { catalog.identity.contains($0.field) }, &json)
            json.endObject()
        }
        json.endArray()
    }

    private static func removals(_ changes: ChangeSet, _ json: inout JSONWriter) {
        let catalog = changes.layout.catalog
        for (name, list) in [("removals", changes.removals), ("waiting", changes.waiting)] {
            json.key(name)
            json.beginArray()
            for removal in list {
                json.beginObject()
                json.field("source_id", removal.person.sourceID)
                json.key("fields")
                fields(
                    Masking.shown(stored: removal.person.fields, catalog: catalog)
                        .filter { catalog.identity.contains($0.field) }, &json)
                json.field("missing_since", Timestamps.iso(removal.missingSince))
                json.field("due_at", Timestamps.iso(removal.dueAt))
                json.field("ended_on", removal.endedOn)
                json.endObject()
            }
            json.endArray()
        }
    }

    private static func held(_ changes: ChangeSet, _ json: inout JSONWriter) {
        json.key("held")
        json.beginArray()
        for person in changes.held {
            json.beginObject()
            json.field("source_id", person.sourceID)
            json.field("location", person.row.location?.description)
            json.field("employee_id", person.employeeID)
            json.field("field", person.field)
            json.field("holder", person.holder)
            json.field("holder_employee_id", person.holderEmployeeID)
            json.field("released_this_run", person.releasedThisRun)
            json.field("reason", person.reason)
            json.endObject()
        }
        json.endArray()
    }

    /// With joined sources: what each gave, what matched nobody, and where each field comes from.
    private static func joins(_ changes: ChangeSet, _ json: inout JSONWriter) {
        json.key("joined")
        json.beginArray()
        for member in changes.joined {
            json.beginObject()
            json.field("source", member.source)
            json.field("records", member.records)
            json.field("matched", member.matched)
            json.endObject()
        }
        json.endArray()
        json.key("unmatched")
        json.beginArray()
        for unmatched in changes.unmatched {
            json.beginObject()
            json.field("source", unmatched.source)
            json.field("source_ids", strings: unmatched.ids)
            json.endObject()
        }
        json.endArray()
        json.key("field_sources")
        json.beginObject()
        for field in changes.fieldSources.keys.sorted() { json.field(field, strings: changes.fieldSources[field]!) }
        json.endObject()
    }

    private static func dated(_ changes: ChangeSet, _ json: inout JSONWriter) {
        for (name, key, list) in [
            ("starting", "starts_on", changes.starting), ("leaving", "ends_on", changes.leaving),
        ] {
            json.key(name)
            json.beginArray()
            for person in list {
                json.beginObject()
                json.field("source_id", person.sourceID)
                json.field(key, person.day)
                json.endObject()
            }
            json.endArray()
        }
    }

    private static func invalid(_ changes: ChangeSet, _ json: inout JSONWriter) {
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
    }

    /// Creates rendered at a time by each of the two threads that render them.
    static let createsPerChunk = 4096

    /// Writes the creates as array elements. On a first run they are nearly the whole plan, so two
    /// threads render them a chunk each, into memory, and the chunks are written in order: the
    /// rendering takes half the time, and never more than two chunks are held.
    private static func writeCreates(_ creates: [PlannedRow], layout: RowLayout, to json: inout JSONWriter) {
        var start = creates.startIndex
        while start < creates.endIndex {
            let middle = min(start + createsPerChunk, creates.endIndex)
            let ranges = [start..<middle, middle..<min(middle + createsPerChunk, creates.endIndex)]
            var rendered: [[UInt8]] = [[], []]
            rendered.withUnsafeMutableBufferPointer { slots in
                // Safety: each of the two iterations writes its own slot only, and both end before the
                // buffer is read.
                nonisolated(unsafe) let slots = slots
                DispatchQueue.concurrentPerform(iterations: 2) { k in
                    // perf: a format of each thread's own, made per chunk: the two threads retaining the
                    // same prepared keys for every field of every row made each retain a contended atomic
                    // (swift_retain was 16 % of a first plan's CPU, perf record at 300,000 creates).
                    slots[k] = CreateFormat(layout: layout).render(creates[ranges[k]])
                }
            }
            for bytes in rendered where !bytes.isEmpty { json.elements(rendered: bytes) }
            start = ranges[1].upperBound
        }
    }

    /// How a create is written: its keys rendered once, its masks looked up once per field.
    private struct CreateFormat: Sendable {
        let masks: [String?]
        let keys: [JSONWriter.PreparedKey]
        let sourceID = JSONWriter.PreparedKey("source_id")
        let location = JSONWriter.PreparedKey("location")
        let fields = JSONWriter.PreparedKey("fields")

        init(layout: RowLayout) {
            masks = layout.fields.indices.map {
                layout.sensitive[$0] ? Masking.mask(field: layout.fields[$0], catalog: layout.catalog) : nil
            }
            keys = layout.fields.map(JSONWriter.PreparedKey.init)
        }

        /// The creates as comma-separated JSON objects.
        func render(_ creates: ArraySlice<PlannedRow>) -> [UInt8] {
            let out = ByteOutput()
            var json = JSONWriter(out)
            for i in creates.indices {
                json.beginObject()
                json.key(sourceID)
                json.value(creates[i].sourceID)
                json.key(location)
                json.value(location: creates[i].location)
                json.key(fields)
                json.beginObject()
                for f in creates[i].values.indices {
                    guard let value = creates[i].values[f] else { continue }
                    json.key(keys[f])
                    json.value(masks[f] ?? value)
                }
                json.endObject()
                json.endObject()
            }
            return out.collected()
        }
    }

    static func fields(_ pairs: [(field: String, value: String)], _ json: inout JSONWriter) {
        json.beginObject()
        for (field, value) in pairs { json.field(field, value) }
        json.endObject()
    }
}
