import ArgumentParser
import ComplianceAPI
import Foundation
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
}
