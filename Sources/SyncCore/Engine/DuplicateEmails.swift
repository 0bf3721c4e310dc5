/// Finds emails that more than one person has (ignoring case). Every record
/// involved is invalid: there is no telling which one is right. (Duplicate ids
/// are found by the differ, which sees records sorted by id: two records with
/// one id and one email are reported there, as one id given twice.)
///
/// The workers hash each record's email as they prepare it; once every record
/// is in, ``mark(_:in:)`` groups equal hashes and compares the emails of each
/// group, so a hash collision never makes a false duplicate.
struct DuplicateEmails: Sendable {
    private let hasher = SipHash24(k0: UInt64.random(in: .min ... .max), k1: UInt64.random(in: .min ... .max))
    private let position: Int?
    private let field: String

    init(layout: RowLayout) {
        field = layout.catalog.email.first ?? "email"
        position = layout.position(of: field)
    }

    /// The hash of a row's email, ignoring case; `nil` when it has none.
    func hash(of values: [String?]) -> UInt64? {
        guard let position, let email = values[position] else { return nil }
        var key = FastText.lowercased(email)
        return key.withUTF8 { hasher.hash(UnsafeRawBufferPointer($0)) }
    }

    /// Makes every record that shares its email with another invalid. A record whose leaving day
    /// (`dates:`) has come is left out: HR keeps leavers on its books, and a rehire or a new hire
    /// may have their address; the identity rules decide who may take it.
    /// - Parameters:
    ///   - hashes: each email's hash with its record's position, in position order.
    ///   - candidates: the records.
    ///   - today: the run's day in the job's zone, when the job has `dates:`.
    func mark(_ hashes: [EqualHashes.Entry], in candidates: inout CandidateList, today: String? = nil) {
        guard let position else { return }
        func left(_ p: Int) -> Bool {
            guard let today, let day = candidates[p].dates?.endDay(today: today) else { return false }
            return day <= today
        }
        for group in EqualHashes.groups(hashes) {
            // Equal hashes almost always mean equal emails; make sure.
            var rest = group.map(Int.init).filter { !left($0) }
            while let first = rest.first {
                let email = FastText.lowercased(candidates[first].values[position] ?? "")
                var same: [Int] = [], others: [Int] = []
                for p in rest {
                    if FastText.lowercased(candidates[p].values[position] ?? "") == email {
                        same.append(p)
                    } else {
                        others.append(p)
                    }
                }
                rest = others
                // Records with the first one's id are one id given twice: the differ says so.
                let firstID = candidates[first].id
                let clashing = same.dropFirst().filter { candidates[$0].id != firstID }
                guard !clashing.isEmpty else { continue }
                var named: Set<String> = []
                for later in clashing {
                    let laterID = candidates[later].id
                    candidates[later].problems.append(
                        RecordProblem(field: field, "is also the email of source id \(candidates[first].id)"))
                    candidates[later].fingerprint = nil
                    if named.insert(laterID).inserted {
                        candidates[first].problems.append(
                            RecordProblem(field: field, "is also the email of source id \(laterID)"))
                    }
                }
                candidates[first].fingerprint = nil
            }
        }
    }
}
