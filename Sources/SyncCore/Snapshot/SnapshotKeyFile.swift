import ConnectorCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

extension SnapshotKey {
    /// Reads a key file, or creates it (mode 0600) when `create` is set and it does not exist.
    /// - Returns: the key, or `nil` when the file does not exist and `create` is off.
    /// - Throws: ``SyncError`` for a damaged file, one others may read, or one that cannot be written.
    public static func load(fromFile path: String, create: Bool) throws -> SnapshotKey? {
        if let data = FileManager.default.contents(atPath: path) {
            try checkPrivate(path)
            do {
                return try SnapshotKey(bytes: data)
            } catch {
                throw SyncError(
                    .snapshot, "the snapshot key \(path) is damaged (\(data.count) bytes, expected 32)",
                    hint: "restore it from backup; without it the snapshot cannot be compared")
            }
        }
        guard create else { return nil }
        let key = SnapshotKey.random()
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw SyncError(
                .snapshot, "cannot create the snapshot key \(path): \(String(cString: strerror(errno)))",
                hint: "check that this user may write to \((path as NSString).deletingLastPathComponent)")
        }
        defer { close(fd) }
        let bytes = [UInt8](key.bytes)
        guard write(fd, bytes, bytes.count) == bytes.count, fsync(fd) == 0 else {
            unlink(path)
            throw SyncError(.snapshot, "cannot write the snapshot key \(path): \(String(cString: strerror(errno)))")
        }
        return key
    }

    /// Refuses a key file that others may read.
    private static func checkPrivate(_ path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else { return }
        if info.st_mode & 0o077 != 0 {
            throw SyncError(
                .snapshot, "the snapshot key \(path) may be read by other users",
                hint: "run `chmod 600 \(path)`")
        }
    }
}
