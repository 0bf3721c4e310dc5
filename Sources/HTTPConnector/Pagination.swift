import ConnectorCore
import Foundation

/// How one page of a collection leads to the next (`source.pagination`).
public struct Pagination: Sendable {
    /// The ways APIs page.
    public enum Kind: String, Sendable, CaseIterable {
        /// One request holds everything (a Workday report).
        case none
        /// `offset` and `limit` parameters, the offset advanced by the records read.
        case offset
        /// A page number and a page size.
        case page
        /// A cursor from the body sent back as a parameter (`nextPageToken`, `next_cursor`).
        case cursor
        /// A next page's URL in the body (`@odata.nextLink`).
        case nextURL = "next_url"
        /// A next page's URL in an RFC 8288 `Link: <…>; rel="next"` header.
        case link
        /// SCIM 2.0's `startIndex` and `count`, checked against `totalResults` (RFC 7644, 3.4.2.4).
        case scim
    }

    /// When an offset or page-number read ends.
    public enum Stop: String, Sendable {
        /// At the first page with no records: one request more, but safe when the server caps the
        /// page size below what was asked for.
        case emptyPage = "empty_page"
        /// At the first page with fewer records than `page_size`.
        case shortPage = "short_page"
    }

    /// The way pages follow each other.
    public var kind: Kind = .none
    /// Records asked for per page, sent as ``sizeParameter``.
    public var pageSize: Int?
    /// The parameter that carries the page size (`limit`, `per_page`, `count`, `$top`).
    public var sizeParameter: String?
    /// The parameter that carries the offset, page number or cursor.
    public var parameter: String?
    /// The first offset (0) or page number (1).
    public var start = 0
    /// Where a page holds the next cursor or the next page's URL.
    public var nextPath: String?
    /// Where a page says whether more follow (`has_more`), if it does.
    public var hasMorePath: String?
    /// When an offset or page-number read ends.
    public var stop: Stop = .emptyPage

    /// No paging: one request.
    public init() {}

    init(section: ConfigSection?) throws {
        guard let section else { return }
        let names = Kind.allCases.map(\.rawValue)
        guard let kind = try section.choice("type", names).flatMap(Kind.init) else {
            throw SyncError.config(
                "`\(section.path("type"))` is required", at: section.node.location,
                hint: "one of \(names.joined(separator: ", "))")
        }
        self.kind = kind
        pageSize = try section.int("page_size", in: 1...100_000)
        switch kind {
        case .none, .link: break
        case .offset:
            parameter = try section.string("offset_param") ?? "offset"
            sizeParameter = try section.string("size_param") ?? "limit"
            start = try section.int("start", in: 0...Int.max) ?? 0
        case .page:
            parameter = try section.string("page_param") ?? "page"
            sizeParameter = try section.string("size_param") ?? "per_page"
            start = try section.int("start", in: 0...Int.max) ?? 1
        case .cursor:
            parameter = try section.string("cursor_param") ?? "cursor"
            sizeParameter = try section.string("size_param") ?? "limit"
            nextPath = try section.requiredString(
                "cursor_path", hint: "where each page holds the next cursor, such as nextPageToken or meta.next_cursor")
        case .nextURL:
            sizeParameter = try section.string("size_param")
            nextPath = try section.requiredString(
                "next_path", hint: "where each page holds the next page's URL, such as \"@odata.nextLink\"")
        case .scim:
            parameter = "startIndex"
            sizeParameter = "count"
            start = 1
        }
        if kind == .offset || kind == .page {
            stop = try section.choice("stop", ["empty_page", "short_page"]).flatMap(Stop.init) ?? stop
            if stop == .shortPage && pageSize == nil {
                throw section.node("stop")!.error("needs `page_size:`, to know a short page")
            }
        }
        if kind == .cursor || kind == .nextURL { hasMorePath = try section.string("has_more_path") }
        if [.offset, .page, .scim].contains(kind) && pageSize == nil {
            throw SyncError.config(
                "`\(section.path("page_size"))` is required for `type: \(kind.rawValue)`", at: section.node.location,
                hint:
                    "the records to ask for per page, within what the API allows (SCIM servers often cap it at 100 to 1000)"
            )
        }
        try section.finish()
    }
}
