import Foundation

/// What `swift package new-connector NAME` writes: a connector module with a
/// `UserSource` skeleton, its settings type and a conformance test, plus the
/// manifest lines that make it part of the package's command line. Pure text
/// work, so tests can check it without running the plugin (Tests/NewConnectorTests
/// links this file).
///
/// In a package that depends on compliance-sync, the connector is a package of
/// its own under `Connectors/`, so that it and its tests build with nothing
/// heavier than `ConnectorCore` (`swift test --package-path Connectors/…`),
/// while the executable that embeds it builds in the package above. Inside
/// compliance-sync itself, it is a pair of targets of that package.
struct ConnectorScaffold {
    /// How the connector's own package reaches compliance-sync.
    struct CorePackage {
        /// The name products are taken from: `.product(name: "ConnectorCore", package: name)`.
        var name: String
        /// The dependency as the connector's `Package.swift` writes it, such as
        /// `.package(name: "compliance-sync", path: "../..")`.
        var dependency: String
    }

    /// The connector's name in UpperCamelCase, such as `Workday`.
    let name: String
    /// compliance-sync as a dependency, or `nil` inside compliance-sync itself.
    let corePackage: CorePackage?

    /// Why a name cannot be used, or `nil` when it can.
    static func problem(with name: String) -> String? {
        guard let first = name.unicodeScalars.first else { return "give the connector a name, such as Workday" }
        guard first.properties.isUppercase, first.isASCII,
            name.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)) })
        else {
            return
                "\"\(name)\" is not a name in UpperCamelCase (letters and digits, starting with a capital), such as Workday"
        }
        return nil
    }

    /// The module: `WorkdayConnector`.
    var module: String { Self.module(for: name) }
    /// The source type: `WorkdaySource`.
    var source: String { name + "Source" }
    /// The settings type: `WorkdaySettings`.
    var settings: String { name + "Settings" }
    /// The `type:` in job files: `workday`.
    var typeName: String { name.lowercased() }
    /// Where the connector's package goes, relative to the package root: `Connectors/WorkdayConnector`;
    /// `nil` inside compliance-sync, where the targets go in the package itself.
    var packageFolder: String? { corePackage == nil ? nil : Self.packageFolder(for: name) }

    /// A connector's module: `WorkdayConnector` for `Workday`.
    static func module(for name: String) -> String { name + "Connector" }

    /// Where a connector's own package goes: `Connectors/WorkdayConnector` for `Workday`.
    static func packageFolder(for name: String) -> String { "Connectors/" + module(for: name) }

    /// Files to write, by path relative to the package root.
    var files: [(path: String, contents: String)] {
        let folder = packageFolder.map { $0 + "/" } ?? ""
        var files = [
            ("\(folder)Sources/\(module)/\(source).swift", sourceFile),
            ("\(folder)Sources/\(module)/\(settings).swift", settingsFile),
            ("\(folder)Tests/\(module)Tests/\(source)Tests.swift", testFile),
        ]
        if let corePackage {
            files.insert(("\(folder)Package.swift", connectorManifest(corePackage)), at: 0)
            files += [("\(folder)Sources/\(program)/main.swift", programFile), ("\(folder)\(typeName).yml", jobFile)]
        }
        return files
    }

    /// The connector as a program of its own, which an installed compliance-sync runs with
    /// `source.type: exec`: `workday-connector` (written only in a package of its own).
    var program: String { typeName + "-connector" }

    /// The command that builds the program, from the package root.
    var programBuildCommand: String? {
        packageFolder.map { "swift build -c release --package-path \($0) --product \(program)" }
    }

    /// The command that builds the connector and runs its test.
    var testCommand: String {
        packageFolder.map { "swift test --package-path \($0)" } ?? "swift test --filter \(source)Tests"
    }

    /// Lines appended to Package.swift: the connector's package (or its targets, inside
    /// compliance-sync) and the module added to the executables that start the command line.
    func manifestAddition(executables: [String]) -> String {
        guard let packageFolder else {
            var text = """

                // Added by `swift package new-connector \(name)`.
                package.targets += [
                    .target(name: "\(module)", dependencies: ["ConnectorCore"]),
                    .testTarget(name: "\(module)Tests", dependencies: ["\(module)", "ConnectorCore", "ConnectorTestKit"]),
                ]

                """
            for executable in executables {
                text += "package.targets.first { $0.name == \"\(executable)\" }?.dependencies.append(\"\(module)\")\n"
            }
            return text
        }
        var text = """

            // Added by `swift package new-connector \(name)`: the connector is a package of its own
            // (\(packageFolder)), so it and its test build without the command line's dependencies.
            package.dependencies.append(.package(path: "\(packageFolder)"))

            """
        for executable in executables {
            text += """
                package.targets.first { $0.name == "\(executable)" }?.dependencies.append(
                    .product(name: "\(module)", package: "\(module)"))

                """
        }
        return text
    }

    /// The connector package's manifest.
    private func connectorManifest(_ core: CorePackage) -> String {
        """
        // swift-tools-version: 6.0
        // The \(name) connector, a package of its own: `swift test` here builds it and its
        // conformance test with nothing heavier than ConnectorCore. Two ways to run it: as
        // `\(program)`, a program an installed compliance-sync runs (`source.type: exec`,
        // see \(typeName).yml), or embedded in a command line of the package above.
        import PackageDescription

        let package = Package(
            name: "\(module)",
            platforms: [.macOS(.v15)],
            products: [
                .library(name: "\(module)", targets: ["\(module)"]),
                .executable(name: "\(program)", targets: ["\(program)"]),
            ],
            dependencies: [
                \(core.dependency)
            ],
            targets: [
                .target(
                    name: "\(module)",
                    dependencies: [.product(name: "ConnectorCore", package: "\(core.name)")]
                ),
                .executableTarget(
                    name: "\(program)",
                    dependencies: ["\(module)", .product(name: "ConnectorCore", package: "\(core.name)")]
                ),
                .testTarget(
                    name: "\(module)Tests",
                    dependencies: [
                        "\(module)",
                        .product(name: "ConnectorCore", package: "\(core.name)"),
                        .product(name: "ConnectorTestKit", package: "\(core.name)"),
                    ]
                ),
            ]
        )

        """
    }

    /// Registers the connector in an executable's `main.swift` that starts the
    /// command line with `ComplianceSyncCommand.main(connectors: …)`.
    /// - Returns: the new text, or `nil` when the call is not there in a form this understands.
    func register(inMain text: String) -> String? {
        let call = "ComplianceSyncCommand.main(connectors: "
        guard let start = text.range(of: call), let end = text[start.upperBound...].firstIndex(of: ")") else {
            return nil
        }
        let argument = text[start.upperBound..<end].trimmingCharacters(in: .whitespaces)
        let registered: String
        if argument.hasSuffix("]") {
            registered = String(argument.dropLast()) + ", \(source).self]"
        } else {
            registered = argument + " + [\(source).self]"
        }
        var result = text
        result.replaceSubrange(start.upperBound..<end, with: registered)
        return "import \(module)\n" + result
    }

    private var sourceFile: String {
        """
        import Foundation
        import ConnectorCore

        /// People from \(name) (`source.type: \(typeName)`).
        ///
        /// This skeleton reads a JSON export, an array of objects, from the file at
        /// `path`: replace `fetchPeople` with calls to \(name). Keep the rules the
        /// conformance test checks: every person once, with a stable id; throw on
        /// any failure rather than stopping early; errors name where they happened.
        public struct \(source): UserSource, SourceConnector {
            public static let type = "\(typeName)"
            public static let summary = "people from \(name): path, id"

            /// Where and how to read.
            public var settings: \(settings)

            /// Creates a source.
            public init(settings: \(settings)) {
                self.settings = settings
            }

            public static func makeSource(section: ConfigSection, context: SourceContext) throws -> any UserSource {
                \(source)(settings: try \(settings)(section: section, folder: context.folder))
            }

            public var description: String { "\(typeName) \\(settings.path)" }

            /// Reads on a thread of its own, so blocking calls never hold up Swift's cooperative threads.
            public func records() -> ThreadedRecordStream {
                ThreadedRecordStream(name: "\(typeName)-reader") { [settings] emitter in
                    for (index, person) in try Self.fetchPeople(settings).enumerated() {
                        let location = SourceLocation("\\(settings.path), person \\(index + 1)")
                        // As the `json` source reads a record: nested objects with dots (`manager.name`),
                        // lists as several values.
                        let attributes = try JSONValues.attributes(of: person, location: location)
                        guard case .text(let id)? = attributes[settings.idField], !id.isEmpty else {
                            throw SyncError(.source, "\\(location): no \\(settings.idField)",
                                            hint: "every person needs a \\(settings.idField)")
                        }
                        try emitter.emit(SourceRecord(id: id, attributes: attributes, location: location))
                    }
                }
            }

            /// Every person \(name) holds. Replace with calls to \(name)'s API.
            static func fetchPeople(_ settings: \(settings)) throws -> [[String: Any]] {
                guard let data = FileManager.default.contents(atPath: settings.path) else {
                    throw SyncError(.source, "cannot read \\(settings.path)", hint: "check the path and its permissions")
                }
                let parsed: Any
                do {
                    parsed = try JSONSerialization.jsonObject(with: data)
                } catch {
                    throw SyncError(.source, "\\(settings.path) is not valid JSON: \\(JSONValues.describe(error))")
                }
                guard let list = parsed as? [Any] else {
                    throw SyncError(.source, "\\(settings.path) is not a JSON array of people")
                }
                return try list.enumerated().map { index, item in
                    guard let person = item as? [String: Any] else {
                        throw SyncError(
                            .source, "\\(settings.path), person \\(index + 1): not a JSON object but \\(JSONValues.kind(of: item))")
                    }
                    return person
                }
            }
        }

        """
    }

    private var programFile: String {
        """
        import ConnectorCore
        import Foundation
        import \(module)

        // \(program) EXPORT [ID_FIELD]: prints \(name)'s people in the exec protocol on standard
        // output, for an installed compliance-sync to run with `source.type: exec` (see \(typeName).yml).
        // A read that fails exits 1 with its error on standard error and nothing is sent.
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard (1...2).contains(arguments.count) else {
            FileHandle.standardError.write(Data("usage: \(program) EXPORT [ID_FIELD]\\n".utf8))
            exit(2)
        }
        var settings = \(settings)(path: arguments[0])
        if arguments.count == 2 { settings.idField = arguments[1] }
        await ExecProtocolServer.main(\(source)(settings: settings))

        """
    }

    private var jobFile: String {
        """
        # A job that runs the \(name) connector as a program with the installed compliance-sync.
        # Build the program first (from the package above this folder):
        #   \(programBuildCommand ?? "")
        # then: compliance-sync validate --config \(packageFolder ?? ".")/\(typeName).yml, plan, sync.
        api:
          base_url: ${COMPLIANCE_URL}
          client_id: ${COMPLIANCE_CLIENT_ID}
          client_secret_env: COMPLIANCE_CLIENT_SECRET
        source:
          type: exec
          # Relative to this file's folder; arguments as \(program) takes them.
          command: [.build/release/\(program), people.json, id]
          require_end: true          # the program's end line says how many it printed
          timeout_seconds: 600
        mapping:
          first_name: first_name
          last_name: last_name
          email: { attribute: email, transform: [trim, lowercase] }
          employee_id: id
        removals:
          action: terminate
          max_percent: 20
        snapshot:
          path: .state/\(typeName).snapshot

        """
    }

    private var settingsFile: String {
        """
        import ConnectorCore

        /// The settings of a `\(typeName)` source, read from the job file's `source:` section.
        public struct \(settings): Sendable {
            /// The export to read.
            public var path: String
            /// The key that identifies a person.
            public var idField = "id"

            /// Settings for an export at `path`.
            public init(path: String) {
                self.path = path
            }

            /// Reads `path` and `id`; an unknown key is reported by the registry with its line.
            public init(section: ConfigSection, folder: String) throws {
                guard let path = try section.path("path", relativeTo: folder) else {
                    throw section.node.error("needs `path:`, the \(name) export to read")
                }
                self.init(path: path)
                idField = try section.string("id") ?? idField
            }
        }

        """
    }

    private var testFile: String {
        """
        import ConnectorTestKit
        import Foundation
        import ConnectorCore
        import Testing
        import \(module)

        @Suite struct \(source)Tests {
            @Test func keepsTheConnectorContract() async throws {
                let folder = FileManager.default.temporaryDirectory.appendingPathComponent("\(typeName)-\\(UUID())")
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(at: folder) }
                let people = (1...500).map {
                    #"{"id": "P\\#($0)", "first_name": "Zoë", "last_name": "Person \\#($0)", "manager": {"id": "P1"}}"#
                }
                let good = folder.appendingPathComponent("people.json").path
                try ("[" + people.joined(separator: ",") + "]").write(toFile: good, atomically: true, encoding: .utf8)
                let broken = folder.appendingPathComponent("broken.json").path
                try ("[" + people.prefix(200).joined(separator: ",") + ",{\\"id\\":").write(
                    toFile: broken, atomically: true, encoding: .utf8)

                try await ConnectorConformance(
                    source: { \(source)(settings: \(settings)(path: good)) },
                    failing: { \(source)(settings: \(settings)(path: broken)) }
                ).verify()
                // Nested objects read as the `json` source reads them.
                let first = try await readAll(\(source)(settings: \(settings)(path: good))).first
                #expect(first?["manager.id"] == .text("P1"))
            }
        }

        """
    }
}
