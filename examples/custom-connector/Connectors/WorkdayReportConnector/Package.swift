// swift-tools-version: 6.0
// The Workday report connector, a package of its own: `swift test` here builds it and its
// conformance test with nothing heavier than ConnectorCore (no networking, no database, no
// TLS). The command line that embeds it, hr-sync, is the package above. Depends on
// compliance-sync by path; in your own project, depend on its Git URL instead.
import PackageDescription

let package = Package(
    name: "WorkdayReportConnector",
    platforms: [.macOS(.v15)],
    products: [.library(name: "WorkdayReportConnector", targets: ["WorkdayReportConnector"])],
    dependencies: [
        .package(name: "compliance-sync", path: "../../../..")
    ],
    targets: [
        .target(
            name: "WorkdayReportConnector",
            dependencies: [.product(name: "ConnectorCore", package: "compliance-sync")]
        ),
        .testTarget(
            name: "WorkdayReportConnectorTests",
            dependencies: [
                "WorkdayReportConnector",
                .product(name: "ConnectorCore", package: "compliance-sync"),
                .product(name: "ConnectorTestKit", package: "compliance-sync"),
            ]
        ),
    ]
)
