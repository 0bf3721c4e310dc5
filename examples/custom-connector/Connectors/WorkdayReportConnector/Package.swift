// swift-tools-version: 6.0
// The Workday report connector, a package of its own: `swift test` here builds it and its
// conformance test with nothing heavier than ConnectorCore (no networking, no database, no
// TLS). Two ways to run it: as `workday-report-export`, a program of its own that an installed
// compliance-sync runs with `source.type: exec` (this package only, built in seconds), or
// embedded in hr-sync, the command line of the package above. Depends on compliance-sync by
// path; in your own project, depend on its Git URL instead.
import PackageDescription

let package = Package(
    name: "WorkdayReportConnector",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "WorkdayReportConnector", targets: ["WorkdayReportConnector"]),
        .executable(name: "workday-report-export", targets: ["workday-report-export"]),
    ],
    dependencies: [
        .package(name: "compliance-sync", path: "../../../..")
    ],
    targets: [
        .target(
            name: "WorkdayReportConnector",
            dependencies: [.product(name: "ConnectorCore", package: "compliance-sync")]
        ),
        .executableTarget(
            name: "workday-report-export",
            dependencies: ["WorkdayReportConnector", .product(name: "ConnectorCore", package: "compliance-sync")]
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
