import CSystemShims
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A program started without a shell, in a process group of its own, with its
/// standard output and error on pipes (its standard input `/dev/null`, or a pipe
/// to write a request on); killed with its whole group on request. The exec
/// source's programs and the secrets command run this way.
///
/// Safety: every stored property is a `let` set once in `init` (a pid and the
/// descriptors); `kill` and `wait` are system calls safe from any thread, and each
/// descriptor is used by one thread (the reader, the stderr forwarder, the writer).
public final class ChildProcess: @unchecked Sendable {
    /// What the program reads on its standard input.
    public enum Input: Sendable {
        /// `/dev/null`: nothing.
        case none
        /// A pipe, written with ``writeInput(_:)``.
        case pipe
    }

    /// The program's process id (also its process group id).
    public let pid: pid_t
    /// The read end of the program's standard output.
    public let stdout: Int32
    /// The read end of the program's standard error.
    public let stderr: Int32
    /// The write end of the program's standard input, with ``Input/pipe``.
    private let stdin: Int32?

    /// Starts `arguments[0]` (looked up in `PATH` when it has no slash) with exactly `environment`,
    /// in `directory`, every signal at its default.
    /// - Throws: ``ChildProcessError`` naming the program and the system's reason.
    public init(arguments: [String], environment: [String: String], directory: String, input: Input = .none) throws {
        var out: [Int32] = [-1, -1], err: [Int32] = [-1, -1], into: [Int32] = [-1, -1]
        // Close-on-exec from birth: a program another source starts at the same moment must not
        // inherit them (it would hold this program's output open until it exits).
        guard cshims_pipe_cloexec(&out) == 0, cshims_pipe_cloexec(&err) == 0,
            input == .none || cshims_pipe_cloexec(&into) == 0
        else {
            let code = errno
            for fd in out + err + into where fd >= 0 { close(fd) }
            throw Self.failure("cannot make a pipe", code)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if input == .pipe {
            posix_spawn_file_actions_adddup2(&actions, into[0], 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, out[1], 1)
        posix_spawn_file_actions_adddup2(&actions, err[1], 2)
        for fd in out + err + into where fd >= 0 { posix_spawn_file_actions_addclose(&actions, fd) }
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
        if into[0] >= 0 { close(into[0]) }
        guard status == 0 else {
            close(out[0])
            close(err[0])
            if into[1] >= 0 { close(into[1]) }
            throw Self.failure("cannot start \(arguments[0])", status)
        }
        pid = child
        stdout = out[0]
        stderr = err[0]
        stdin = into[1] >= 0 ? into[1] : nil
    }

    /// Writes `data` to the program's standard input and closes it. A program that has already
    /// ended, or closed its input, is not an error here (its exit status and output tell what
    /// happened), and never raises SIGPIPE, which would end this process without a word: the
    /// signal is blocked on this thread while writing, and one the write raised is taken back.
    /// - Returns: whether the program took all of `data`.
    @discardableResult
    public func writeInput(_ data: Data) -> Bool {
        guard let stdin else { return false }
        defer { close(stdin) }
        var pipeSignal = sigset_t(), previous = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &pipeSignal, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        var written = 0
        var broken = false
        data.withUnsafeBytes { bytes in
            while written < bytes.count {
                let count = write(stdin, bytes.baseAddress! + written, bytes.count - written)
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else {
                    broken = errno == EPIPE
                    return
                }
                written += count
            }
        }
        if broken {
            // The SIGPIPE the write raised is pending on this thread: take it before unblocking.
            var none = timespec(tv_sec: 0, tv_nsec: 0)
            _ = sigtimedwait(&pipeSignal, nil, &none)
        }
        return written == data.count
    }

    /// Sends `signal` to the program and everything it started.
    public func kill(_ signal: Int32) {
        _ = Glibc.kill(-pid, signal)
    }

    /// Waits for the program to end.
    /// - Returns: its exit status, or 128 + the signal that ended it.
    public func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    deinit {
        close(stdout)
        close(stderr)
    }

    /// Reads `fd` to its end, or until `deadline`; what was read by then.
    public static func readAll(_ fd: Int32, until deadline: Date) -> (data: Data, ended: Bool) {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 1 << 14)
        while true {
            let wait = deadline.timeIntervalSinceNow
            guard wait > 0 else { return (data, false) }
            var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let polled = poll(&ready, 1, Int32(min(wait, 3600) * 1000) + 1)
            if polled < 0 && errno == EINTR { continue }
            if polled == 0 { continue }
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return (data, true) }
            data.append(contentsOf: buffer[0..<count])
        }
    }

    /// The path to run: as given when it has a slash (relative to `directory`), else the first match in `path`.
    public static func resolve(_ program: String, path: String, directory: String) -> String {
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
public struct ChildProcessError: Error, CustomStringConvertible {
    /// What failed, and the system's reason.
    public let message: String
    public var description: String { message }
}
