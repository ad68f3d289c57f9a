import AstroImage

/// One working image of a multi-pass algorithm (L.A.Cosmic keeps about eight): a row-major
/// buffer it owns, handed to `Parallel` workers by pointer; each worker writes only its rows.
final class Plane<T>: @unchecked Sendable {
    let width: Int
    let height: Int
    let base: UnsafeMutablePointer<T>
    var count: Int { width * height }

    init(width: Int, height: Int, repeating value: T) {
        self.width = width
        self.height = height
        base = .allocate(capacity: width * height)
        base.initialize(repeating: value, count: width * height)
    }

    init(width: Int, height: Int, copying values: UnsafeBufferPointer<T>) {
        self.width = width
        self.height = height
        base = .allocate(capacity: width * height)
        base.initialize(from: values.baseAddress!, count: width * height)
    }

    /// A plane of plain values (Float, UInt8) left unset, for a caller that writes every pixel
    /// before reading any: the filters' outputs, which a fill pass on one core only delayed
    /// (a tenth of L.A.Cosmic's time).
    private init(width: Int, height: Int) {
        self.width = width
        self.height = height
        base = .allocate(capacity: width * height)
    }

    static func unset(width: Int, height: Int) -> Plane where T: BitwiseCopyable { Plane(width: width, height: height) }

    deinit { base.deallocate() }

    @inline(__always) subscript(x: Int, y: Int) -> T {
        get { base[y * width + x] }
        set { base[y * width + x] = newValue }
    }

    /// Rows of the image split over the cores.
    func forEachRowBlock(_ body: @Sendable (Range<Int>) -> Void) {
        Parallel.forEachBlock(count: height, minBlock: max(1, 16384 / max(1, width)), body)
    }

    var array: [T] { Array(UnsafeBufferPointer(start: base, count: count)) }
}

extension Plane where T == UInt8 {
    /// Calls `body` with each x in `columns` of row y whose byte is not zero, in order, testing
    /// eight bytes at a time: L.A.Cosmic's flag planes are almost all zeros, and a byte-by-byte
    /// scan of a frame per pass and plane was most of the cleaning's time.
    @inline(__always)
    func forEachSet(row y: Int, columns: Range<Int>, _ body: (Int) -> Void) {
        let row = UnsafeRawPointer(base + y * width)
        var x = columns.lowerBound
        while x < columns.upperBound {
            if x + 8 <= columns.upperBound && row.loadUnaligned(fromByteOffset: x, as: UInt64.self) == 0 { x += 8; continue }
            if row.load(fromByteOffset: x, as: UInt8.self) != 0 { body(x) }
            x += 1
        }
    }
}
