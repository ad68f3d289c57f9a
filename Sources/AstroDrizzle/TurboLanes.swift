/// Four turbo drops side by side (input pixels i ..< i + 4 of a row), one per vector lane:
/// whether each is the usual box (2×2 output pixels inside the band, `Band.dropTurbo`'s first
/// case), its lower-left pixel and its four weights, with that case's arithmetic lane by lane
/// (so the same bits). The outliers' six single drizzles are turbo drops.
struct TurboLanes {
    typealias V = SIMD4<Double>
    typealias D = DropSides
    /// Lanes whose box is the usual one.
    let usual: SIMDMask<SIMD4<Int64>>
    /// The box's lower-left output pixel (integral values).
    let n0: V, m0: V
    /// The box's overlap with the second column and row (nothing lands there unless > 0).
    let fx1: V, fy1: V
    /// Weights of the lower-left, lower-right, upper-left and upper-right pixels.
    let w00: V, w01: V, w10: V, w11: V

    /// Drops centred at (x, y) of weight `ws` (the box's inverse area times the pixel's weight),
    /// boxes of half-side `half`.
    @_transparent
    init(x: V, y: V, half: Double, ws: V, rows: Range<Int>, columns: Range<Int>) {
        let h = V(repeating: half), one = V(repeating: 1), mid = V(repeating: 0.5)
        let xlo = x - h, xhi = x + h, ylo = y - h, yhi = y + h
        let n0 = TurboLanes.nearest(xlo), n1 = TurboLanes.nearest(xhi), m0 = TurboLanes.nearest(ylo), m1 = TurboLanes.nearest(yhi)
        let square = (n1 .== n0 + one) .& (m1 .== m0 + one)
        let inside = (n0 .>= V(repeating: Double(columns.lowerBound))) .& (n1 .< V(repeating: Double(columns.upperBound)))
            .& (m0 .>= V(repeating: Double(rows.lowerBound))) .& (m1 .< V(repeating: Double(rows.upperBound)))
        usual = square .& inside
        self.n0 = n0
        self.m0 = m0
        let fx0 = (n0 + mid) - xlo, fy0 = (m0 + mid) - ylo
        fx1 = xhi - (n1 - mid)
        fy1 = yhi - (m1 - mid)
        w00 = fx0 * fy0 * ws
        w01 = fx1 * fy0 * ws
        w10 = fx0 * fy1 * ws
        w11 = fx1 * fy1 * ws
    }

    /// `nearest` lane by lane: halves away from zero, far coordinates clamped.
    @_transparent
    static func nearest(_ x: V) -> V {
        let v = D.min(D.max(x, V(repeating: -1e15)), V(repeating: 1e15)), half = V(repeating: 0.5)
        let up = (v + half).rounded(.towardZero), down = -((half - v).rounded(.towardZero))
        return down.replacing(with: up, where: v .>= V(repeating: 0))
    }
}
