import ConnectorCore
import Foundation
import SyncCore

/// One sync job, as its YAML file describes it.
public struct JobConfiguration: Sendable {
    /// The config file's path.
    public var file: String
    /// The folder relative paths are resolved against (the config file's).
    public var folder: String
    /// How to reach the API.
    public var api: APISettings
    /// The `source:` section (or the primary's, with `sources:`), read by the connector its `type:` names.
    public var source: ConfigNode
    /// The named sources and how they join, when the job has `sources:` instead of `source:`.
    public var join: JoinSettings?
    /// Which records of the source (the primary, with `sources:`) count: its `include:` and `exclude:`.
    public var filter = RecordFilter()
    /// The source's `type:`.
    public var sourceType: String
    /// The field mappings, in file order.
    public var mapping: [FieldMapping]
    /// What happens to people who left.
    public var removals: RemovalPolicy
    /// HR's start and leaving dates, if the job uses them (`dates:`).
    public var dates = EffectiveDates()
    /// The other limits that stop a run (`guards:`, `source.min_records`).
    public var guards: GuardPolicy
    /// Where the snapshot lives.
    public var snapshot: SnapshotSettings
    /// Where each run's Prometheus metrics go (`metrics.textfile`), if anywhere.
    public var metricsFile: String?
    /// Webhooks told about runs that need a person (`notify:`).
    public var webhooks: [Webhook] = []
    /// How much run history the snapshot store keeps, and when the job is stale (`history:`).
    public var history = HistoryPolicy()
    /// After how many runs in a row with rows rejected `status` turns critical (`history.rejected_runs_critical`):
    /// one night's rejections are a warning, the same rejection every night is an account drifting.
    public var rejectedRunsCritical = 3

    /// What the job allows a run (`removals:`, `guards:`).
    public var policy: RunPolicy { RunPolicy(removals: removals, guards: guards) }
    /// For a source with a change feed: how long change reads go on before a full read
    /// (`source.full_every`, default 24 h).
    public var fullEvery = Duration.seconds(24 * 3600)
    /// The digest of the settings that decide what a read returns (`source`/`sources`, `mapping`,
    /// `dates`): a change to any of them makes the next run read everything.
    public var readSettingsDigest = ""

    /// Reads a job from a parsed config document.
    /// - Parameters:
    ///   - root: the document.
    ///   - file: the config file's path.
    /// - Throws: ``SyncError`` (kind `.configuration`) naming the key and line of the first problem.
    public init(root: ConfigNode, file: String) throws {
        self.file = file
        folder = URL(fileURLWithPath: file).deletingLastPathComponent().path
        let top = try root.section()
        // The store's secrets first: every setting after may name one.
        var given: [String: Secret] = [:]
        if let secrets = try top.section("secrets") {
            given = try SecretsCommand(section: secrets, folder: folder).fetch(SecretsCommand.names(in: root))
        }
        SecretStore.replace(with: given)
        api = try APISettings(section: top.section("api"), folder: folder)
        if let sources = top.node("sources") {
            if top.has("source") {
                throw sources.error(
                    "is given beside `source:`", hint: "a job reads one `source:`, or several `sources:`, not both")
            }
            join = try JoinSettings(node: sources)
        }
        guard let source = join?.primary.node ?? top.node("source") else {
            throw SyncError.config(
                "the config has no `source:` section", at: root.location,
                hint: "add `source:` with a `type:` (see `compliance-sync connectors`), or `sources:` to join several")
        }
        let sourceSection = try source.section()
        filter = try RecordFilter(section: sourceSection)
        fullEvery = try sourceSection.duration("full_every") ?? fullEvery
        readSettingsDigest = ChangeReadPolicy.digest(of: [
            top.node("source"), top.node("sources"), top.node("mapping"), top.node("dates"),
        ])
        sourceType = try sourceSection.requiredString("type", hint: "see `compliance-sync connectors` for the types")
        self.source = source
        guard let mappingNode = top.node("mapping") else {
            throw SyncError.config(
                "the config has no `mapping:` section", at: root.location,
                hint: "map at least first_name, last_name and email")
        }
        let mappingSection = try mappingNode.section()
        let catalog = api.fields
        let folder = folder
        mapping = try mappingSection.keys.map { field in
            guard let node = mappingSection.node(field) else {
                throw SyncError.config(
                    "`mapping.\(field)` maps to nothing", at: mappingNode.location,
                    hint: "name the attribute it comes from, or remove the line")
            }
            guard catalog.known.contains(field) else {
                throw node.error(
                    "is not an import field the API knows",
                    hint: "fields are: \(catalog.known.joined(separator: ", ")); "
                        + "add it to api.fields.known if the API has gained it")
            }
            return try FieldMapping(field: field, node: node, folder: folder)
        }
        for field in api.fields.required where !mapping.contains(where: { $0.field == field }) {
            throw mappingNode.error(
                "does not map the required field `\(field)`",
                hint: "every row must carry \(api.fields.required.joined(separator: ", "))")
        }
        removals = try RemovalPolicy(section: top.section("removals"))
        dates = try EffectiveDates(section: top.section("dates"))
        guards = try GuardPolicy(section: top.section("guards"), source: sourceSection)
        let base = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        snapshot = try SnapshotSettings(section: top.section("snapshot"), defaultJob: base, folder: folder)
        webhooks = try Webhook.list(top.node("notify"), folder: folder)
        if let metrics = try top.section("metrics") {
            metricsFile = try metrics.path("textfile", relativeTo: folder)
            try metrics.finish()
        }
        if let history = try top.section("history") {
            self.history.keep = try history.int("keep", in: 1...100_000) ?? self.history.keep
            self.history.keepEvents = try history.int("keep_events", in: 1...1_000_000_000) ?? self.history.keepEvents
            self.history.staleAfter = try history.duration("stale_after") ?? self.history.staleAfter
            rejectedRunsCritical = try history.int("rejected_runs_critical", in: 1...1000) ?? rejectedRunsCritical
            try history.finish()
        }
        try top.finish()
    }

    /// The attribute names the job reads of its source's records: the mapping's, `dates:`'s and, for
    /// a single source, those its `include:`/`exclude:` test (a connector may fetch only these).
    /// With `sources:`, ``JoinSettings/attributes(of:mapped:)`` adds each member's filter and join.
    public var mappedAttributes: [String] {
        var names: [String] = []
        let all = mapping + [dates.startsOn, dates.endsOn].compactMap { $0 }
        for mapping in all { for name in mapping.attributes where !names.contains(name) { names.append(name) } }
        if let ended = dates.endedWhen?.attribute, ended != FieldMapping.sourceIDAttribute, !names.contains(ended) {
            names.append(ended)
        }
        if join == nil { for name in filter.attributes where !names.contains(name) { names.append(name) } }
        return names
    }
}
