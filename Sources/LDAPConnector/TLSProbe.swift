import CLDAP
import Foundation

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
        let names = commonNames(inDER: der)
        guard names.count >= 2 else { return nil }
        return (subject: names[1], issuer: names[0])
    }

    /// The values of the common-name attributes (OID 2.5.4.3) in a DER certificate,
    /// in order: the issuer's comes before the subject's.
    static func commonNames(inDER der: [UInt8]) -> [String] {
        var names: [String] = []
        var i = 0
        while i + 7 < der.count {
            if der[i] == 0x06, der[i + 1] == 0x03, der[i + 2] == 0x55, der[i + 3] == 0x04, der[i + 4] == 0x03,
                [0x0C, 0x13, 0x16, 0x14].contains(der[i + 5])
            {
                let length = Int(der[i + 6])
                if length < 0x80, i + 7 + length <= der.count,
                    let name = String(bytes: der[(i + 7)..<(i + 7 + length)], encoding: .utf8)
                {
                    names.append(name)
                }
                i += 7 + length
            } else {
                i += 1
            }
        }
        return names
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
