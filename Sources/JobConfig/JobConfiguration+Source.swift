import ConnectorCore
import Logging
import SyncCore

extension ConnectorRegistry {
    /// Builds the source a job's `source:` section describes.
    /// - Throws: ``SyncError`` when the type is unknown or a setting is wrong.
    public func makeSource(for job: JobConfiguration, logger: Logger) throws -> any UserSource {
        guard let join = job.join else {
            return try makeSource(
                job.source, type: job.sourceType, attributes: job.mappedAttributes, job: job, logger: logger)
        }
        let mapped = job.mappedAttributes
        func make(_ member: JoinSettings.Member) throws -> any UserSource {
            let source = try makeSource(
                member.node, type: member.type, attributes: join.attributes(of: member.name, mapped: mapped), job: job,
                logger: logger)
            // A join reads every member whole: a change feed set on one would be silently unused.
            if let feed = (source as? any ChangeFeedSource)?.changeFeed {
                throw member.node.error(
                    "reads changes (\(feed)), but a job with `sources:` reads every source whole on every run",
                    hint: "remove `changes:` here; change reads are for a job with one `source:`")
            }
            return source
        }
        return JoinedSource(
            primaryName: join.primary.name, primary: try make(join.primary),
            joined: try join.secondaries.map { JoinedSource.Joined(member: $0, source: try make($0)) })
    }

    private func makeSource(
        _ node: ConfigNode, type: String, attributes: [String], job: JobConfiguration, logger: Logger
    ) throws -> any UserSource {
        guard let connector = connector(ofType: type) else {
            let known = types.map(\.type).joined(separator: ", ")
            throw node.error("has the unknown type `\(type)`", hint: "known types: \(known)")
        }
        let section = try node.section()
        // Read by the job itself, for any connector.
        for key in ["type", "min_records", "primary", "join", "on_duplicate", "include", "exclude", "full_every"] {
            _ = section.node(key)
        }
        let context = SourceContext(folder: job.folder, mappedAttributes: attributes, logger: logger)
        let source = try connector.makeSource(section: section, context: context)
        try section.finish()
        return source
    }
}
