import ConnectorCore
import Foundation
import SyncCore

#if canImport(Glibc)
    import Glibc
#endif

/// The files beside a snapshot: its folder and its lock (the key file is ``SnapshotKey/load(fromFile:create:)``).
enum SnapshotFiles {
    /// Creates `folder` (mode 0700) and its parents when missing.
    static func makeFolder(for path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        guard !folder.isEmpty, !FileManager.default.fileExists(atPath: folder) else { return }
        do {
            try FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw SyncError(
                .snapshot, "cannot create the snapshot folder \(folder): \(error.localizedDescription)",
                hint: "create it, or set snapshot.path to a folder this user may write")
        }
    }

    /// Refuses a snapshot whose folder or file someone else could change: owned by another
    /// user, or writable by the group or others. Whoever can write them can decide who is
    /// terminated. Checked without following links.
    static func checkOwnership(of path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        for (what, item) in [("folder", folder.isEmpty ? "." : folder), ("file", path)] {
            switch FileOwnership.problem(at: item) {
            case .ownedBy(let uid):
                throw SyncError(
                    .snapshot,
                    "the snapshot \(what) \(item) is owned by user id \(uid), not by this user (\(geteuid()))",
                    hint: "run the job as the user that owns it, or `chown` it to the job's user")
            case .writableByOthers(let mode):
                throw SyncError(
                    .snapshot,
                    "the snapshot \(what) \(item) may be changed by other users (mode \(FileOwnership.octal(mode)))",
                    hint: "run `chmod go-w \(item)`, or keep snapshots in a folder of their own (mode 0700)")
            case nil: continue
            }
        }
    }

    /// Creates an empty file with mode 0600 unless it exists, so SQLite's files inherit that mode.
    static func touchPrivate(_ path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw SyncError(
                .snapshot, "cannot create the snapshot \(path): \(String(cString: strerror(errno)))",
                hint: "check that this user may write to its folder")
        }
        close(fd)
    }
}

/// An exclusive lock on a snapshot, held while a run may write it: two runs
/// never share one snapshot. The kernel releases it if the process dies.
final class SnapshotLock: Sendable {
    private let fd: Int32

    /// Takes the lock, waiting up to `wait` for another run to let go; fails naming the process that holds it.
    init(path: String, wait: Duration = .zero) throws {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            throw SyncError(.snapshot, "cannot open the lock file \(path): \(String(cString: strerror(errno)))")
        }
        let deadline = Date().addingTimeInterval(wait.seconds)
        var locked = flock(fd, LOCK_EX | LOCK_NB)
        while locked != 0 && (errno == EINTR || (errno == EWOULDBLOCK && Date() < deadline)) {
            if errno == EWOULDBLOCK { usleep(100_000) }
            locked = flock(fd, LOCK_EX | LOCK_NB)
        }
        if locked != 0 && errno != EWOULDBLOCK {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw SyncError(
                .snapshot, "cannot lock \(path): \(reason)", hint: "check the folder's file system and permissions")
        }
        guard locked == 0 else {
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = pread(fd, &buffer, 32, 0)
            let holder = String(decoding: buffer.prefix(max(0, count)), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            close(fd)
            throw SyncError(
                .locked,
                "another run is using this snapshot (lock \(path) held by process \(holder.isEmpty ? "?" : holder))"
                    + (wait == .zero ? "" : " after waiting \(wait)"),
                hint: wait == .zero
                    ? "runs of one job never overlap; pass --wait-for-lock 15m to wait for the other run instead"
                    : "the other run is still going; try again later or wait longer")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, pid, pid.count, 0)
    }

    deinit { close(fd) }

    /// Whether some process holds the lock on `path`, read from the kernel's list (`/proc/locks`)
    /// without taking it; `nil` when that list cannot be read.
    static func isHeld(path: String) -> Bool? {
        var info = stat()
        guard stat(path, &info) == 0 else { return errno == ENOENT ? false : nil }
        guard let locks = try? String(contentsOfFile: "/proc/locks", encoding: .utf8) else { return nil }
        // `1: FLOCK  ADVISORY  WRITE 4242 08:01:1234567 0 EOF`: the device in hex, the inode in decimal.
        let dev = UInt64(info.st_dev)
        let major = ((dev >> 8) & 0xFFF) | ((dev >> 32) & ~0xFFF), minor = (dev & 0xFF) | ((dev >> 12) & ~0xFF)
        let device = String(format: "%02llx:%02llx", major, minor)
        let wanted = "\(device):\(info.st_ino)"
        return locks.split(separator: "\n").contains { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            return fields.count > 5 && fields[1] == "FLOCK" && fields[5] == wanted
        }
    }
}
