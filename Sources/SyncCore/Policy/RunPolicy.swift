/// What a job allows one run: what happens to people who left, and the limits that stop a run
/// before anything is sent. The engine reads it; the job file (`removals:`, `guards:`) makes it.
public struct RunPolicy: Sendable, Hashable {
    /// What happens to people who left (`removals:`).
    public var removals: RemovalPolicy
    /// The other limits that stop a run (`guards:`, `source.min_records`).
    public var guards: GuardPolicy

    /// Creates a policy.
    public init(removals: RemovalPolicy = RemovalPolicy(), guards: GuardPolicy = GuardPolicy()) {
        self.removals = removals
        self.guards = guards
    }
}
