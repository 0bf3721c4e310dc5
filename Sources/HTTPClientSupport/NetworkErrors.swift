import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// Network failures in a few plain words, for errors people read.
public enum NetworkErrors {
    /// Whether a TLS error is a certificate that no trusted CA issued (or that has expired).
    public static func isUntrustedCertificate(_ error: any Error) -> Bool {
        guard case NIOSSLError.handshakeFailed(let reason) = error else { return false }
        return "\(reason)".contains("CERTIFICATE_VERIFY_FAILED")
    }

    /// Whether a TLS handshake failed because the server asks for a client certificate (mutual TLS)
    /// that was not shown, or refused the one shown.
    public static func isClientCertificateRequired(_ error: any Error) -> Bool {
        "\(error)".contains("CERTIFICATE_REQUIRED")
    }

    /// A network error in a few plain words: a system error by its name (`Connection refused`),
    /// an HTTP client error by its case; never NIO's nested descriptions.
    public static func said(_ error: any Error) -> String {
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)) }
        if let error = error as? NIOConnectionError {
            // A host name: each address NIO resolved was tried; the last one's failure says it.
            if let last = error.connectionErrors.last { return said(last.error) }
            return "\(error.host) could not be resolved to an address"
        }
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout: return "the connection timed out"
            case .readTimeout, .deadlineExceeded: return "no answer in time"
            case .remoteConnectionClosed: return "the server closed the connection"
            default: return "\(error)"
            }
        }
        return "\(error)"
    }
}
