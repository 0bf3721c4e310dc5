import ArgumentParser
import ConnectorCore

/// `compliance-sync connectors`: the source types this build knows.
struct ConnectorsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connectors", abstract: "List the source types (source.type) this build knows.")

    func run() throws {
        let types = CommandContext.registry.types
        let width = types.map(\.type.count).max() ?? 0
        for (type, summary) in types {
            print(type.padding(toLength: width + 2, withPad: " ", startingAt: 0) + summary)
        }
    }
}
