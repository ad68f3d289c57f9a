extension Array where Element: BitwiseCopyable & Sendable {
    /// `count` copies of `value`, stored by all cores. For a large new plane the cost is the
    /// first touch of each page (the kernel zeroes it, and on a virtual machine the host may
    /// fault it in too), not the stores; this way those faults are taken on every core.
    @inlinable
    public init(parallelRepeating value: Element, count: Int) {
        self.init(unsafeUninitializedCapacity: count) { buffer, initialized in
            let out = SendableMutableBuffer(buffer)
            Parallel.forEachBlock(count: count, minBlock: 1 << 18) { r in
                (out.base + r.lowerBound).initialize(repeating: value, count: r.count)
            }
            initialized = count
        }
    }
}
