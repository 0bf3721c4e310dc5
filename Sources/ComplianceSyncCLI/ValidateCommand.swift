import ArgumentParser
import ComplianceAPI
import ConnectorCore
import Foundation
import JobConfig
import SyncCore

/// `compliance-sync validate`: checks the config and reaches the source and snapshot.
struct ValidateCommand: AsyncParsableCommand, JobCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check the config, read the source and open the snapshot; print what was found.")

    @OptionGroup var job: JobOptions

    func run() async throws {
        let (configuration, logger, source) = try job.load()
        print("config:   \(configuration.file): ok (job \(configuration.snapshot.job))")
        let snapshot = try await SnapshotOpening.forReading(configuration.snapshot, logger: logger)
        print("snapshot: \(snapshot.description): ok")
        if let first = try await Self.firstRecord(of: source) {
            print(Self.describe(first, job: configuration))
        }
        let changes = try await Planner(job: configuration, logger: logger).plan(source: source, snapshot: snapshot)
        print("source:   \(source.description): \(changes.recordsRead) records, \(changes.invalid.count) invalid")
        for warning in changes.warnings { print("  warning: \(warning)") }
        for record in changes.invalid.prefix(10) {
            print(
                "  invalid: \(record.sourceID.isEmpty ? "(no id)" : record.sourceID)"
                    + "\(record.location.map { " (\($0))" } ?? ""): \(record.reason)")
        }
        if changes.invalid.count > 10 { print("  … and \(changes.invalid.count - 10) more (see `plan`)") }
        let api = configuration.api
        print("api:      \(api.baseURL.absoluteString), client id \(api.clientID ?? "(not set)")")
        let client = try ComplianceAPIClient(settings: api, logger: logger)
        try await client.closing { try await client.checkCredentials() }
        print("          token endpoint: credentials accepted")
        for webhook in configuration.webhooks {
            let (_, host) = try webhook.resolvedURL()
            print(
                "notify:   \(webhook.name) to \(host) on \(webhook.events.map(\.rawValue).sorted().joined(separator: ", "))"
            )
        }
    }

    /// The source's first record, read on its own (for a paged API, the first page).
    static func firstRecord<Source: UserSource>(of source: Source) async throws -> SourceRecord? {
        for try await record in source.records() { return record }
        return nil
    }

    /// A record's attributes as the mapping names them, one a line, so a new job's mapping can be
    /// written by looking. Values of attributes mapped to a sensitive field, or named like one
    /// (SSN, birth, tax or national id, password), are masked; long values are cut.
    static func describe(_ record: SourceRecord, job: JobConfiguration) -> String {
        let sensitiveFields = Set(job.api.fields.sensitive)
        let masked = Set(job.mapping.filter { sensitiveFields.contains($0.field) }.flatMap(\.attributes))
        let words = ["ssn", "social", "birth", "taxid", "tax_id", "national", "password", "secret"]
        var lines = [
            "  first record: id \(record.id.isEmpty ? "(none)" : record.id)\(record.location.map { ", \($0)" } ?? "")"
        ]
        for (name, value) in record.attributes.sorted(by: { $0.key < $1.key }) {
            let lowered = name.lowercased()
            let text: String
            if masked.contains(name) || words.contains(where: lowered.contains) {
                text = "(masked: sensitive)"
            } else {
                let joined = value.texts.joined(separator: " | ")
                text = joined.count > 80 ? String(joined.prefix(80)) + "…" : joined
            }
            lines.append("    \(name): \(text)")
        }
        return lines.joined(separator: "\n")
    }
}
