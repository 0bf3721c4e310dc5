/// Where people come from: a directory, a database, a file, a program.
///
/// A source streams every person it holds, each once. It must deliver all of
/// them or throw: a source that fails part-way must never look like "everyone
/// else left", so the engine acts on nothing from a read that threw.
///
/// Conform with any `AsyncSequence` of ``SourceRecord`` — an
/// `AsyncThrowingStream` is the simplest; ``ThreadedRecordStream`` runs
/// blocking code (C libraries, file reads) off Swift's cooperative pool.
public protocol UserSource: Sendable {
    /// The sequence ``records()`` returns.
    associatedtype Records: AsyncSequence<SourceRecord, any Error>

    /// A short description for plans and logs, such as `csv people.csv`. No secrets.
    var description: String { get }

    /// Starts a fresh read of every record.
    func records() -> Records
}
