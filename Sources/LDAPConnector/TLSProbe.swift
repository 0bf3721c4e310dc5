import CLDAP
import ConnectorCore
import Foundation
import NetworkNames

/// After a TLS connection is refused, looks at the certificate the server
/// shows (connecting once more without checking it, reading nothing) so the
/// error can name the certificate's subject and issuer.
enum TLSProbe {
    /// The server certificate's subject and issuer common names, or `nil` when there is none to see.
    static func certificateNames(url: String, startTLS: Bool, timeoutSeconds: Int) -> (subject: String, issuer: String)?
    {
        let options = LDAPConnection.Options(
            startTLS: startTLS, caFile: nil, verifyCertificates: false, timeoutSeconds: timeoutSeconds)
        guard let probe = try? LDAPConnection(url: url, options: options), let der = probe.peerCertificate() else {
            return nil
        }
        let names = CertificateNames.commonNames(inDER: der)
        guard names.count >= 2 else { return nil }
        return (subject: names[1], issuer: names[0])
    }
}

extension LDAPConnection {
    /// The server's certificate (DER), connecting with an anonymous bind if need be.
    func peerCertificate() -> [UInt8]? {
        try? bind(dn: "", password: nil)
        return withHandle { handle in
            var certificate = berval(bv_len: 0, bv_val: nil)
            guard ldap_get_option(handle, LDAP_OPT_X_TLS_PEERCERT, &certificate) == LDAP_OPT_SUCCESS,
                let bytes = certificate.bv_val
            else { return nil }
            defer { ber_memfree(bytes) }
            return Array(
                UnsafeRawBufferPointer(start: bytes, count: Int(certificate.bv_len)).bindMemory(to: UInt8.self))
        }
    }
}
