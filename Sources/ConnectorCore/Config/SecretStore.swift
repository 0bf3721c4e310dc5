import Synchronization

/// The secrets a job's `secrets:` command gave, by name, for ``SecretReference/store(_:)``.
/// Filled once, when the job file is read, before any setting resolves a secret.
package enum SecretStore {
    private static let values = Mutex<[String: Secret]>([:])

    /// Adds secrets the command gave.
    package static func provide(_ given: [String: Secret]) {
        values.withLock { $0.merge(given) { $1 } }
    }

    /// The secret named `name`.
    /// - Throws: ``SyncError`` when no secrets command gave it.
    static func value(_ name: String) throws -> Secret {
        guard let value = values.withLock({ $0[name] }) else {
            throw SyncError(
                .configuration, "the secret \(name) is named with a `_secret` setting, but no secrets command gave it",
                hint: "add `secrets: { command: [/path/to/helper] }` to the job file (docs/secrets.md)")
        }
        return value
    }
}
