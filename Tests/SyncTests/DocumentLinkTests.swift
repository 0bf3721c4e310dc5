import Foundation
import TestSupport
import Testing

/// Every document a document links to exists in the project: a user reads the docs without the
/// source, and links to files that live elsewhere (compliance-api.md did) leave them stuck.
@Suite struct DocumentLinkTests {
    /// The Markdown files a user reads: the README, the changelog, docs/ and every example's README.
    static func documents() throws -> [URL] {
        var found = [
            repositoryRoot.appendingPathComponent("README.md"), repositoryRoot.appendingPathComponent("CHANGELOG.md"),
        ]
        for folder in ["docs", "examples"] {
            let enumerator = FileManager.default.enumerator(
                at: repositoryRoot.appendingPathComponent(folder), includingPropertiesForKeys: nil)
            while let url = enumerator?.nextObject() as? URL {
                if url.path.contains("/.build") || url.path.contains("/.state") { continue }
                if url.pathExtension == "md" { found.append(url) }
            }
        }
        return found
    }

    @Test func everyLinkedDocumentExists() throws {
        let link = try Regex(#"\]\(([^)\s]+)\)"#)
        let named = try Regex(#"(?:docs|examples|scripts)/[A-Za-z0-9_./-]*[A-Za-z0-9_]"#)
        var missing: [String] = []
        for document in try Self.documents() {
            let text = try String(contentsOf: document, encoding: .utf8)
            let folder = document.deletingLastPathComponent()
            for match in text.matches(of: link) {
                let target = String(match.output[1].substring ?? "")
                if target.hasPrefix("http") || target.hasPrefix("mailto:") || target.hasPrefix("#") { continue }
                let path = String(target.split(separator: "#", maxSplits: 1).first ?? "")
                if !FileManager.default.fileExists(atPath: folder.appendingPathComponent(path).path) {
                    missing.append("\(document.lastPathComponent): (\(target))")
                }
            }
            // A path named in the text, from the repository's root (`docs/http-source.md`, `scripts/test`).
            for match in text.matches(of: named) {
                let path = String(text[match.range])
                if path.contains("*") || path.contains("/.state") { continue }  // made by a run
                let fromRoot = repositoryRoot.appendingPathComponent(path).path
                let fromHere = folder.appendingPathComponent(path).path
                if !FileManager.default.fileExists(atPath: fromRoot)
                    && !FileManager.default.fileExists(atPath: fromHere)
                {
                    missing.append("\(document.lastPathComponent): \(path)")
                }
            }
        }
        #expect(missing.isEmpty, "documents named but not in the project: \(missing)")
    }

    @Test func theSimulatorsHelpNamesADocumentThatExists() throws {
        let source = try String(
            contentsOf: repositoryRoot.appendingPathComponent("Sources/compliance-sim/SimulatorCommand.swift"),
            encoding: .utf8)
        #expect(source.contains("docs/compliance-api.md"))
        #expect(
            FileManager.default.fileExists(atPath: repositoryRoot.appendingPathComponent("docs/compliance-api.md").path)
        )
    }
}
