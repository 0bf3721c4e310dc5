import Foundation

/// Whether a file could have been changed by someone other than this user: owned by another
/// user, or writable by its group or others. A file that decides who is terminated (a snapshot,
/// an approved plan) is trusted only when neither holds.
public enum FileOwnership: Equatable, Sendable {
    /// Another user owns it.
    case ownedBy(uid: UInt32)
    /// Its group or others may write it (the permission bits, `0o777` masked).
    case writableByOthers(mode: UInt32)

    /// The problem with `path`, or `nil` when only this user can change it (or it cannot be looked at:
    /// the read that follows says so). Links are not followed.
    public static func problem(at path: String) -> FileOwnership? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        if info.st_uid != geteuid() { return .ownedBy(uid: info.st_uid) }
        if info.st_mode & 0o022 != 0 { return .writableByOthers(mode: UInt32(info.st_mode & 0o777)) }
        return nil
    }

    /// The mode in octal, as `chmod` takes it.
    public static func octal(_ mode: UInt32) -> String { String(mode, radix: 8) }
}
