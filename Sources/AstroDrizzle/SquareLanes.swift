/// Four square drops side by side (input pixels i ..< i + 4 of a row), one per vector lane:
/// where each lands on the output, whether it lies in a block of 2×2 output pixels (the usual
/// drop, `DropSides.block`'s case), and for those its four areas.
///
/// Each lane runs the one-drop arithmetic of `Band.dropSquare` and `DropSides.block` in the same
/// order (their sums over the four sides in side order, as `SIMD4.sum()` adds), so the areas are
/// the same bits; what it saves is the per-drop scalar work (extent, pixel indices, the block
/// test) and the sums across lanes, which `dropSquare` does once per drop.
struct SquareLanes {
    typealias V = SIMD4<Double>
    typealias D = DropSides
    /// Lanes whose drop lies in a 2×2 block of the band's pixels.
    let block: SIMDMask<SIMD4<Int64>>
    /// The block's lower-left output pixel (integral values), and the drop's signed area.
    let i0: V, j0: V, jaco: V
    /// Areas in the block: lower left, upper left, lower right, upper right.
    let a00: V, a10: V, a01: V, a11: V

    /// Whether every corner of the four drops at column i of the corner planes is finite
    /// (`Band.squareCorners`: eight planes of `planeSize` values, x0, y0, … y3).
    @_transparent
    static func finite(_ planes: UnsafePointer<Double>, column i: Int, planeSize n: Int) -> Bool {
        // x − x is 0 for a finite x, NaN otherwise.
        var sum = V(repeating: 0)
        for p in 0..<8 {
            let v = UnsafeRawPointer(planes + p * n + i).loadUnaligned(as: V.self)
            sum += v - v
        }
        return all(sum .== V(repeating: 0))
    }

    /// The four drops at column i of the corner planes, whose corners are finite.
    @_transparent
    init(_ planes: UnsafePointer<Double>, column i: Int, planeSize n: Int, rows: Range<Int>, columns: Range<Int>) {
        let x0 = SquareLanes.load(planes, 0, n, i), y0 = SquareLanes.load(planes, 1, n, i)
        let x1 = SquareLanes.load(planes, 2, n, i), y1 = SquareLanes.load(planes, 3, n, i)
        let x2 = SquareLanes.load(planes, 4, n, i), y2 = SquareLanes.load(planes, 5, n, i)
        let x3 = SquareLanes.load(planes, 6, n, i), y3 = SquareLanes.load(planes, 7, n, i)
        let one = V(repeating: 1), two = V(repeating: 2), half = V(repeating: 0.5)
        let ylow = D.min(D.min(y0, y1), D.min(y2, y3)), yhigh = D.max(D.max(y0, y1), D.max(y2, y3))
        let xlow = D.min(D.min(x0, x1), D.min(x2, x3)), xhigh = D.max(D.max(x0, x1), D.max(x2, x3))
        let j0 = D.max(SquareLanes.pixel(ylow), V(repeating: Double(rows.lowerBound)))
        let j1 = D.min(SquareLanes.pixel(yhigh), V(repeating: Double(rows.upperBound - 1)))
        let i0 = D.max(SquareLanes.pixel(xlow), V(repeating: Double(columns.lowerBound)))
        let i1 = D.min(SquareLanes.pixel(xhigh), V(repeating: Double(columns.upperBound - 1)))
        let ox = i0 - half, oy = j0 - half
        let inBlock = (i1 .== i0 + one) .& (j1 .== j0 + one) .& (xlow .>= ox) .& (ylow .>= oy)
        block = inBlock .& (xhigh .<= ox + two) .& (yhigh .<= oy + two)
        self.i0 = i0
        self.j0 = j0
        jaco = half * ((x1 - x3) * (y0 - y2) - (x0 - x2) * (y1 - y3))
        let s0 = SquareLanes.side(x0, y0, x1, y1, ox, oy), s1 = SquareLanes.side(x1, y1, x2, y2, ox, oy)
        let s2 = SquareLanes.side(x2, y2, x3, y3, ox, oy), s3 = SquareLanes.side(x3, y3, x0, y0, ox, oy)
        let lowerLeft = s0.lowerLeft + s1.lowerLeft + s2.lowerLeft + s3.lowerLeft
        let leftPart = (s0.left + s1.left + s2.left + s3.left) * half
        let lowerPart = s0.lower + s1.lower + s2.lower + s3.lower
        let total = (s0.total + s1.total + s2.total + s3.total) * half
        a00 = SquareLanes.cut(lowerLeft)
        a10 = SquareLanes.cut(leftPart - lowerLeft)
        a01 = SquareLanes.cut(lowerPart - lowerLeft)
        a11 = SquareLanes.cut(total - leftPart - lowerPart + lowerLeft)
    }

