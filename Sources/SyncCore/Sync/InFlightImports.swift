/// Runs a sync's batches with up to `limit` imports submitted and being polled at
/// once (`api.max_in_flight`), and never two at once that claim the same person.
///
/// A batch claims every key a row of it could be matched on: its source ids (and
/// those it re-keys), and each email and employee id it sends or had before. A
/// batch that shares a claim with one in flight waits for it; batches start in
/// plan order. So each person's imports go one at a time and in the order a
/// one-at-a-time run would send them, whatever order the API completes them in.
///
/// The first error stops new submissions; the batches in flight are seen to their
/// end (each is journaled, so its outcome is worth committing now), then it is thrown.
struct InFlightImports {
    /// Imports at once; 1 sends one at a time.
    var limit: Int

    /// Runs `send` for every batch and hands each result to `finished`, in completion order.
    /// - Parameters:
    ///   - count: how many batches, sent in order from 0.
    ///   - claims: batch `i`'s claims, asked for when it is next to start (only those in flight are kept).
    ///   - send: sends batch `i` to its end.
    ///   - finished: called as each batch ends, with its index and result.
    /// - Throws: the first error a batch threw, once no batch is in flight.
    func run<Value: Sendable>(
        count: Int, claims: (Int) -> Set<String>, send: @escaping @Sendable (Int) async throws -> Value,
        finished: (Int, Value) -> Void
    ) async throws {
        let firstError = await withTaskGroup(of: (Int, Result<Value, any Error>).self) { group -> (any Error)? in
            var claimed: [Int: Set<String>] = [:]
            var next = 0
            var nextClaims: Set<String>?
            var firstError: (any Error)?
            while true {
                while firstError == nil, next < count, claimed.count < max(1, limit) {
                    let wanted = nextClaims ?? claims(next)
                    guard claimed.values.allSatisfy({ $0.isDisjoint(with: wanted) }) else {
                        nextClaims = wanted
                        break
                    }
                    nextClaims = nil
                    let index = next
                    claimed[index] = wanted
                    group.addTask {
                        do { return (index, .success(try await send(index))) } catch { return (index, .failure(error)) }
                    }
                    next += 1
                }
                guard let (index, result) = await group.next() else { break }
                claimed[index] = nil
                switch result {
                case .success(let value): finished(index, value)
                case .failure(let error): firstError = firstError ?? error
                }
            }
            return firstError
        }
        if let firstError { throw firstError }
    }
}
