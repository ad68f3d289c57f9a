/// FITS stores samples big-endian; these swap 32-bit words eight at a time. Written as shifts
/// and masks on vectors, which the compiler turns into one byte shuffle per vector (the
/// element-wise `bigEndian` loops compiled to one scalar `movbe` per sample: a few percent of
/// every command that writes images).
enum ByteOrder {
    /// `out[i] = in[i]` with its four bytes reversed, for i in 0..<count (`out` may be `in`).
    @inline(__always)
    static func swap32(_ input: UnsafeRawPointer, _ output: UnsafeMutableRawPointer, count: Int) {
        typealias V = SIMD8<UInt32>
        var i = 0
        while i + 8 <= count {
            let x = input.loadUnaligned(fromByteOffset: i * 4, as: V.self)
            let y = (x &>> 24) | ((x &>> 8) & V(repeating: 0xFF00)) | ((x &<< 8) & V(repeating: 0xFF_0000)) | (x &<< 24)
            output.storeBytes(of: y, toByteOffset: i * 4, as: V.self)
            i += 8
        }
        while i < count {
            output.storeBytes(of: input.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self).byteSwapped, toByteOffset: i * 4, as: UInt32.self)
            i += 1
        }
    }
}
