import ArgumentParser
import ConnectorCore
import Foundation
import JobConfig
import Logging
import SyncCore

// An integrator's executable that imports this module gets the registry (and its `+`) with it.
@_exported import struct ConnectorCore.ConnectorRegistry

/// The `compliance-sync` command line.
///
/// An integrator's own executable can be this command line with more
/// connectors: `await ComplianceSyncCommand.main(connectors: .builtIn + [MySource.self])`.
public struct ComplianceSyncCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "compliance-sync",
        abstract: "Keep the people in a Compliance account in step with a directory, database or file.",
        discussion: """
            Exit status: 0 done (or nothing to do), 1 failed, 2 bad usage or config, \
            3 a guard stopped the run, 4 done but the API rejected some rows, \
            5 skipped: another run of the job holds its lock.
            """,
        version: ComplianceSyncVersion.current,
        subcommands: [
            PlanCommand.self, SyncCommand.self, ValidateCommand.self, StatusCommand.self, HistoryCommand.self,
            ConnectorsCommand.self, BaselineCommand.self, JournalCommand.self, InitCommand.self,
        ])

    public init() {}

    /// Runs the command line with the given connectors.
    /// - Parameter connectors: the source types the config may name; `.builtIn` plus an integrator's own.
    public static func main(connectors: ConnectorRegistry) async {
        await CommandContext.$registry.withValue(connectors) {
            await main(nil)
        }
    }

    /// Parses `arguments` and runs, exiting with the contract's status (bad usage is 2, as a bad config is).
    public static func main(_ arguments: [String]?) async {
        var command: any ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch {
            let status = exitCode(for: error)
            if status.isSuccess { exit(withError: error) }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(2)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as SyncError {
            let options = (command as? any JobCommand)?.job
            let text = (options?.logLevel ?? .notice) <= .debug ? error.debugDescription : error.description
            if let logger = options?.errorLogger() {
                // A log shipper reads the last word as it reads every other line.
                logger.error("\(text)", metadata: ["exit_status": "\(error.exitCode)"])
            } else {
                FileHandle.standardError.write(Data("error: \(text)\n".utf8))
            }
            Foundation.exit(error.exitCode)
        } catch {
            exit(withError: error)
        }
    }
}

/// What every command shares: the registry it was started with and logging.
enum CommandContext {
    @TaskLocal static var registry = ConnectorRegistry.builtIn
    /// This run's id: in its JSON log lines, its run history and its webhooks. One process is one run.
    static let runID = String(UUID().uuidString.prefix(8).lowercased())

    /// A logger to standard error at the chosen level, in the chosen format.
    static func logger(level: Logger.Level, format: LogFormat = .text) -> Logger {
        var logger = Logger(label: "compliance-sync") { label in
            switch format {
            case .json: JSONLogHandler()
            case .text:
                ProcessInfo.processInfo.environment["JOURNAL_STREAM"] != nil
                    ? JournalLogHandler() : StreamLogHandler.standardError(label: label)
            }
        }
        logger.logLevel = level
        return logger
    }
}

/// A command that runs on a job file: its options say how its final error is written.
protocol JobCommand {
    /// The job file and the logging options.
    var job: JobOptions { get }
}

/// Options every job command takes.
struct JobOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "The job's YAML config file.")
    var config: String

    @Option(
        help: "Log level on standard error: trace, debug, info, notice, warning, error.",
        transform: ArgumentParsing.logLevel)
    var logLevel: Logger.Level = .notice

    @Option(
        help: ArgumentHelp(
            "Log lines as text (without timestamps under systemd, whose journal adds them) or json (one object a line).",
            valueName: "text|json"),
        transform: ArgumentParsing.logFormat)
    var logFormat: LogFormat = .text

    /// Reads the job file and builds its source with the registry the command line was started with.
    func load() throws -> (configuration: JobConfiguration, logger: Logger, source: any UserSource) {
        let (configuration, logger) = try loadConfiguration()
        return (configuration, logger, try CommandContext.registry.makeSource(for: configuration, logger: logger))
    }

    /// Reads the job file without building its source (for commands that read only the snapshot).
    func loadConfiguration() throws -> (configuration: JobConfiguration, logger: Logger) {
        let configuration = try YAMLConfigLoader.load(path: config)
        return (configuration, logger(job: configuration.snapshot.job))
    }

    /// The job's logger; with `--log-format json`, each line names the job and the run, for the shipper's index.
    private func logger(job: String?) -> Logger {
        var logger = CommandContext.logger(level: logLevel, format: logFormat)
        if logFormat == .json {
            if let job { logger[metadataKey: "job"] = "\(job)" }
            logger[metadataKey: "run"] = "\(CommandContext.runID)"
        }
        return logger
    }

    /// With `--log-format json`, the logger the command's final error is written with, so that a log
    /// shipper reads it as it reads every other line (naming the job, when its file can be read).
    func errorLogger() -> Logger? {
        guard logFormat == .json else { return nil }
        return logger(job: try? YAMLConfigLoader.load(path: config).snapshot.job)
    }
}

/// Readers of option values of types this package does not own (conforming them to
/// `ExpressibleByArgument` would change them for every importer).
enum ArgumentParsing {
    /// A log level by name: `debug`, `notice`...
    static func logLevel(_ text: String) throws -> Logger.Level {
        guard let level = Logger.Level(rawValue: text.lowercased()) else {
            let names = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
            throw ValidationError("`\(text)` is not a log level; use one of \(names)")
        }
        return level
    }

    /// `text` or `json`.
    static func logFormat(_ text: String) throws -> LogFormat {
        guard let format = LogFormat(rawValue: text.lowercased()) else {
            throw ValidationError("`\(text)` is not a log format; use text or json")
        }
        return format
    }

    /// A duration as jobs write them: `90s`, `15m`, `2h`, `7d`.
    static func duration(_ text: String) throws -> Duration {
        guard let duration = Duration(configText: text) else {
            throw ValidationError("`\(text)` is not a duration; write a whole number and a unit: 90s, 15m, 2h or 7d")
        }
        return duration
    }
}
