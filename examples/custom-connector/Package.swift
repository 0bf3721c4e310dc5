// swift-tools-version: 6.0
// An integrator's own compliance-sync: the whole command line, plus a connector for Workday
// custom reports, which is a package of its own (Connectors/WorkdayReportConnector) so that it
// and its tests build without the command line's dependencies. Depends on compliance-sync by
// path; in your own project, depend on its Git URL instead.
import PackageDescription

let package = Package(
    name: "hr-sync",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "compliance-sync", path: "../.."),
        .package(path: "Connectors/WorkdayReportConnector"),
    ],
    targets: [
        .executableTarget(
            name: "hr-sync",
            dependencies: [
                .product(name: "WorkdayReportConnector", package: "WorkdayReportConnector"),
                .product(name: "ComplianceSyncCLI", package: "compliance-sync"),
            ]
        )
    ]
)
