import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Named places in a sync where a test can have the process killed outright
/// (`kill -9`), to prove that a run dying at any moment loses nothing.
///
/// Armed by `COMPLIANCE_SYNC_FAILPOINT=NAME` (the first time the place is
/// reached) or `NAME:N` (the Nth time). Unset, it costs one comparison.
public enum FailPoint {
    private static let armed: (name: String, count: Int)? = {
        guard let text = ProcessInfo.processInfo.environment["COMPLIANCE_SYNC_FAILPOINT"], !text.isEmpty else {
            return nil
        }
        let parts = text.split(separator: ":")
        return (String(parts[0]), parts.count > 1 ? Int(parts[1]) ?? 1 : 1)
    }()
    private static let hits = Atomic<Int>(0)

    /// Kills the process with SIGKILL if this place is armed and its count is reached.
    public static func hit(_ name: String) {
        guard let armed, armed.name == name else { return }
        if hits.add(1, ordering: .relaxed).newValue >= armed.count { kill(getpid(), SIGKILL) }
    }
}
