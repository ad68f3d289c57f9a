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

    /// Element p = `element(p)` for p in 0..<count, computed and stored by all cores (the new
    /// plane's pages faulted in on every core too).
    @inlinable
    public init(parallelCount count: Int, _ element: @Sendable (Int) -> Element) {
        self.init(unsafeUninitializedCapacity: count) { buffer, initialized in
            let out = SendableMutableBuffer(buffer)
            Parallel.forEachBlock(count: count, minBlock: 1 << 16) { r in
                for p in r { (out.base + p).initialize(to: element(p)) }
            }
            initialized = count
        }
    }

    /// Elements 0..<count written by `fill`, which is handed blocks of indices (every index of
    /// its block written) and the buffer, on all cores. The loop over a block is the caller's,
    /// inlined, where `init(parallelCount:)` calls its closure once per element.
    @inlinable
    public init(parallelRanges count: Int, _ fill: @Sendable (Range<Int>, SendableMutableBuffer<Element>) -> Void) {
        self.init(unsafeUninitializedCapacity: count) { buffer, initialized in
            let out = SendableMutableBuffer(buffer)
            Parallel.forEachBlock(count: count, minBlock: 1 << 16) { r in fill(r, out) }
            initialized = count
        }
    }
}
