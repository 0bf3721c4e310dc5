import Testing

/// The text the new-connector plugin writes (the plugin itself runs in scripts/test-examples).
@Suite struct ScaffoldTests {
    @Test(arguments: ["Workday", "BambooHR2", "A"]) func acceptsUpperCamelCaseNames(_ name: String) {
        #expect(ConnectorScaffold.problem(with: name) == nil)
    }

    @Test(arguments: ["", "workday", "Work day", "Work-day", "Émile", "2Fast"]) func refusesOtherNames(_ name: String) {
        #expect(ConnectorScaffold.problem(with: name) != nil)
    }

    @Test func writesAModuleItsSettingsAndAConformanceTest() {
        let scaffold = ConnectorScaffold(name: "Workday", corePackage: nil)
        #expect(scaffold.programBuildCommand == nil, "inside compliance-sync, a connector is built in")
        #expect(
            scaffold.files.map(\.path) == [
                "Sources/WorkdayConnector/WorkdaySource.swift", "Sources/WorkdayConnector/WorkdaySettings.swift",
                "Tests/WorkdayConnectorTests/WorkdaySourceTests.swift",
            ])
        let source = scaffold.files[0].contents
        #expect(source.contains("public struct WorkdaySource: UserSource, SourceConnector"))
        #expect(source.contains("public static let type = \"workday\""))
        #expect(scaffold.files[2].contents.contains("try await ConnectorConformance("))
    }

    @Test func outsideCompliancesSyncTheConnectorIsAPackageOfItsOwn() {
        let core = ConnectorScaffold.CorePackage(
            name: "compliance-sync", dependency: #".package(name: "compliance-sync", path: "../../..")"#)
        let scaffold = ConnectorScaffold(name: "Workday", corePackage: core)
        #expect(
            scaffold.files.map(\.path) == [
                "Connectors/WorkdayConnector/Package.swift",
                "Connectors/WorkdayConnector/Sources/WorkdayConnector/WorkdaySource.swift",
                "Connectors/WorkdayConnector/Sources/WorkdayConnector/WorkdaySettings.swift",
                "Connectors/WorkdayConnector/Tests/WorkdayConnectorTests/WorkdaySourceTests.swift",
                "Connectors/WorkdayConnector/Sources/workday-connector/main.swift",
                "Connectors/WorkdayConnector/workday.yml",
            ])
        let manifest = scaffold.files[0].contents
        #expect(manifest.contains(#".executable(name: "workday-connector", targets: ["workday-connector"])"#))
        #expect(scaffold.files[4].contents.contains("await ExecProtocolServer.main(WorkdaySource(settings: settings))"))
        #expect(scaffold.files[5].contents.contains("command: [.build/release/workday-connector, people.json, id]"))
        #expect(
            scaffold.programBuildCommand
                == "swift build -c release --package-path Connectors/WorkdayConnector --product workday-connector")
        #expect(manifest.contains(#".package(name: "compliance-sync", path: "../../..")"#))
        #expect(manifest.contains(#".product(name: "ConnectorTestKit", package: "compliance-sync")"#))
        #expect(!manifest.contains("ComplianceSyncCLI"), "the connector's graph stays light")
        #expect(scaffold.testCommand == "swift test --package-path Connectors/WorkdayConnector")
        let addition = scaffold.manifestAddition(executables: ["hr-sync"])
        #expect(addition.contains(#"package.dependencies.append(.package(path: "Connectors/WorkdayConnector"))"#))
        #expect(addition.contains(#".product(name: "WorkdayConnector", package: "WorkdayConnector")"#))
    }

    @Test func insideComplianceSyncTheConnectorIsTwoTargets() {
        let inside = ConnectorScaffold(name: "Workday", corePackage: nil).manifestAddition(executables: ["cli"])
        #expect(inside.contains(#".target(name: "WorkdayConnector", dependencies: ["ConnectorCore"])"#))
        #expect(
            inside.contains(#"package.targets.first { $0.name == "cli" }?.dependencies.append("WorkdayConnector")"#))
    }

    @Test func registersInTheCommandLinesMain() {
        let scaffold = ConnectorScaffold(name: "Workday", corePackage: nil)
        #expect(
            scaffold.register(
                inMain: "import ComplianceSyncCLI\n\nawait ComplianceSyncCommand.main(connectors: .builtIn)\n")
                == "import WorkdayConnector\nimport ComplianceSyncCLI\n\nawait ComplianceSyncCommand.main(connectors: .builtIn + [WorkdaySource.self])\n"
        )
        #expect(
            scaffold.register(inMain: "await ComplianceSyncCommand.main(connectors: .builtIn + [A.self])")
                == "import WorkdayConnector\nawait ComplianceSyncCommand.main(connectors: .builtIn + [A.self, WorkdaySource.self])"
        )
        #expect(scaffold.register(inMain: "print(1)") == nil)
    }
}
