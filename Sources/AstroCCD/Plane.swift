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

    convenience init(width: Int, height: Int, copying values: UnsafeBufferPointer<T>) {
        self.init(width: width, height: height, repeating: values[0])
        base.update(from: values.baseAddress!, count: width * height)
    }

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
