import Foundation

/// The built `compliance-sync`, beside this test bundle in the build folder.
public let cliPath: String = {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("compliance-sync").path
}()

/// The repository's root folder.
public let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

/// What a finished process printed and returned.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    public var all: String { stdout + stderr }
}

/// Runs the CLI to completion. Output goes through files, so a chatty process never blocks on a full pipe,
/// and the wait suspends instead of blocking a thread (a simulator in this process must keep answering).
public func runCLI(_ arguments: [String], in folder: URL? = nil, environment: [String: String] = [:]) async throws
    -> ProcessResult
{
    try await runProcess(cliPath, arguments, in: folder, environment: environment)
}

/// Runs any program to completion, as ``runCLI(_:in:environment:)`` runs the CLI.
public func runProcess(
    _ program: String, _ arguments: [String], in folder: URL? = nil, environment: [String: String] = [:]
) async throws -> ProcessResult {
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID())")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    let outURL = scratch.appendingPathComponent("stdout"), errURL = scratch.appendingPathComponent("stderr")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = arguments
    if let folder { process.currentDirectoryURL = folder }
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    let exited = AsyncStream<Void>.makeStream()
    process.terminationHandler = { _ in exited.continuation.finish() }
    try process.run()
    for await _ in exited.stream {}
    withExtendedLifetime((out, err)) {}  // the handles close themselves, once
    return ProcessResult(
        status: process.terminationStatus, stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
        stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
}

/// A copy of an example folder in a temporary place, removed at the end.
///
/// Safety: its one stored property is a `let` URL; the folder is removed once, in `deinit`.
public final class ExampleCopy: @unchecked Sendable {
    public let folder: URL

    public init(_ example: String) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("example-\(UUID())")
        try FileManager.default.copyItem(at: repositoryRoot.appendingPathComponent("examples/\(example)"), to: folder)
        try? FileManager.default.removeItem(at: folder.appendingPathComponent(".state"))
    }

    deinit { try? FileManager.default.removeItem(at: folder) }

    public func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    public func read(_ name: String) throws -> String { try String(contentsOfFile: path(name), encoding: .utf8) }

    public func write(_ name: String, _ text: String) throws {
        try text.write(toFile: path(name), atomically: true, encoding: .utf8)
    }
}

/// Runs `body` with a resource and then `stop`s it, whether `body` returns or throws: a scope
/// for servers and clients that must not outlive a test (unlike `defer { Task { … } }`).
public func scoped<Resource, Result>(
    _ resource: Resource, stop: (Resource) async -> Void, _ body: (Resource) async throws -> Result
) async throws -> Result {
    let result: Result
    do {
        result = try await body(resource)
    } catch {
        await stop(resource)
        throw error
    }
    await stop(resource)
    return result
}
