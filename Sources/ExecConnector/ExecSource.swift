import ChildProcesses
import ConnectorCore
import Foundation
import Logging

/// People from any program that prints them as JSON Lines (`source.type: exec`):
/// connectors in any language.
///
/// Settings: `command` (the program and its arguments, a list; no shell),
/// `env` (variables to give it), `pass_env` (names of this process's variables
/// to pass on), `timeout_seconds` (default 600), `max_record_bytes` (the longest
/// line, 16 MiB by default). The program runs in the job
/// file's folder with only `PATH`, `HOME`, `LANG`, `LC_ALL`, `TZ`, `TMPDIR`
/// and what these settings add — never the API's secret. Its standard error
/// goes to the log. A non-zero exit, a timeout, a malformed line or a repeated
/// id fails the run; ``ExecProtocol`` is the protocol.
public struct ExecSource: UserSource, SourceConnector {
    public static let type = "exec"
    public static let summary = "any program that prints people as JSON Lines: command, env, pass_env, timeout_seconds"

    /// The program and its arguments.
    public var command: [String]
    /// The program's whole environment.
    public var environment: [String: String]
    /// Where it runs.
    public var directory: String
    /// How long it may run, in seconds.
    public var timeoutSeconds = 600
    /// The longest line of output, in bytes (`max_record_bytes`, 16 MiB by default).
    public var maxLineBytes = 16 << 20
    /// Whether the program must end its output with `{"end": {"records": N}}` (`require_end`).
    public var requireEnd = false
    /// Where its standard error goes.
    public var logger: Logger

    /// The variables every program gets from this process, when set.
    public static let baseEnvironment = ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR"]

    /// Creates a source.
    public init(command: [String], environment: [String: String], directory: String, logger: Logger) {
        precondition(!command.isEmpty, "a command")
        self.command = command
        self.environment = environment
        self.directory = directory
        self.logger = logger
    }

    public static func makeSource(section: ConfigSection, context: SourceContext) throws -> any UserSource {
        guard let commandNode = section.node("command") else {
            throw section.node.error("needs `command:`, the program and its arguments, such as [python3, hr_export.py]")
        }
        guard case .sequence = commandNode.value, let command = try section.strings("command"), !command.isEmpty else {
            throw commandNode.error(
                "must be a list: the program, then each argument (no shell)",
                hint: "command: [python3, connector.py, --since, 7d]")
        }
        let inherited = ProcessInfo.processInfo.environment
        var environment = inherited.filter { baseEnvironment.contains($0.key) }
        for name in try section.strings("pass_env") ?? [] {
            guard let value = inherited[name] else {
                throw section.node("pass_env")!.error(
                    "names \(name), which is not set in this environment",
                    hint: "set \(name) where compliance-sync runs (for the service: Environment= or EnvironmentFile= "
                        + "in a drop-in, or a credential), or take it out of pass_env; an empty value counts as set")
            }
            environment[name] = value
        }
        if let extra = try section.section("env") {
            for key in extra.keys { environment[key] = try extra.string(key) ?? "" }
            try extra.finish()
        }
        var source = ExecSource(
            command: command, environment: environment, directory: context.folder, logger: context.logger)
        source.timeoutSeconds = try section.int("timeout_seconds", in: 1...86_400) ?? source.timeoutSeconds
        source.maxLineBytes = try section.int("max_record_bytes", in: 1024...(1 << 40)) ?? source.maxLineBytes
        source.requireEnd = try section.bool("require_end") ?? false
        return source
    }

    public var description: String { "exec \(command.joined(separator: " "))" }

