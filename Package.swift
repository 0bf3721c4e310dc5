// swift-tools-version: 6.2
import PackageDescription

/// Settings every target of ours shares: Swift 6 mode, no warnings, explicit existentials.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .treatAllWarnings(as: .error),
]

let package = Package(
    name: "compliance-sync",
    // Linux only: the code calls glibc, libldap and libpq directly. The macOS line is the minimum the
    // dependencies ask for, so that the manifest resolves on a Mac; the package does not build there.
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "compliance-sync", targets: ["compliance-sync"]),
        .library(name: "ConnectorCore", targets: ["ConnectorCore"]),
        .library(name: "SyncCore", targets: ["SyncCore"]),
        .library(name: "SyncOutput", targets: ["SyncOutput"]),
        .library(name: "JobConfig", targets: ["JobConfig"]),
        .library(name: "SQLiteSnapshotStore", targets: ["SQLiteSnapshotStore"]),
        .library(name: "FileConnector", targets: ["FileConnector"]),
        .library(name: "LDAPConnector", targets: ["LDAPConnector"]),
        .library(name: "PostgresConnector", targets: ["PostgresConnector"]),
        .library(name: "ExecConnector", targets: ["ExecConnector"]),
        .library(name: "HTTPConnector", targets: ["HTTPConnector"]),
        .library(name: "PostgresSnapshotStore", targets: ["PostgresSnapshotStore"]),
        .library(name: "ComplianceSyncCLI", targets: ["ComplianceSyncCLI"]),
        .library(name: "ConnectorTestKit", targets: ["ConnectorTestKit"]),
        .library(name: "ComplianceAPI", targets: ["ComplianceAPI"]),
        .library(name: "ComplianceSimulator", targets: ["ComplianceSimulator"]),
        .executable(name: "compliance-sim", targets: ["compliance-sim"]),
        .plugin(name: "NewConnector", targets: ["NewConnector"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.21.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        // Already built for AsyncHTTPClient; named for the API client's extra CAs and certificate probe.
        .package(url: "https://github.com/apple/swift-nio", from: "2.60.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.30.0"),
    ],
    targets: [
        // What a connector needs: sources, records and their values, config sections, secrets, errors.
        // Nothing heavier than swift-log, so a connector and its tests build in seconds.
        .target(
            name: "ConnectorCore", dependencies: [.product(name: "Logging", package: "swift-log")],
            swiftSettings: strict),
        // Hosts, certificate names and proxies of the connections a job makes (not part of the connector API).
        .target(name: "NetworkNames", dependencies: ["ConnectorCore"], swiftSettings: strict),
        // The sync engine: mapping, validation, diff, guards, plan, sync, run history. No networking, no C of ours.
        .target(
            name: "SyncCore",
            dependencies: [
                "ConnectorCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // The job file: JobConfiguration and the settings of the API, the snapshot, webhooks and proxies.
        // It builds the engine's values (mapping, policies); the engine never reads it.
        .target(
            name: "JobConfig", dependencies: ["ConnectorCore", "SyncCore", "NetworkNames", "ChildProcesses"],
            swiftSettings: strict),
        // What runs say: plan text and JSON, run reports, status, metrics, notification bodies. Reads the
        // engine's values; the engine never reads it, so a format changes without rebuilding the engine.
        .target(name: "SyncOutput", dependencies: ["ConnectorCore", "SyncCore", "JobConfig"], swiftSettings: strict),
        // The embedded snapshot store: one SQLite file per job.
        .target(
            name: "SQLiteSnapshotStore",
            dependencies: [
                "ConnectorCore", "SyncCore", "JobConfig",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: strict
        ),
        // OpenLDAP's client library, through pkg-config.
        .systemLibrary(name: "CLDAP", pkgConfig: "ldap", providers: [.apt(["libldap-dev", "libsasl2-dev"])]),
        // MIT Kerberos, for binds with a keytab (SASL GSSAPI).
        .systemLibrary(name: "CKerberos", providers: [.apt(["libkrb5-dev"])]),
        // LDAP and Active Directory sources over libldap.
        .target(
            name: "LDAPConnector",
            dependencies: [
                "ConnectorCore", "CLDAP", "CKerberos", "NetworkNames", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // PostgreSQL's client library, through pkg-config.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        // A libpq connection with streamed queries and readable errors, for the source and the store.
        .target(
            name: "PostgresClient",
            dependencies: ["ConnectorCore", "CLibPQ", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // People from a PostgreSQL query.
        .target(
            name: "PostgresConnector",
            dependencies: ["ConnectorCore", "PostgresClient", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // The snapshot in PostgreSQL, shared by two sync hosts.
        .target(
            name: "PostgresSnapshotStore",
            dependencies: [
                "ConnectorCore", "SyncCore", "JobConfig", "PostgresClient",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The few glibc functions Swift's Glibc module leaves out (declared only under _GNU_SOURCE).
        .target(name: "CSystemShims"),
        // Programs the job runs (an exec source, the secrets command): no shell, a process group
        // of their own, nothing of this process inherited, stopped whole.
        .target(name: "ChildProcesses", dependencies: ["CSystemShims"], swiftSettings: strict),
        // Connectors in any language: a program that prints JSON Lines.
        .target(
            name: "ExecConnector",
            dependencies: ["ConnectorCore", "ChildProcesses", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // CSV, JSON Lines and JSON array sources.
        .target(name: "FileConnector", dependencies: ["ConnectorCore"], swiftSettings: strict),
        // How the job's HTTP clients are set up (proxy, CAs, client certificates) and speak of failures.
        .target(
            name: "HTTPClientSupport",
            dependencies: [
                "ConnectorCore", "NetworkNames",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // People from an HTTP API: pages, authentication, fail-closed checks.
        .target(
            name: "HTTPConnector",
            dependencies: [
                "ConnectorCore", "NetworkNames", "HTTPClientSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The Compliance import API client: OAuth2 tokens, imports, retries.
        .target(
            name: "ComplianceAPI",
            dependencies: [
                "ConnectorCore", "SyncCore", "JobConfig", "NetworkNames", "HTTPClientSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // A local server that plays the Compliance API, with fault injection.
        .target(
            name: "ComplianceSimulator",
            dependencies: [
                "ConnectorCore", "SyncCore", "FileConnector",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "compliance-sim",
            dependencies: ["ComplianceSimulator", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict
        ),
        // The command line, reusable by an integrator's own executable.
        .target(
            name: "ComplianceSyncCLI",
            dependencies: [
                "ConnectorCore", "SyncCore", "JobConfig", "SyncOutput", "SQLiteSnapshotStore", "PostgresSnapshotStore",
                "FileConnector", "LDAPConnector",
                "PostgresConnector", "ExecConnector", "HTTPConnector", "HTTPClientSupport", "ComplianceAPI",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict
        ),
        // Checks any UserSource against the engine's contract; for integrators' tests and ours.
        .target(name: "ConnectorTestKit", dependencies: ["ConnectorCore"], swiftSettings: strict),
        // The snapshot store contract, checked against every store, and the in-memory store the engine tests use.
        .target(name: "SnapshotStoreTestKit", dependencies: ["ConnectorCore", "SyncCore"], swiftSettings: strict),
        .executableTarget(name: "compliance-sync", dependencies: ["ComplianceSyncCLI"], swiftSettings: strict),

        // `swift package new-connector NAME`: scaffolds a connector module and its conformance test.
        .plugin(
            name: "NewConnector",
            capability: .command(
                intent: .custom(
                    verb: "new-connector", description: "Write a new connector module with its conformance test"),
                permissions: [
                    .writeToPackageDirectory(
                        reason: "writes the connector's module and test, and declares them in Package.swift")
                ]
            )
        ),

        // Helpers the test suites share: running the CLI as a process, example copies.
        .target(
            name: "TestSupport", dependencies: [.product(name: "Logging", package: "swift-log")], path: "Tests/Support",
            swiftSettings: strict),
        .testTarget(
            name: "SyncCoreTests",
            dependencies: [
                "ConnectorCore", "SyncCore", "JobConfig", "NetworkNames", "SyncOutput", "SnapshotStoreTestKit",
                "TestSupport",
            ],
            swiftSettings: strict),
        .testTarget(
            name: "LDAPConnectorTests",
            dependencies: ["LDAPConnector", "ConnectorCore", "SyncCore", "ConnectorTestKit", "TestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "PostgresTests",
            dependencies: [
                "PostgresConnector", "PostgresSnapshotStore", "PostgresClient", "ConnectorCore", "SyncCore",
                "JobConfig",
                "SnapshotStoreTestKit",
                "TestSupport",
                "ConnectorTestKit",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "ExecConnectorTests",
            dependencies: [
                "ExecConnector", "ConnectorCore", "SyncCore", "TestSupport", "ConnectorTestKit",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "ConformanceTests",
            dependencies: [
                "ConnectorTestKit", "ConnectorCore", "SyncCore", "FileConnector", "ExecConnector", "LDAPConnector",
                "PostgresConnector",
                "PostgresClient", "TestSupport", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .testTarget(name: "NewConnectorTests", swiftSettings: strict),
        .testTarget(
            name: "HTTPConnectorTests",
            dependencies: ["HTTPConnector", "ConnectorCore", "ConnectorTestKit", "TestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "FileConnectorTests", dependencies: ["FileConnector", "ConnectorCore", "SyncCore", "TestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "SQLiteSnapshotStoreTests",
            dependencies: ["SQLiteSnapshotStore", "ConnectorCore", "SyncCore", "JobConfig", "SnapshotStoreTestKit"],
            swiftSettings: strict),
        .testTarget(
            name: "CLITests",
            dependencies: [
                "ComplianceSyncCLI", "ConnectorCore", "SyncCore", "JobConfig", "SQLiteSnapshotStore", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "SyncTests",
            dependencies: [
                "ComplianceAPI", "HTTPClientSupport", "ComplianceSimulator", "ConnectorCore", "SyncCore", "JobConfig",
                "SyncOutput",
                "SQLiteSnapshotStore",
                "FileConnector",
                "TestSupport",
                .product(name: "Logging", package: "swift-log"), .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict),
    ]
)
