import ConnectorCore
import Foundation
import Logging

/// People from an HTTP API (`source.type: http`): an HR system's report, a cloud directory's
/// users, a SCIM service. Reads every page of one collection and fails the read, before anything
/// is sent, on any page it cannot fully understand. See ``HTTPSourceSettings`` for the settings.
public struct HTTPSource: UserSource, SourceConnector {
    public static let type = "http"
    public static let summary =
        "an HTTP API's collection of people, page by page: url, auth, pagination, records, id"

    /// What to read and how.
    public var settings: HTTPSourceSettings
    /// Where pages are logged (their number, status and size; never a secret or a record).
    public var logger: Logger

    /// A source reading with `settings`.
    public init(settings: HTTPSourceSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    public static func makeSource(section: ConfigSection, context: SourceContext) throws -> any UserSource {
        HTTPSource(
            settings: try HTTPSourceSettings(
                section: section, folder: context.folder, environment: ProcessInfo.processInfo.environment),
            logger: context.logger)
    }

    public var description: String { "http \(HTTPSourceSettings.shown(settings.url))" }

    public func records() -> HTTPRecords { HTTPRecords(settings: settings, logger: logger) }
}

/// Every record of a collection, page by page: the next page is fetched while this one's records
/// are handed out, and only one page waits, so memory stays at two pages whatever the collection's size.
public struct HTTPRecords: AsyncSequence, Sendable {
    public typealias Element = SourceRecord
    let settings: HTTPSourceSettings
    let logger: Logger

    public func makeAsyncIterator() -> Iterator { Iterator(reader: PageReader(settings: settings, logger: logger)) }

    /// Hands out the records of the page at hand.
    public struct Iterator: AsyncIteratorProtocol {
        let reader: PageReader

        public mutating func next() async throws -> SourceRecord? {
            try await reader.next()
        }
    }
}

/// The state of one read: the pages' walker, the page being handed out and the one being fetched.
final class PageReader {
    private let settings: HTTPSourceSettings
    private let logger: Logger
    private var client: PageClient?
    private var walker: PageWalker
    private var pending: Task<FetchedPage, any Error>?
    private var records: [Any] = []
    private var index = 0
    private var page = 0
    private var ids: [String: Int] = [:]

    init(settings: HTTPSourceSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
        walker = PageWalker(settings: settings)
    }

    deinit { pending?.cancel() }

    func next() async throws -> SourceRecord? {
        while index == records.count {
            guard try await loadPage() else { return nil }
        }
        defer { index += 1 }
        return try record(records[index], number: index + 1)
    }

    /// Takes the fetched page, starts fetching the one after, and sets out its records.
    /// - Returns: `false` at the end of the collection.
    private func loadPage() async throws -> Bool {
        if client == nil {
            let client = try PageClient(settings: settings, logger: logger)
            self.client = client
            pending = Self.fetch(walker.first(), with: client)
        }
        guard let task = pending, let client else {
            try walker.finish()
            return false
        }
        // The fetch is its own task, to run while records are handed out; cancelling the read cancels it.
        let fetched = try await withTaskCancellationHandler {
            try await task.value
        } onCancel: {
            task.cancel()
        }
        pending = nil
        let json = try parse(fetched)
        let list = try recordList(in: json, page: fetched.request.number)
        let next = try walker.next(
            after: ReadPage(
                request: fetched.request, json: json, recordCount: list.count,
                link: fetched.headers.first(name: "Link"),
                totalHeader: settings.totalHeader.flatMap { fetched.headers.first(name: $0) }))
        pending = next.map { Self.fetch($0, with: client) }
        if fetched.body.readableBytes > settings.maxRecordBytes {
            try checkRecordSizes(list, page: fetched.request.number)
        }
        records = list
        index = 0
        page = fetched.request.number
        return true
    }

    private static func fetch(_ request: PageRequest, with client: PageClient) -> Task<FetchedPage, any Error> {
        Task { try await client.fetch(request) }
    }

    private func parse(_ fetched: FetchedPage) throws -> Any {
        do {
            return try JSONSerialization.jsonObject(
                with: Data(fetched.body.readableBytesView), options: [.fragmentsAllowed])
        } catch {
            let type = fetched.headers.first(name: "Content-Type") ?? "no Content-Type"
            throw failure(
                "page \(fetched.request.number) is not JSON (\(type); \(JSONValues.describe(error)))",
                hint: "an HTML page often means a login or error page: check source.url and source.auth")
        }
    }

    private func recordList(in json: Any, page: Int) throws -> [Any] {
        guard let path = settings.records else {
            guard let list = json as? [Any] else {
                throw failure(
                    "page \(page) is \(JSONValues.kind(of: json)), not a list of records",
                    hint: "name where the list is in each page with source.records (value, Resources, data.employees)")
            }
            return list
        }
        guard let found = JSONPath(path).value(in: json) else {
            let keys = (json as? [String: Any]).map { $0.keys.sorted().prefix(12).joined(separator: ", ") } ?? ""
            throw failure(
                "page \(page) has no `\(path)` (source.records)",
                hint: keys.isEmpty ? "check source.records" : "check source.records; the page's keys are: \(keys)")
        }
        guard let list = found as? [Any] else {
            throw failure("page \(page): `\(path)` is \(JSONValues.kind(of: found)), not a list of records")
        }
        return list
    }

    private func checkRecordSizes(_ list: [Any], page: Int) throws {
        for (offset, item) in list.enumerated() where JSONSerialization.isValidJSONObject(item) {
            let size = (try? JSONSerialization.data(withJSONObject: item).count) ?? 0
            if size > settings.maxRecordBytes {
                throw failure(
                    "page \(page), record \(offset + 1) is \(size) bytes, more than source.max_record_bytes (\(settings.maxRecordBytes))",
                    hint: "ask for fewer fields (a $select or fields parameter), or raise source.max_record_bytes")
            }
        }
    }

    private func record(_ item: Any, number: Int) throws -> SourceRecord {
        let location = SourceLocation("page \(page), record \(number) of \(HTTPSourceSettings.shown(settings.url))")
        guard let object = item as? [String: Any] else {
            throw SyncError(.source, "\(location) is \(JSONValues.kind(of: item)), not an object")
        }
        let attributes = try JSONValues.attributes(of: object, location: location, nestedLists: .indexed)
        let id = attributes[settings.idAttribute]?.texts.first ?? ""
        if !id.isEmpty, let earlier = ids.updateValue(page, forKey: id) {
            throw SyncError(
                .source,
                "\(location) has the id \(settings.idAttribute) = \(id), as a record of page \(earlier) had",
                hint: earlier == page
                    ? "the API lists this person twice; check source.id"
                    : "the collection changed during the read, or the server ignores the paging parameters; nothing was sent. Run again"
            )
        }
        return SourceRecord(id: id, attributes: attributes, location: location)
    }

    private func failure(_ message: String, hint: String? = nil) -> SyncError {
        SyncError(
            .source, "\(HTTPSourceSettings.shown(settings.url)): \(message)",
            hint: hint ?? "nothing was sent; check the source's settings against the API's answer")
    }
}
