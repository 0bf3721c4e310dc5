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
        // Named as manifests name it: by the package's name (`.package(name:path:)`, or a URL ending in it).
        let core = package.dependencies.first { $0.package.products.contains { $0.name == "ConnectorCore" } }?.package
            .displayName
        guard definesCore || core != nil else {
            throw PluginFailure(
                "this package does not depend on compliance-sync: add it to Package.swift's dependencies first")
        }
        let scaffold = ConnectorScaffold(name: name, corePackage: definesCore ? nil : core)
        let root = package.directoryURL
        if package.targets.contains(where: { $0.name == scaffold.module }) {
            throw PluginFailure("the package already has a target \(scaffold.module)")
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
        print("added \(scaffold.module) and \(scaffold.module)Tests to Package.swift")
        print("next: swift test --filter \(scaffold.source)Tests, then replace fetchPeople with calls to \(name)")
    }
}

/// A failure shown to the person who ran the plugin.
struct PluginFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
