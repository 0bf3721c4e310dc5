#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Orders strings by their UTF-8 bytes, as SQLite's BINARY and PostgreSQL's
/// "C" collations do. (Swift's `<` and `==` follow Unicode canonical
/// equivalence instead, which would disagree with a database's order.)
enum ByteOrder {
    /// Negative, zero or positive as `a` sorts before, with or after `b`.
    static func compare(_ a: String, _ b: String) -> Int {
        var a = a, b = b
        return a.withUTF8 { pa in
            b.withUTF8 { pb in
                let common = min(pa.count, pb.count)
                if common > 0 {
                    let result = memcmp(pa.baseAddress!, pb.baseAddress!, common)
                    if result != 0 { return Int(result) }
                }
                return pa.count - pb.count
            }
        }
    }
}
