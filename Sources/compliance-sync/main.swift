import ComplianceSyncCLI

await ComplianceSyncCommand.main(connectors: .builtIn)
