import SnapshotStoreTestKit
import Testing

/// The in-memory store the engine tests trust is held to the contract the real stores keep.
@Suite struct StoreConformanceTests {
    @Test func theInMemoryStoreKeepsTheStoreContract() async throws {
        try await SnapshotStoreConformance(store: { InMemorySnapshotStore() }).verify()
    }
}
