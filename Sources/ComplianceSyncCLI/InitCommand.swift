import ArgumentParser
import ConnectorCore
import Foundation
import SyncCore

/// `compliance-sync init`: writes a commented job file for a kind of source.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a commented job file for a kind of source, to edit and then check with `validate`.",
        discussion: """
            The settings most jobs need are written out; the others are there, commented out. \
            Secrets are never written: the file names where each comes from. \
            An existing file is kept unless --force is given.
            """)

    /// The kinds of source `init` writes a job for.
    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case csv, ldap, ad, postgres, http, exec
    }

    @Option(help: "The kind of source: \(Kind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var source: Kind

    @Option(name: .shortAndLong, help: "Where to write the job file (- for standard output).")
    var output = "job.yml"

    @Flag(help: "Replace the file if it exists.") var force = false

    func run() throws {
        let text = JobTemplates.text(for: source)
        if output == "-" {
            print(text, terminator: "")
            return
        }
        if FileManager.default.fileExists(atPath: output) && !force {
            throw SyncError(
                .configuration, "\(output) exists; nothing was written",
                hint: "choose another --output, or add --force to replace it")
        }
        // Written whole, then moved into place (replacing any file in one step): never half a file.
        // No secret is in it: readable as job files are.
        let file = try ByteOutput(creating: output, mode: 0o644)
        file.write(text)
        try file.finish()
        print(
            "wrote \(output): a \(source.rawValue) job. Edit it, then run: compliance-sync validate --config \(output)")
    }
}
