import ConnectorCore

/// What a source made of several can tell after a read: what each of its members gave, which
/// records matched nobody, and which members each mapped field reads. ``JoinedSource`` is one;
/// the planner asks any source whether it is one, as it asks for ``ChunkedRecordSequence``.
public protocol JoinReporting: UserSource {
    /// The joined records of the last read that matched nobody, by source.
    var unmatched: [JoinedSource.Unmatched] { get }
    /// What each joined source gave the last read, in file order.
    var counts: [JoinedSource.MemberCount] { get }
    /// The sources each mapped field reads, by field.
    func fieldSources(of mappings: [FieldMapping]) -> [String: [String]]
}
