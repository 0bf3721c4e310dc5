import ChildProcesses
import ConnectorCore
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// `secrets: { command: [...] }`: a helper program that fetches the job's secrets from a store
/// (Vault, AWS Secrets Manager, 1Password, `pass`), as Vector's and Telegraf's exec backends do.
///
/// Run once per run, when the job file is read, with every name the file's `*_secret` settings
/// give: the request `{"version": "1.0", "secrets": ["name", …]}` on its standard input, the answer
/// `{"name": {"value": "…"}, "other": {"error": "…"}}` on its standard output. Names travel on
/// standard input, never the command line; values never reach a log, an error or another child's
/// environment. Any failure (a helper that is missing, exits non-zero, runs past its timeout,
/// answers something that is not that JSON, or leaves a name out) fails the run before anything is sent.
public struct SecretsCommand: Sendable {
    /// The program and its arguments.
    public var command: [String]
    /// How long the helper may take.
    public var timeout: Duration = .seconds(30)

    init(section: ConfigSection, folder: String) throws {
        guard let node = section.node("command") else {
            throw SyncError.config(
                "`\(section.path("command"))` is required", at: section.node.location,
                hint: "the helper that prints the secrets, as a list: command: [/usr/local/bin/vault-secrets]")
        }
        guard case .sequence = node.value else {
            throw node.error("must be a list: the program, then its arguments (no shell)")
        }
        var command = try node.texts()
        guard let program = command.first, !program.isEmpty else { throw node.error("names no program") }
        if program.contains("/") { command[0] = ConfigPaths.resolve(program, relativeTo: folder) }
        self.command = command
        if let seconds = try section.int("timeout_seconds", in: 1...600) { timeout = .seconds(seconds) }
        try section.finish()
    }

    /// The names a job file's `*_secret` settings give, in file order, each once.
    static func names(in root: ConfigNode) -> [String] {
        var names: [String] = []
        func walk(_ node: ConfigNode) {
            switch node.value {
            case .mapping(let pairs):
                for (key, value) in pairs {
                    // `client_secret` is a setting's own name (a literal there is refused), not a reference.
                    if key.hasSuffix("_secret"), key != "client_secret", let name = value.scalar {
                        if !names.contains(name) { names.append(name) }
                    } else {
                        walk(value)
                    }
                }
            case .sequence(let items): items.forEach(walk)
            case .scalar, .null: break
            }
        }
        walk(root)
        return names
    }

    /// Runs the helper for `names` (not at all for none) and returns what it gave.
    /// - Throws: ``SyncError`` naming the secrets asked for and what went wrong, never a value.
    func fetch(_ names: [String]) throws -> [String: Secret] {
        guard !names.isEmpty else { return [:] }
        let asked = names.joined(separator: ", ")
        let program = URL(fileURLWithPath: command[0]).lastPathComponent
        func failure(_ what: String, hint: String) -> SyncError {
            SyncError(.configuration, "the secrets command \(program), asked for \(asked), \(what)", hint: hint)
        }
        // A process group of its own, stopped whole at the timeout: a store's client the helper
        // started (vault, gpg) cannot linger holding the answer's pipe open.
        let helper: ChildProcess
        do {
            helper = try ChildProcess(
                arguments: [try Self.locate(command[0], failure: failure)] + command.dropFirst(),
                environment: ProcessInfo.processInfo.environment,
                directory: FileManager.default.currentDirectoryPath, input: .pipe)
        } catch let error as ChildProcessError {
            throw failure("could not be started: \(error.message)", hint: "check secrets.command")
        }
        let seconds = Int(timeout.components.seconds)
        let watchdog = Watchdog(program: helper, seconds: seconds)
        // Read both pipes while it runs, so a chatty helper never blocks on a full pipe.
        let collected = Mutex<(out: Data, err: Data)>((Data(), Data()))
        let readers = DispatchGroup()
        let deadline = Date().addingTimeInterval(TimeInterval(seconds) + 10)
        for (fd, isOut) in [(helper.stdout, true), (helper.stderr, false)] {
            DispatchQueue.global().async(group: readers) {
                let data = ChildProcess.readAll(fd, until: deadline).data
                collected.withLock { if isOut { $0.out = data } else { $0.err = data } }
            }
        }
        let request = try JSONSerialization.data(withJSONObject: ["version": "1.0", "secrets": names])
        helper.writeInput(request + Data("\n".utf8))
        let status = helper.wait()
        let timedOut = watchdog.cancel()
        _ = readers.wait(timeout: .now() + .seconds(5))
        if timedOut {
            throw failure(
                "did not finish within \(seconds) seconds",
                hint: "check that the store answers, or raise secrets.timeout_seconds")
        }
        let (out, err) = collected.withLock { $0 }
        guard status == 0 else {
            let said =
                String(decoding: err, as: UTF8.self).split(whereSeparator: \.isNewline).last.map {
                    ": " + String($0.prefix(200))
                } ?? ""
            throw failure(
                "exited with status \(status)\(said)",
                hint: "run the helper by hand with the same request on its standard input to see why")
        }
        guard let answer = try? JSONSerialization.jsonObject(with: out) as? [String: Any] else {
            throw failure(
                "did not answer with a JSON object",
                hint: "it must print {\"NAME\": {\"value\": \"…\"}} for each name asked")
        }
        var secrets: [String: Secret] = [:]
        for name in names {
            guard let entry = answer[name] as? [String: Any] else {
                throw failure("left \(name) out of its answer", hint: "check the name in the job file and in the store")
            }
            if let error = entry["error"] as? String, !error.isEmpty {
                throw SyncError(
                    .configuration, "the secrets command \(program) could not give \(name): \(error.prefix(200))",
                    hint: "check the name, and the helper's access to the store")
            }
            guard let value = entry["value"] as? String, !value.isEmpty else {
                throw failure(
                    "gave no value for \(name)", hint: "each name's answer is {\"value\": \"…\"} or {\"error\": \"…\"}")
            }
            secrets[name] = Secret(value)
        }
        return secrets
    }

    /// The program's path, found as the helper will be started (``ChildProcess/resolve(_:path:directory:)``),
    /// checked first so that a missing helper is named plainly.
    private static func locate(_ program: String, failure: (String, String) -> SyncError) throws -> String {
        let path = ChildProcess.resolve(
            program, path: ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            directory: FileManager.default.currentDirectoryPath)
        guard access(path, X_OK) == 0 else {
            throw program.contains("/")
                ? failure("is not an executable file (\(program))", "check secrets.command")
                : failure("was not found on PATH", "give its full path in secrets.command")
        }
        return path
    }
}
