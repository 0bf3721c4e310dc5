import Foundation
import Logging

/// Where a secret lives: an environment variable, a file, a systemd credential or a store. Never the secret itself.
public enum SecretReference: Sendable, Hashable, CustomStringConvertible {
    /// An environment variable's name.
    case environment(String)
    /// A file's path; its content, less a trailing newline, is the secret.
    case file(String)
    /// A systemd credential's name (`LoadCredential=NAME:...` in the unit): the file of that
    /// name in `$CREDENTIALS_DIRECTORY`, which only the service's user may read.
    case credential(String)
    /// A name the job's secrets command answers for (`secrets: { command: […] }`): Vault,
    /// a cloud secrets manager, 1Password or `pass`, through a helper program.
    case store(String)

    public var description: String {
        switch self {
        case .environment(let name): "environment variable \(name)"
        case .file(let path): "file \(path)"
        case .credential(let name): "systemd credential \(name)"
        case .store(let name): "secret \(name) from the secrets command"
        }
    }

    /// Reads the secret.
    /// - Parameters:
    ///   - environment: the process environment.
    ///   - logger: where to warn about a secret file that the group or others may read.
    /// - Returns: the secret.
    /// - Throws: ``SyncError`` naming where it looked, never what it found.
    public func resolve(
        environment: [String: String] = ProcessInfo.processInfo.environment, logger: Logger? = nil
    ) throws -> Secret {
        switch self {
        case .environment(let name):
            guard let value = environment[name], !value.isEmpty else {
                throw SyncError(
                    .configuration, "the environment variable \(name) is not set or empty",
                    hint: "export \(name) before running, or use a *_file setting")
            }
            return Secret(value)
        case .store(let name):
            return try SecretStore.value(name)
        case .credential(let name):
            guard let folder = environment["CREDENTIALS_DIRECTORY"], !folder.isEmpty else {
                throw SyncError(
                    .configuration, "the systemd credential \(name) is named, but CREDENTIALS_DIRECTORY is not set",
                    hint: "run the job through its unit (LoadCredential=\(name):...), or use a *_file or *_env setting")
            }
            return try Self.read(file: folder + "/" + name, what: "the systemd credential \(name)")
        case .file(let path):
            if let logger, let mode = Self.readableByOthers(path) {
                logger.warning(
                    "the secret file \(path) may be read by other users (mode \(String(mode, radix: 8))); run `chmod 600 \(path)`"
                )
            }
            return try Self.read(file: path, what: "the secret file \(path)")
        }
    }

    /// The mode of a secret file that users other than this one may read, or `nil`: others may read
    /// it, or a group that is not this process's own. The file is the one a symbolic link leads to, as
    /// a Kubernetes secret volume mounts each key (a link to `..data/KEY`, mode 0440, its group the
    /// pod's `fsGroup`: the job's own group, so no warning).
    static func readableByOthers(_ path: String) -> UInt32? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        let mode = UInt32(info.st_mode) & 0o777
        let byGroup = mode & 0o070 != 0 && info.st_gid != getegid()
        return mode & 0o007 != 0 || byGroup ? mode : nil
    }

    /// A secret file's content, less trailing line breaks.
    private static func read(file path: String, what: String) throws -> Secret {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SyncError(
                .configuration, "cannot read \(what) (\(path))",
                hint: "check that it exists and that this user may read it")
        }
        var value = String(decoding: data, as: UTF8.self)
        while value.hasSuffix("\n") || value.hasSuffix("\r") { value.removeLast() }
        guard !value.isEmpty else {
            throw SyncError(
                .configuration, "\(what) (\(path)) is empty",
                hint: "put the secret there (for the packaged service, /etc/compliance-sync/JOB.secret, which its "
                    + "LoadCredential= reads), or name where else it comes from in the job file")
        }
        return Secret(value)
    }
}

/// A secret value that never prints itself.
public struct Secret: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The secret, for the one place that must send it.
    public let value: String

    /// Wraps a secret.
    public init(_ value: String) { self.value = value }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}
