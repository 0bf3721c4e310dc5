/// Names read from a certificate, for errors that say which certificate a server showed.
package enum CertificateNames {
    /// The values of the common-name attributes (OID 2.5.4.3) in a DER certificate,
    /// in order: the issuer's comes before the subject's.
    package static func commonNames(inDER der: [UInt8]) -> [String] {
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
