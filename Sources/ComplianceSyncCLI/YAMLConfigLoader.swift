import ConnectorCore
import Foundation
import JobConfig
import SyncCore
import Yams

/// Reads a job's YAML file into a ``JobConfiguration``: `${VAR}` expanded from
/// the environment, every node located by file and line.
public enum YAMLConfigLoader {
    /// Loads and checks a job file.
    /// - Parameters:
    ///   - path: the config file.
    ///   - environment: the variables `${VAR}` reads.
    /// - Throws: ``SyncError`` (kind `.configuration`) naming the file, line and key.
    public static func load(
        path: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> JobConfiguration {
        let absolute = ConfigPaths.resolve(path, relativeTo: FileManager.default.currentDirectoryPath)
        guard let data = FileManager.default.contents(atPath: absolute) else {
            throw SyncError(
                .configuration, "cannot read the config file \(path)",
                hint: "check the path given to --config")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SyncError(.configuration, "\(path) is not UTF-8 text")
        }
        let root = try parse(text, file: path, environment: environment)
        return try JobConfiguration(root: root, file: absolute)
    }

    /// Parses YAML text into a config tree.
    public static func parse(_ text: String, file: String, environment: [String: String]) throws -> ConfigNode {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw SyncError(
                .configuration, "\(file): not valid YAML: \(error)",
                hint: "check the indentation and quoting near that line", underlying: error)
        }
        guard let node else {
            throw SyncError(.configuration, "\(file) is empty", hint: "see examples/quickstart/quickstart.yml")
        }
        return try convert(node, file: file, path: "", environment: environment)
    }

    private static func convert(_ node: Node, file: String, path: String, environment: [String: String]) throws
        -> ConfigNode
    {
        let location = ConfigLocation(file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
        switch node {
        case .scalar(let scalar):
            if scalar.style == .plain && (scalar.string.isEmpty || scalar.string == "~" || scalar.string == "null") {
                return ConfigNode(.null, location: location, path: path)
            }
            do {
                let text = try VariableExpansion.expand(scalar.string, environment: environment)
                return ConfigNode(.scalar(text), location: location, path: path)
            } catch .missing(let name) {
                throw SyncError.config(
                    "`\(path)` uses ${\(name)}, which is not set", at: location,
                    hint: "export \(name) before running (write $$ for a literal $)")
            }
        case .mapping(let mapping):
            var pairs: [(key: String, node: ConfigNode)] = []
            for (key, value) in mapping {
                guard let name = key.scalar?.string else {
                    throw SyncError.config("a key must be plain text", at: location)
                }
                if pairs.contains(where: { $0.key == name }) {
                    let keyLocation = ConfigLocation(
                        file: file, line: key.mark?.line ?? 1, column: key.mark?.column ?? 1)
                    throw SyncError.config("the key `\(name)` appears twice", at: keyLocation, hint: "keep one of them")
                }
                let childPath = path.isEmpty ? name : "\(path).\(name)"
                pairs.append((name, try convert(value, file: file, path: childPath, environment: environment)))
            }
            return ConfigNode(.mapping(pairs), location: location, path: path)
        case .sequence(let sequence):
            let items = try sequence.enumerated().map {
                try convert($1, file: file, path: "\(path)[\($0)]", environment: environment)
            }
            return ConfigNode(.sequence(items), location: location, path: path)
        case .alias:
            throw SyncError.config(
                "YAML aliases are not supported in job files", at: location,
                hint: "write the value out")
        }
    }
}