    @_transparent
    static func load(_ planes: UnsafePointer<Double>, _ p: Int, _ n: Int, _ i: Int) -> V {
        UnsafeRawPointer(planes + p * n + i).loadUnaligned(as: V.self)
    }

    /// `dropSquare`'s nearest pixel, by truncation, of clamped values.
    @_transparent
    static func pixel(_ v: V) -> V {
        D.min(D.max(v + V(repeating: 0.5), V(repeating: -1e9)), V(repeating: 1e9)).rounded(.towardZero)
    }

    /// `a.magnitude < 1e-12 ? 0 : a` lane by lane.
    @_transparent
    static func cut(_ a: V) -> V { a.replacing(with: 0, where: (a .< V(repeating: 1e-12)) .& (a .> V(repeating: -1e-12))) }

    /// One side (xa, ya) → (xb, yb) of every lane's drop: its terms of the four sums
    /// (`DropSides.init`, `column(ox)` and `block`'s whole-drop sides, lane by lane).
    @_transparent
    static func side(_ xa: V, _ ya: V, _ xb: V, _ yb: V, _ ox: V, _ oy: V) -> (lowerLeft: V, left: V, lower: V, total: V) {
        let zero = V(repeating: 0), one = V(repeating: 1)
        let dx = xb - xa
        let xmin = D.min(xa, xb), xmax = D.max(xa, xb)
        let slope = ((yb - ya) / dx).replacing(with: 0, where: dx .== zero)
        let direction = one.replacing(with: -1, where: dx .< zero)
        // Clipped to the block's left column.
        let lo = D.min(D.max(xmin - ox, zero), one), hi = D.min(D.max(xmax - ox, zero), one)
        let base = ox - xa
        let c0 = ya + slope * (lo + base), c1 = ya + slope * (hi + base)
        let cLow = D.min(c0, c1), cHigh = D.max(c0, c1)
        let cInverse = one / D.max(cHigh - cLow, V(repeating: 1e-200))
        let cWidth = direction * (hi - lo)
        // The whole side.
        let low = D.min(ya, yb), high = D.max(ya, yb)
        let width = direction * (xmax - xmin)
        let inverse = one / D.max(high - low, V(repeating: 1e-200))
        return (area(cLow, cHigh, cInverse, cWidth, oy), cWidth * (cLow + cHigh), area(low, high, inverse, width, oy), width * (low + high))
    }

    /// `ColumnSides.area`'s term of one side: mean height above `oy` (clamped to the pixel)
    /// times the side's signed width.
    @_transparent
    static func area(_ low: V, _ high: V, _ inverse: V, _ width: V, _ oy: V) -> V {
        let zero = V(repeating: 0), one = V(repeating: 1)
        let h = high - oy, l = low - oy
        let above0 = D.min(D.max(h * inverse, zero), one)
        let above1 = D.min(D.max((h - one) * inverse, zero), one)
        let ends = D.min(D.max(h, zero), one) + D.min(D.max(l, zero), one)
        let mean = (above0 - above1) * ends * V(repeating: 0.5) + above1
        return mean * width
    }
}
