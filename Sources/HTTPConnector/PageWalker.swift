import ConnectorCore
import Foundation

/// One request for a page: where, and the body of a `POST`.
struct PageRequest: Sendable, Equatable {
    var url: URL
    /// Which page this is, counted from 1, for messages.
    var number: Int
}

/// What the walker needs of a page that was read.
struct ReadPage {
    var request: PageRequest
    /// The parsed body.
    var json: Any
    /// The records the page held.
    var recordCount: Int
    /// The `Link` header's value, if any.
    var link: String?
    /// The `total_header`'s value, if any.
    var totalHeader: String?
}

/// Walks a collection page by page: the first request, and from each page read the next one or
/// the end, failing on whatever would leave a read silently short or endless: a cursor or link
/// seen before, a link to another server, a reported total that changes or is not met, more
/// pages than `max_pages`. Pure: the HTTP exchange is ``PageClient``'s.
struct PageWalker {
    let settings: HTTPSourceSettings
    private var pagination: Pagination { settings.pagination }
    private(set) var recordsRead = 0
    private var position: Int
    private var seen: Set<String> = []
    private var reported: (total: Int, page: Int)?

    init(settings: HTTPSourceSettings) {
        self.settings = settings
        position = settings.pagination.start
    }

    /// The first page's request.
    func first() -> PageRequest {
        var items: [(name: String, value: String)] = []
        if let parameter = pagination.parameter, pagination.kind != .cursor {
            items.append((parameter, String(position)))
        }
        if let size = pagination.pageSize, let name = pagination.sizeParameter { items.append((name, String(size))) }
        return PageRequest(url: HTTPSourceSettings.adding(items, to: settings.url), number: 1)
    }

    /// The request after `page`, or `nil` when it was the last.
    /// - Throws: ``SyncError`` when the page breaks the walk's rules.
    mutating func next(after page: ReadPage) throws -> PageRequest? {
        recordsRead += page.recordCount
        try checkTotal(of: page)
        let number = page.request.number + 1
        func request(_ items: [(name: String, value: String)]) throws -> PageRequest {
            guard page.request.number < settings.maxPages else {
                throw failure(
                    "there are more than \(settings.maxPages) pages (source.max_pages)",
                    hint: "raise source.max_pages if the collection really is this large, or check the paging settings")
            }
            var all = items
            if let size = pagination.pageSize, let name = pagination.sizeParameter { all.append((name, String(size))) }
            return PageRequest(url: HTTPSourceSettings.adding(all, to: settings.url), number: number)
        }
        switch pagination.kind {
        case .none:
            return nil
        case .offset, .page:
            if page.recordCount == 0 { return nil }
            if let total = reported?.total, recordsRead >= total { return nil }
            if pagination.stop == .shortPage, page.recordCount < pagination.pageSize ?? 0 { return nil }
            position += pagination.kind == .offset ? page.recordCount : 1
            return try request([(pagination.parameter!, String(position))])
        case .scim:
            guard let total = reported?.total, recordsRead < total else { return nil }
            if page.recordCount == 0 {
                throw failure(
                    "page \(page.request.number) is empty, but the server reported \(total) records and \(recordsRead) were read",
                    hint: "the collection changed during the read, or the server does not page by startIndex; run again"
                )
            }
            position += page.recordCount
            return try request([("startIndex", String(position))])
        case .cursor:
            guard try morePages(after: page), let cursor = try text(at: pagination.nextPath!, in: page) else {
                return nil
            }
            try remember(cursor, "cursor", page)
            return try request([(pagination.parameter!, cursor)])
        case .nextURL:
            guard try morePages(after: page), let link = try text(at: pagination.nextPath!, in: page) else {
                return nil
            }
            return try following(link, from: page, number: number)
        case .link:
            guard let link = page.link.flatMap(Self.nextLink) else { return nil }
            return try following(link, from: page, number: number)
        }
    }

    /// Fails when a total was reported and the records read do not match it, or `total:` is set
    /// and no page said it.
    func finish() throws {
        if let reported, reported.total != recordsRead {
            throw failure(
                "the server reported \(reported.total) records (page \(reported.page)), but \(recordsRead) were read",
                hint:
                    "the collection changed during the read, or the paging settings skip or repeat pages; nothing was sent. Run again"
            )
        }
        if reported == nil, let total = settings.total ?? settings.totalHeader {
            throw failure(
                "no page said how many records there are (`\(total)`)",
                hint: "check source.total (a path in the page) or source.total_header, or remove it")
        }
    }