    public func records() -> ThreadedRecordStream {
        ThreadedRecordStream(name: "exec-reader") { [self] emitter in
            let program: ChildProcess
            do {
                program = try ChildProcess(arguments: command, environment: environment, directory: directory)
            } catch {
                throw SyncError(
                    .source, "\(description): \(error)",
                    hint: "check that the program exists and is executable, and its PATH", underlying: error)
            }
            let name = Self.programName(command)
            let errorsDone = DispatchSemaphore(value: 0)
            Thread { [logger] in
                Self.forward(program.stderr, to: logger, name: name)
                errorsDone.signal()
            }.start()
            // The program's last words reach the log before any error about it (unless a child keeps stderr open).
            defer { _ = errorsDone.wait(timeout: .now() + 2) }
            let watchdog = Watchdog(program: program, seconds: timeoutSeconds)
            var parser = ExecProtocol(place: command.prefix(2).joined(separator: " "))
            // Read to a deadline of its own, after the watchdog's SIGTERM and SIGKILL have had their turn:
            // a grandchild that left the process group can keep the pipe open.
            let deadline = Date().addingTimeInterval(TimeInterval(timeoutSeconds) + 6)
            var printed = 0
            do {
                try Self.lines(of: program.stdout, limit: maxLineBytes, until: deadline) { line, number in
                    // One id on two lines is left to the engine, which makes both records invalid
                    // as for any source, so a program and a Swift source report it alike.
                    guard let record = try parser.read(line, number: number) else { return }
                    printed += 1
                    try emitter.emit(record)
                }
            } catch is OutputTimeout {
                program.kill(SIGKILL)
                _ = program.wait()
                watchdog.cancel()
                throw SyncError(
                    .source, "\(description) did not finish its output within \(timeoutSeconds) s and was stopped",
                    hint: "raise source.timeout_seconds, or make the program faster; a process it started "
                        + "must not keep its standard output open")
            } catch {
                program.kill(SIGKILL)
                _ = program.wait()
                watchdog.cancel()
                throw error
            }
            let status = program.wait()
            let timedOut = watchdog.cancel()
            if timedOut {
                throw SyncError(
                    .source, "\(description) did not finish within \(timeoutSeconds) s and was stopped",
                    hint: "raise source.timeout_seconds, or make the program faster")
            }
            guard status == 0 else {
                throw SyncError(
                    .source, "\(description) failed with exit status \(status) after printing \(printed) records",
                    hint: "its standard error is in the log above; nothing was sent")
            }
            if let promised = parser.endCount, promised != printed {
                throw SyncError(
                    .source,
                    "\(description) said it printed \(promised) records (its end line), but printed \(printed); "
                        + "nothing was sent",
                    hint: "the program stopped early or lost records: its standard error is in the log above")
            }
            if requireEnd && parser.endCount == nil {
                throw SyncError(
                    .source, "\(description) printed \(printed) records but no end line; nothing was sent",
                    hint: "source.require_end is set: the program must end its output with {\"end\": {\"records\": N}}"
                        + " (it may have stopped early)")
            }
        }
    }

    /// Calls `body` with each line of `fd` (without its newline) and its 1-based number.
    /// - Parameters:
    ///   - limit: the longest line; a longer one is an error naming it.
    ///   - deadline: when to stop waiting for the end of the output; passing it is an error.
    static func lines(
        of fd: Int32, limit: Int = .max, until deadline: Date = .distantFuture,
        _ body: (ArraySlice<UInt8>, Int) throws -> Void
    ) throws {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var pending: [UInt8] = []
        var number = 0
        while true {
            var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let wait = min(deadline.timeIntervalSinceNow, 3600)
            guard wait > 0 else { throw OutputTimeout() }
            let polled = poll(&ready, 1, Int32(wait * 1000) + 1)
            if polled < 0 && errno == EINTR { continue }
            if polled == 0 { continue }
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            var start = 0
            for i in 0..<count where buffer[i] == UInt8(ascii: "\n") {
                number += 1
                if pending.isEmpty {
                    try body(buffer[start..<i], number)
                } else {
                    pending += buffer[start..<i]
                    try body(pending[...], number)
                    pending.removeAll(keepingCapacity: true)
                }
                start = i + 1
            }
            pending += buffer[start..<count]
            if pending.count > limit {
                throw SyncError(
                    .source,
                    "line \(number + 1) of the program's output is longer than "
                        + "source.max_record_bytes (\(limit) bytes)",
                    hint:
                        "each record must end with a newline; raise source.max_record_bytes if records really are this long"
                )
            }
        }
        if !pending.isEmpty { try body(pending[...], number + 1) }
    }

    /// Logs each line the program writes to standard error.
    /// What the program's standard error is logged under: the script an interpreter runs
    /// (`hr_connector.py` for `python3 hr_connector.py`), else the program.
    static func programName(_ command: [String]) -> String {
        let program = (command[0] as NSString).lastPathComponent
        let interpreters = [
            "python", "node", "nodejs", "ruby", "perl", "bash", "sh", "zsh", "dash", "pwsh", "php",
            "Rscript", "deno", "bun", "java",
        ]
        let isInterpreter = interpreters.contains {
            program == $0
                || (program.hasPrefix($0) && program.dropFirst($0.count).allSatisfy { $0.isNumber || $0 == "." })
        }
        guard isInterpreter, let script = command.dropFirst().first(where: { !$0.hasPrefix("-") }) else {
            return program
        }
        return (script as NSString).lastPathComponent
    }

    static func forward(_ fd: Int32, to logger: Logger, name: String) {
        try? lines(of: fd) { line, _ in
            logger.notice("\(name): \(String(decoding: line, as: UTF8.self))", metadata: ["source": "exec"])
        }
    }
}

/// The output did not end by the deadline.
private struct OutputTimeout: Error {}
