extension UnsafeMutablePointer {
    /// Room for `capacity` values starting on a 64-byte boundary (free it with `deallocate()`).
    ///
    /// Swift aligns `SIMD8<Float>` and `SIMD16<Float>` to 16 bytes only, so a sorting network's
    /// scratch vectors could straddle cache lines wherever the heap happened to place them:
    /// ccdmask's rank filter ran 20 % slower in a build whose unrelated changes had moved the
    /// heap, with the same machine code.
    public static func allocateAligned(capacity: Int) -> UnsafeMutablePointer<Pointee> {
        UnsafeMutableRawPointer.allocate(byteCount: Swift.max(1, capacity) * MemoryLayout<Pointee>.stride, alignment: 64)
            .bindMemory(to: Pointee.self, capacity: capacity)
    }
}