    // MARK: - Checks

    private mutating func checkTotal(of page: ReadPage) throws {
        var said: Int?
        if let path = settings.total, let value = JSONPath(path).value(in: page.json), !(value is NSNull) {
            guard let number = JSONValues.text(value).flatMap(Int.init), number >= 0 else {
                throw failure(
                    "page \(page.request.number): `\(path)` is \(JSONValues.kind(of: value)) \(JSONValues.text(value) ?? ""), not a count"
                )
            }
            said = number
        }
        if let header = settings.totalHeader, let text = page.totalHeader {
            guard let number = Int(text.trimmingCharacters(in: .whitespaces)), number >= 0 else {
                throw failure("page \(page.request.number): the header \(header) is \"\(text)\", not a count")
            }
            said = number
        }
        if pagination.kind == .scim && said == nil {
            throw failure(
                "page \(page.request.number) has no totalResults",
                hint:
                    "a SCIM list response must say totalResults (RFC 7644, 3.4.2); is source.url a SCIM /Users endpoint?"
            )
        }
        guard let said else { return }
        if let reported, reported.total != said {
            throw failure(
                "page \(reported.page) reported \(reported.total) records in all, page \(page.request.number) reports \(said)",
                hint: "the collection changed during the read; nothing was sent. Run again")
        }
        if reported == nil { reported = (said, page.request.number) }
    }

    private func morePages(after page: ReadPage) throws -> Bool {
        guard let path = pagination.hasMorePath else { return true }
        guard let value = JSONPath(path).value(in: page.json), let text = JSONValues.text(value) else { return false }
        switch text {
        case "true": return true
        case "false": return false
        default: throw failure("page \(page.request.number): `\(path)` is \"\(text)\", not true or false")
        }
    }

    /// The text at `path`, or `nil` when absent, null or empty (the end).
    private func text(at path: String, in page: ReadPage) throws -> String? {
        guard let value = JSONPath(path).value(in: page.json), !(value is NSNull) else { return nil }
        guard let text = JSONValues.text(value) else {
            throw failure("page \(page.request.number): `\(path)` is \(JSONValues.kind(of: value)), not text")
        }
        return text.isEmpty ? nil : text
    }

    private mutating func remember(_ marker: String, _ what: String, _ page: ReadPage) throws {
        guard seen.insert(marker).inserted else {
            throw failure(
                "page \(page.request.number) gives a \(what) an earlier page gave: the read would never end",
                hint: "the server repeats itself; check the paging settings (source.pagination)")
        }
    }

    /// A next page's URL, resolved against the page's, on the same server.
    private mutating func following(_ link: String, from page: ReadPage, number: Int) throws -> PageRequest {
        guard let url = URL(string: link, relativeTo: page.request.url)?.absoluteURL else {
            throw failure("page \(page.request.number) links to a next page that is not a URL")
        }
        let origin = { (url: URL) in [url.scheme?.lowercased(), url.host?.lowercased(), url.port.map(String.init)] }
        guard origin(url) == origin(settings.url) else {
            throw failure(
                "page \(page.request.number) links to a next page on another server (\(url.host ?? "?"))",
                hint: "the credentials are sent only to \(settings.url.host ?? "source.url")'s server; nothing was sent"
            )
        }
        try remember(url.absoluteString, "next link", page)
        guard page.request.number < settings.maxPages else {
            throw failure(
                "there are more than \(settings.maxPages) pages (source.max_pages)",
                hint: "raise source.max_pages if the collection really is this large")
        }
        return PageRequest(url: url, number: number)
    }

    /// The `rel="next"` target of an RFC 8288 `Link` header.
    static func nextLink(_ header: String) -> String? {
        for part in header.split(separator: ",") {
            let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let target = pieces.first, target.hasPrefix("<"), target.hasSuffix(">") else { continue }
            let isNext = pieces.dropFirst().contains { parameter in
                let pair = parameter.split(separator: "=", maxSplits: 1).map {
                    $0.trimmingCharacters(in: CharacterSet(charactersIn: " \"")).lowercased()
                }
                return pair.count == 2 && pair[0] == "rel" && pair[1].split(separator: " ").contains("next")
            }
            if isNext { return String(target.dropFirst().dropLast()) }
        }
        return nil
    }

    private func failure(_ message: String, hint: String? = nil) -> SyncError {
        SyncError(
            .source, "\(HTTPSourceSettings.shown(settings.url)): \(message)",
            hint: hint ?? "nothing was sent; check source.pagination and the server's answer")
    }
}
