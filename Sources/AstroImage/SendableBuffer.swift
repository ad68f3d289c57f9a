/// Read-only view of a buffer handed to `Parallel` workers (each reads; nobody writes).
public struct SendableBuffer<T>: @unchecked Sendable {
    public let base: UnsafePointer<T>
    public let count: Int
    public init(_ b: UnsafeBufferPointer<T>) {
        base = b.baseAddress ?? UnsafePointer(bitPattern: 8)!
        count = b.count
    }
    @inline(__always) public subscript(i: Int) -> T { base[i] }
}

/// Output buffer handed to `Parallel` workers; each writes only its own disjoint range.
public struct SendableMutableBuffer<T>: @unchecked Sendable {
    public let base: UnsafeMutablePointer<T>
    public let count: Int
    public init(_ b: UnsafeMutableBufferPointer<T>) {
        base = b.baseAddress ?? UnsafeMutablePointer(bitPattern: 8)!
        count = b.count
    }
    @inline(__always) public subscript(i: Int) -> T {
        get { base[i] }
        nonmutating set { base[i] = newValue }
    }
}
