// swift-tools-version: 6.0
// An integrator's own compliance-sync: the whole command line, plus a
// connector for Workday custom reports. Depends on compliance-sync by path;
// in your own project, depend on its Git URL instead.
import PackageDescription

let package = Package(
    name: "hr-sync",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "compliance-sync", path: "../.."),
    ],
    targets: [
        .target(
            name: "WorkdayReportConnector",
            dependencies: [.product(name: "ConnectorCore", package: "compliance-sync")]
        ),
        .executableTarget(
            name: "hr-sync",
            dependencies: [
                "WorkdayReportConnector",
                .product(name: "ComplianceSyncCLI", package: "compliance-sync"),
            ]
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
