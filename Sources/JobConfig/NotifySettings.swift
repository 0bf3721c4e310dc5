import ConnectorCore
import Foundation
import NetworkNames
import SyncCore

/// Webhooks told about runs that need a person (`notify:` in the config): a list, each with
/// its URL (a secret: `url_env`, `url_file` or `url_credential`), the events it wants (`on:`)
/// and its `format` (`json`, documented in docs/operations.md, or `slack`).
public struct Webhook: Sendable {
    /// What a run can need a person for.
    public enum Event: String, Sendable, CaseIterable {
        /// The run failed (exit status 1 or 2).
        case failure
        /// A guard stopped the run before anything was sent (exit status 3).
        case guardStopped = "guard"
        /// The API rejected rows (exit status 4).
        case rejections
        /// The source holds records that cannot be sent.
        case invalid
        /// People were terminated, or are waiting out the grace period.
        case removals
        /// The last success is older than `history.stale_after`: told by a run that fails
        /// then, and by `status --notify`.
        case stale
    }

    /// The body a webhook gets.
    public enum Format: String, Sendable { case json, slack }

    /// Where to post: a secret, read when a notification is sent (so `plan` never needs it), never logged.
    public var url: SecretReference
    /// The events it wants.
    public var events: Set<Event>
    /// The body's shape.
    public var format: Format
    /// `webhook 1`: how messages name it, never by its URL.
    public var name: String
    /// Where in the job file it is written, for errors.
    public var location: ConfigLocation

    /// The URL to post to, read from where the job says.
    /// - Throws: ``SyncError`` when it cannot be read, or is not `https://` (plain `http://` only to
    ///   loopback); the message names the webhook and where its URL comes from, never the URL.
    public func resolvedURL() throws -> (url: Secret, host: String) {
        let url = try self.url.resolve()
        guard let parsed = URL(string: url.value), let host = parsed.host,
            parsed.scheme == "https" || (parsed.scheme == "http" && Hosts.isLoopback(host))
        else {
            throw SyncError.config(
                "the URL of \(name) (from \(self.url)) is not https:// (plain http:// only to loopback)", at: location,
                hint: "give the webhook's https:// URL")
        }
        return (url, host)
    }

    /// The events of a run this webhook wants, in the order of ``Event``.
    public func events(of report: SyncReport) -> [Event] {
        Event.allCases.filter { events.contains($0) && $0.happened(in: report) }
    }

    /// Reads `notify:`, a list of webhooks.
    static func list(_ node: ConfigNode?, folder: String) throws -> [Webhook] {
        guard let node else { return [] }
        guard case .sequence(let items) = node.value else {
            throw node.error("must be a list of webhooks (- url_env: ..., on: [failure, guard])")
        }
        return try items.enumerated().map { index, item in
            let section = try item.section()
            guard let reference = try section.secret("url", relativeTo: folder) else {
                throw item.error(
                    "needs the webhook's URL as `url_env`, `url_file` or `url_credential`",
                    hint: "the URL is a secret (it lets anyone post): never write it in the file")
            }
            var events = Set(Event.allCases)
            if let on = section.node("on") {
                events = Set(
                    try on.texts().map { text in
                        guard let event = Event(rawValue: text) else {
                            throw on.error(
                                "has the unknown event `\(text)`",
                                hint: "events are: \(Event.allCases.map(\.rawValue).joined(separator: ", "))")
                        }
                        return event
                    })
            }
            let format = try section.choice("format", ["json", "slack"]).flatMap(Format.init) ?? .json
            try section.finish()
            return Webhook(
                url: reference, events: events, format: format, name: "webhook \(index + 1)", location: item.location)
        }
    }
}

extension Webhook.Event {
    /// Whether a run's report shows this event.
    func happened(in report: SyncReport) -> Bool {
        switch self {
        case .failure: report.failure.map { $0.kind != .guardStopped && $0.kind != .locked } ?? false
        case .guardStopped: report.failure?.kind == .guardStopped
        case .rejections: !report.rejected.isEmpty
        case .invalid: !report.invalid.isEmpty
        case .removals: report.terminated > 0 || !report.waiting.isEmpty
        case .stale: report.stale
        }
    }
}
