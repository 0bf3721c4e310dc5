import ConnectorCore
import Foundation
import WorkdayReportConnector

// The Workday report connector as a program of its own, which an installed compliance-sync runs
// with `source.type: exec` (see ../../workday-exec.yml): build only this package, not the command
// line. `workday-report-export REPORT.json [ID_FIELD]` prints the report's people in the exec
// protocol on standard output; a read that fails exits 1 with the error on standard error.
let arguments = CommandLine.arguments.dropFirst()
guard let path = arguments.first else {
    FileHandle.standardError.write(Data("usage: workday-report-export REPORT.json [ID_FIELD]\n".utf8))
    exit(2)
}
await ExecProtocolServer.main(WorkdayReportSource(path: path, idField: arguments.dropFirst().first ?? "Employee_ID"))
