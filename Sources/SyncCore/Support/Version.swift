/// The version of compliance-sync. `scripts/package` writes the release's (from `git describe`)
/// here for the build it packages; a build from a checkout says `dev`.
public enum ComplianceSyncVersion {
    /// Such as `0.2.0` or `0.1.0+git97.8d7358c`.
    public static let current = "0.1.0-dev"
}
