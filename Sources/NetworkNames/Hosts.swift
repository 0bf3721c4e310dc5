import Foundation

/// Questions about host names in URLs a job names.
package enum Hosts {
    /// Whether a host is this machine's loopback (`localhost`, `127.x.x.x`, `::1`), where
    /// plain-text protocols expose nothing: a connection that leaves the machine must be encrypted.
    package static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        return bare == "localhost" || bare == "::1" || bare.hasPrefix("127.")
    }
}
