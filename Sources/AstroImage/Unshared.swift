/// Hands a value that is not Sendable (a WCS, a class holding one, a closure over them) to
/// `Parallel` workers where the code guarantees no two threads use it at once: each worker
/// copies it first, or uses only its own part, or uses it after the worker that made it is done.
public struct Unshared<Value>: @unchecked Sendable {
    public let value: Value
    public init(_ value: Value) { self.value = value }
}
