import ComplianceSyncCLI
import WorkdayReportConnector

// The full compliance-sync command line, with one more source type: `workday-report`.
await ComplianceSyncCommand.main(connectors: .builtIn + [WorkdayReportSource.self])
