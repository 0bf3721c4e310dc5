import CSystemShims
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A program started without a shell, in a process group of its own, with its
/// standard output and error on pipes; killed with its whole group on request.
///
/// Safety: every stored property is a `let` set once in `init` (a pid and two
/// descriptors); `kill` and `wait` are system calls safe from any thread, and the
/// descriptors are read by one thread each (the reader, the stderr forwarder).
final class ChildProcess: @unchecked Sendable {
    /// The program's process id (also its process group id).
    let pid: pid_t
    /// The read end of the program's standard output.
    let stdout: Int32
    /// The read end of the program's standard error.
    let stderr: Int32

    /// Starts `arguments[0]` (looked up in `PATH` when it has no slash) with exactly `environment`.
    /// - Throws: a message naming the program and the system's reason.
    init(arguments: [String], environment: [String: String], directory: String) throws {
        var out: [Int32] = [0, 0], err: [Int32] = [0, 0]
        // Close-on-exec from birth: a program another source starts at the same moment must not
        // inherit them (it would hold this program's output open until it exits).
        guard cshims_pipe_cloexec(&out) == 0, cshims_pipe_cloexec(&err) == 0 else {
            throw Self.failure("cannot make a pipe", errno)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, out[1], 1)
        posix_spawn_file_actions_adddup2(&actions, err[1], 2)
        for fd in out + err { posix_spawn_file_actions_addclose(&actions, fd) }
        // And nothing else of this process (a library's socket opened without close-on-exec).
        _ = cshims_spawn_file_actions_addclosefrom(&actions, 3)
        _ = cshims_spawn_file_actions_addchdir(&actions, directory)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigfillset(&defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var child: pid_t = 0
        // The program is looked up in the PATH given to it, as a shell would.
        let program = Self.resolve(arguments[0], path: environment["PATH"] ?? "/usr/bin:/bin", directory: directory)
        let status = posix_spawn(&child, program, &actions, &attributes, argv, envp)
        close(out[1])
        close(err[1])
        guard status == 0 else {
            close(out[0])
            close(err[0])
            throw Self.failure("cannot start \(arguments[0])", status)
        }
        pid = child
        stdout = out[0]
        stderr = err[0]
    }

    /// Sends `signal` to the program and everything it started.
    func kill(_ signal: Int32) {
        _ = Glibc.kill(-pid, signal)
    }

    /// Waits for the program to end.
    /// - Returns: its exit status, or 128 + the signal that ended it.
    func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    deinit {
        close(stdout)
        close(stderr)
    }

    /// The path to run: as given when it has a slash (relative to `directory`), else the first match in `path`.
    static func resolve(_ program: String, path: String, directory: String) -> String {
        if program.contains("/") {
            return program.hasPrefix("/") ? program : directory + "/" + program
        }
        for folder in path.split(separator: ":") {
            let candidate = "\(folder)/\(program)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return program
    }

    private static func failure(_ what: String, _ code: Int32) -> any Error {
        ChildProcessError(message: "\(what): \(String(cString: strerror(code)))")
    }
}

/// Why a program could not be started.
struct ChildProcessError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
