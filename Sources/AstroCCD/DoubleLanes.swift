/// Four float32 pixels widened to Double lanes and narrowed back: the calibration loops compute
/// in Double as ccdproc does, four pixels a step where LLVM left the scalar loops alone.
extension SIMD4 where Scalar == Double {
    /// The four pixels at `p`, in Double.
    @inline(__always)
    init(floatsAt p: UnsafePointer<Float>) {
        self.init(UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self))
    }

    /// The lanes rounded to float32, stored at `p`.
    @inline(__always)
    func storeFloats(at p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: SIMD4<Float>(self), as: SIMD4<Float>.self)
    }
}
