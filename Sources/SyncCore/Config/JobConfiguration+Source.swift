import ConnectorCore
import Logging

extension ConnectorRegistry {
    /// Builds the source a job's `source:` section describes.
    /// - Throws: ``SyncError`` when the type is unknown or a setting is wrong.
    public func makeSource(for job: JobConfiguration, logger: Logger) throws -> any UserSource {
        guard let connector = connector(ofType: job.sourceType) else {
            let known = types.map(\.type).joined(separator: ", ")
            throw job.source.error("has the unknown type `\(job.sourceType)`", hint: "known types: \(known)")
        }
        let section = try job.source.section()
        // Read by the job itself, for any connector.
        _ = section.node("type")
        _ = section.node("min_records")
        let context = SourceContext(folder: job.folder, mappedAttributes: job.mappedAttributes, logger: logger)
        let source = try connector.makeSource(section: section, context: context)
        try section.finish()
        return source
    }
}
