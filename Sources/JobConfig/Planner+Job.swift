import Logging
import SyncCore

extension Planner {
    /// Creates a planner for a job.
    public init(job: JobConfiguration, logger: Logger) {
        self.init(mappings: job.mapping, catalog: job.api.fields, grace: job.removals.grace, logger: logger)
        dates = job.dates
        filter = job.filter
        changeReads = ChangeReadPolicy(settingsDigest: job.readSettingsDigest, version: ComplianceSyncVersion.current)
        changeReads?.fullEvery = job.fullEvery
    }
}
