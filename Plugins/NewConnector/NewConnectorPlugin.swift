import Foundation
import PackagePlugin

/// `swift package --allow-writing-to-package-directory new-connector NAME`:
/// writes a connector module, its settings, a conformance test, and registers
/// it in the manifest and in any executable that starts the command line.
@main
struct NewConnectorPlugin: CommandPlugin {
    func performCommand(context: PluginContext, arguments: [String]) async throws {
        let extractor = ArgumentExtractor(arguments)
        let names = extractor.remainingArguments.filter { !$0.hasPrefix("-") }
        guard names.count == 1 else {
            throw PluginFailure(
                "usage: swift package --allow-writing-to-package-directory new-connector NAME (such as Workday)")
        }
        let name = names[0]
        if let problem = ConnectorScaffold.problem(with: name) { throw PluginFailure(problem) }

        let package = context.package
        let definesCore = package.targets.contains { $0.name == "ConnectorCore" }
        let core = package.dependencies.first { $0.package.products.contains { $0.name == "ConnectorCore" } }?.package
        guard definesCore || core != nil else {
            throw PluginFailure(
                "this package does not depend on compliance-sync: add it to Package.swift's dependencies first")
        }
        let root = package.directoryURL
        var corePackage: ConnectorScaffold.CorePackage?
        if !definesCore, let core {
            let folder = root.appendingPathComponent(ConnectorScaffold.packageFolder(for: name))
            corePackage = ConnectorScaffold.CorePackage(
                name: core.displayName, dependency: try Self.dependency(on: core, from: folder))
        }
        let scaffold = ConnectorScaffold(name: name, corePackage: corePackage)
        if package.targets.contains(where: { $0.name == scaffold.module })
            || scaffold.packageFolder.map({
                FileManager.default.fileExists(atPath: root.appendingPathComponent($0).path)
            })
                == true
        {
            throw PluginFailure("the package already has a connector \(scaffold.module)")
        }

        for (path, contents) in scaffold.files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try contents.write(to: url, atomically: true, encoding: .utf8)
            print("wrote \(path)")
        }

        var executables: [String] = []
        for target in package.targets {
            guard let module = target as? SourceModuleTarget, module.kind == .executable else { continue }
            for file in module.sourceFiles where file.url.pathExtension == "swift" {
                guard let text = try? String(contentsOf: file.url, encoding: .utf8),
                    let registered = scaffold.register(inMain: text)
                else { continue }
                try registered.write(to: file.url, atomically: true, encoding: .utf8)
                executables.append(target.name)
                print("registered \(scaffold.source) in \(file.url.path)")
            }
        }

        let manifest = root.appendingPathComponent("Package.swift")
        let handle = try FileHandle(forWritingTo: manifest)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(scaffold.manifestAddition(executables: executables).utf8))
        try handle.close()
        print("added \(scaffold.packageFolder ?? scaffold.module) to Package.swift")
        print("next: \(scaffold.testCommand), then replace fetchPeople with calls to \(name)")
        if let build = scaffold.programBuildCommand, let folder = scaffold.packageFolder {
            print("run it with the installed compliance-sync: \(build), then see \(folder)/\(scaffold.typeName).yml")
        }
    }

    /// compliance-sync as the connector's own manifest names it: by a path relative to `folder`
    /// for a local checkout, by URL and version (or revision) for a Git dependency.
    static func dependency(on core: Package, from folder: URL) throws -> String {
        switch core.origin {
        case .local(let path):
            return ".package(name: \"\(core.displayName)\", path: \"\(relativePath(to: path, from: folder.path))\")"
        case .repository(let url, let version, let revision):
            let isVersion = version.split(separator: ".").count == 3 && version.first?.isNumber == true
            return isVersion
                ? ".package(url: \"\(url)\", from: \"\(version)\")"
                : ".package(url: \"\(url)\", revision: \"\(revision)\")"
        default:
            throw PluginFailure("compliance-sync is not a local or Git dependency here: add the connector by hand")
        }
    }

    /// `path` relative to `folder`, both absolute: `../..` and the like.
    static func relativePath(to path: String, from folder: String) -> String {
        let target = URL(fileURLWithPath: path).standardizedFileURL.pathComponents
        let base = URL(fileURLWithPath: folder).standardizedFileURL.pathComponents
        var common = 0
        while common < min(target.count, base.count) && target[common] == base[common] { common += 1 }
        let parts = Array(repeating: "..", count: base.count - common) + target[common...]
        return parts.isEmpty ? "." : parts.joined(separator: "/")
    }
}

/// A failure shown to the person who ran the plugin.
struct PluginFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
