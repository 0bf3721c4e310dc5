import ConnectorCore

/// Every record of one read of `source`, in order.
/// - Throws: the error the read ends with.
public func readAll(_ source: some UserSource) async throws -> [SourceRecord] {
    var records: [SourceRecord] = []
    for try await record in source.records() { records.append(record) }
    return records
}

/// The error one read of `source` ends with, or `nil` when it reads whole: for tests of failures.
public func readFailure(_ source: some UserSource) async -> (any Error)? {
    do {
        _ = try await readAll(source)
        return nil
    } catch {
        return error
    }
}
