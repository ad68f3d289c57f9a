/// The four sides of a square drop, one per SIMD lane, for the overlap of the drop with output
/// pixels without a branch per pixel.
///
/// The area of a convex quadrilateral inside a unit pixel is the sum over its sides of the signed
/// area between the side and the pixel's bottom edge, clipped to the pixel (drizzle's boxer and
/// sgarea). The C core finds each side's share by cases: below, above, crossing the bottom or
/// the top. Those cases mispredict at every drop. Here a side's share is the mean of
/// clamp(y − bottom, 0, 1) along the side times its signed width, written so that every case is
/// the same arithmetic: the fraction of the side above the bottom edge and above the top edge,
/// and the mean height of the part in between. Each fraction is a ratio clamped to [0, 1], so
/// nothing cancels badly for nearly horizontal sides, and a side wholly above the pixel gives
/// its width exactly.
///
/// The methods are `@_transparent`: with `@inline(__always)` Swift 6.1 still called them, and
/// every call spilled the lanes to memory (slower than the scalar cases it replaces).
struct DropSides {
    typealias V = SIMD4<Double>
    /// Each side's lowest and highest x, start and end y, start x and dy/dx (0 when vertical).
    let xmin: V, xmax: V, xa: V, ya: V, yb: V, slope: V
    /// +1 for a side running left to right, −1 right to left.
    let direction: V

    @_transparent
    init(_ q: Quad) {
        xa = V(q.x0, q.x1, q.x2, q.x3); ya = V(q.y0, q.y1, q.y2, q.y3)
        let xb = V(q.x1, q.x2, q.x3, q.x0)
        yb = V(q.y1, q.y2, q.y3, q.y0)
        let dx = xb - xa
        xmin = DropSides.min(xa, xb); xmax = DropSides.max(xa, xb)
        slope = ((yb - ya) / dx).replacing(with: 0, where: dx .== 0)
        direction = V(repeating: 1).replacing(with: -1, where: dx .< 0)
    }

    /// The sides within the column of output pixels whose left edge is at `ox`.
    @_transparent
    func column(_ ox: Double) -> ColumnSides {
        let zero = V(repeating: 0), one = V(repeating: 1)
        let lo = DropSides.min(DropSides.max(xmin - ox, zero), one), hi = DropSides.min(DropSides.max(xmax - ox, zero), one)
        let base = ox - xa
        let y0 = ya + slope * (lo + base), y1 = ya + slope * (hi + base)
        let low = DropSides.min(y0, y1), high = DropSides.max(y0, y1)
        return ColumnSides(low: low, high: high, inverse: 1 / DropSides.max(high - low, V(repeating: 1e-200)),
                           width: direction * (hi - lo))
    }

    /// The drop's areas in the 2×2 pixels whose lower-left corner is (ox, oy), for a drop lying
    /// inside them: lower left, upper left, lower right, upper right. The lower-left one is
    /// clipped as in `column`; the others follow from the drop's area left of x = ox + 1 (the
    /// clipped column's sides under no cap: Σ width · mean y), below y = oy + 1 (the unclipped
    /// sides in `area`) and in all (the trapezoid sum), which halves the clipping work of the
    /// drop most rotations and scales near one give. Differences of areas near 1 leave rounding
    /// of ~1e-15 where a pixel is missed or just touched: those are set to zero.
    @_transparent
    func block(_ ox: Double, _ oy: Double) -> (Double, Double, Double, Double) {
        let left = column(ox)
        let lowerLeft = left.area(oy)
        let leftPart = (left.width * (left.low + left.high)).sum() * 0.5
        let low = DropSides.min(ya, yb), high = DropSides.max(ya, yb)
        let width = direction * (xmax - xmin)
        let whole = ColumnSides(low: low, high: high, inverse: 1 / DropSides.max(high - low, V(repeating: 1e-200)), width: width)
        let lowerPart = whole.area(oy)
        let total = (width * (low + high)).sum() * 0.5
        @_transparent func cut(_ a: Double) -> Double { a.magnitude < 1e-12 ? 0 : a }
        return (cut(lowerLeft), cut(leftPart - lowerLeft), cut(lowerPart - lowerLeft), cut(total - leftPart - lowerPart + lowerLeft))
    }

    /// Lane-wise min and max as single vector instructions (the library's follow IEEE NaN rules
    /// lane by lane; no NaN reaches here).
    @inline(__always) static func min(_ a: V, _ b: V) -> V { a.replacing(with: b, where: b .< a) }
    @inline(__always) static func max(_ a: V, _ b: V) -> V { a.replacing(with: b, where: b .> a) }
}

/// A drop's sides clipped to one column: each side's lowest and highest y there (absolute),
/// 1/(high − low), and its signed width in the column.
struct ColumnSides {
    typealias V = SIMD4<Double>
    let low: V, high: V, inverse: V, width: V

    /// The drop's area inside the pixel of this column whose bottom edge is at `oy`.
    @_transparent
    func area(_ oy: Double) -> Double {
        let zero = V(repeating: 0), one = V(repeating: 1)
        let h = high - oy, l = low - oy
        // Fractions of the side above the bottom and above the top edge.
        let above0 = DropSides.min(DropSides.max(h * inverse, zero), one)
        let above1 = DropSides.min(DropSides.max((h - one) * inverse, zero), one)
        // Mean height over the part between: its ends clamped to the pixel.
        let ends = DropSides.min(DropSides.max(h, zero), one) + DropSides.min(DropSides.max(l, zero), one)
        let mean = (above0 - above1) * ends * 0.5 + above1
        return (mean * width).sum()
    }
}
