import Synchronization

/// The secrets a job's `secrets:` command gave, by name, for ``SecretReference/store(_:)``.
/// Set each time a job file is read, before any setting resolves a secret: one job's secrets
/// never answer for another job read later in the same process.
package enum SecretStore {
    private static let values = Mutex<[String: Secret]>([:])

    /// Holds exactly the secrets the job being read was given (none, without a secrets command).
    package static func replace(with given: [String: Secret]) {
        values.withLock { $0 = given }
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
