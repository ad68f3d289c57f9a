import AstroImage

/// What another chip saw at each pixel of a chip, where both saw the same sky (docs/skymatch.md §3, §8.2).
///
/// Not the references' rasterised polygon, whose boundary pixels depend on rounding at x.5:
/// each pixel centre of `a` is carried through `a`'s WCS and `b`'s inverse WCS, distortions
/// included, and kept when it lands inside `b`'s pixel area (−0.5 ≤ x < width − 0.5, same for y)
/// where the pixels `b` interpolates from are usable. The spherical intersection only bounds
/// the search. The exact transform is evaluated on a grid and interpolated bilinearly in
/// between, so the cost is one pass over the bounded pixels: the grid's step is the largest of
/// 64, 32 and 16 pixels whose interpolation stays within ``tolerance`` of the exact map at every
/// cell's centre and at the midpoints of its top and left edges (where bilinear interpolation is
/// worst), else 8 (under 1e-4 px for TAN and SIP chips). The transforms at 8 pixels were a tenth
/// of skymatch's time on six 1024² frames.
enum Overlap {
    static let finestStep = 8
    static let tolerance = 1e-5

    /// Sets `other[k]`, where it is still NaN, to `b`'s value interpolated bilinearly at the centre
    /// of pixel k of `a`, for each usable pixel of `a` covered by usable pixels of `b`; `region`
    /// is the two footprints' intersection. The difference `a − other` then holds the two chips'
    /// sky offset plus noise, whatever the sky there shows: extended emission cancels.
    static func sample(_ other: inout [Float], of a: SkyChip, from b: SkyChip, region: SphericalPolygon) {
        sample(&other, window: (0...(a.width - 1), 0...(a.height - 1)), of: a, from: b, region: region)
    }

    /// The same into `other` covering only `window` of `a` (row-major, the window's width):
    /// a pair's buffer then spans its overlap, not the whole chip.
    static func sample(_ other: inout [Float], window: (x: ClosedRange<Int>, y: ClosedRange<Int>), of a: SkyChip,
                       from b: SkyChip, region: SphericalPolygon) {
        guard let full = bounds(of: region, in: a), full.x.overlaps(window.x), full.y.overlaps(window.y) else { return }
        let box = (x: full.x.clamped(to: window.x), y: full.y.clamped(to: window.y))
        let wx0 = window.x.lowerBound, wy0 = window.y.lowerBound, ww = window.x.count
        let (gridStep, xs, ys, mapped) = grid(box, of: a, from: b)
        let bw = b.width, bh = b.height, aw = a.width
        let xmax = Double(bw) - 0.5, ymax = Double(bh) - 0.5
        let nxg = xs.count
        mapped.x.withUnsafeBufferPointer { mxp in
        mapped.y.withUnsafeBufferPointer { myp in
        a.excluded.withUnsafeBufferPointer { aexp in
        b.excluded.withUnsafeBufferPointer { bexp in
        b.pixels.withUnsafeBufferPointer { bpp in
        other.withUnsafeMutableBufferPointer { op in
            let mx = SendableBuffer(mxp), my = SendableBuffer(myp), bpix = SendableBuffer(bpp)
            let aex = SendableBuffer(aexp), bex = SendableBuffer(bexp), out = SendableMutableBuffer(op)
            let rows = box.y, cols = box.x
            Parallel.forEachBlock(count: rows.count, minBlock: 16) { block in
                // The grid's transform interpolated to this row, one point per grid column.
                var lineX = [Double](repeating: 0, count: nxg), lineY = [Double](repeating: 0, count: nxg)
                lineX.withUnsafeMutableBufferPointer { lxp in
                lineY.withUnsafeMutableBufferPointer { lyp in
                for r in block {
                    let y = rows.lowerBound + r
                    let (j0, j1, ty) = cell(y, ys, gridStep)
                    for i in 0..<nxg {
                        lxp[i] = (1 - ty) * mx[j0 * nxg + i] + ty * mx[j1 * nxg + i]
                        lyp[i] = (1 - ty) * my[j0 * nxg + i] + ty * my[j1 * nxg + i]
                    }
                    let row = (y - wy0) * ww - wx0
                    // Grid interval by grid interval: along the row the point moves on the
                    // segment between the interval's ends, so an interval whose two ends lie
                    // beyond the same edge of b is skipped whole.
                    var i = max(0, min((cols.lowerBound - xs[0]) / gridStep, nxg - 2))
                    var x = cols.lowerBound
                    while x <= cols.upperBound {
                        let (i0, i1) = nxg > 1 ? (i, i + 1) : (0, 0)
                        let xa = xs[i0], xb = xs[i1]
                        let end = i1 == nxg - 1 || nxg == 1 ? cols.upperBound : min(cols.upperBound, xb - 1)
                        let ax = lxp[i0], bx = lxp[i1], ay = lyp[i0], by = lyp[i1]
                        // (With a margin for the rounding of the interpolation.)
                        let lowX = -0.5 - 1e-6, lowY = -0.5 - 1e-6, highX = xmax + 1e-6, highY = ymax + 1e-6
                        let outside = (ax < lowX && bx < lowX) || (ax >= highX && bx >= highX)
                            || (ay < lowY && by < lowY) || (ay >= highY && by >= highY)
                        if !outside {
                            let scale = xb > xa ? 1 / Double(xb - xa) : 0
                            let dx = bx - ax, dy = by - ay
                            let aRow = aex.base + y &* aw, oRow = out.base + row
                            let bmask = UnsafeRawPointer(bex.base), bp = bpix.base
                            var x = x
                            // Eight pixels at a time where all eight land inside b, away from its edges.
                            while x &+ 7 <= end, eight(at: x, xa: xa, scale: scale, ax: ax, dx: dx, ay: ay, dy: dy,
                                                         aRow: aRow, oRow: oRow, b: bp, mask: bmask, width: bw, height: bh) {
                                x &+= 8
                            }
                            while x <= end {
                                defer { x &+= 1 }
                                guard aRow[x] == 0 && oRow[x].isNaN else { continue }
                                let tx = Double(x &- xa) * scale
                                let px = ax + tx * dx, py = ay + tx * dy
                                // NaN (a corner the inverse WCS could not map) fails these tests too.
                                guard px >= -0.5, px < xmax, py >= -0.5, py < ymax else { continue }
                                // floor without a libm call: px, py ≥ −0.5 here.
                                let fx = px < 0 ? -1.0 : Double(Int(px)), fy = py < 0 ? -1.0 : Double(Int(py))
                                let ix = Int(fx), iy = Int(fy)
                                let i00: Int, i01: Int, i10: Int, i11: Int
                                if ix >= 0 && ix &+ 1 < bw && iy >= 0 && iy &+ 1 < bh {
                                    // Inside: the two pixel pairs are adjacent in memory.
                                    i00 = iy &* bw &+ ix; i01 = i00 &+ 1; i10 = i00 &+ bw; i11 = i10 &+ 1
                                    guard bmask.loadUnaligned(fromByteOffset: i00, as: UInt16.self)
                                        | bmask.loadUnaligned(fromByteOffset: i10, as: UInt16.self) == 0 else { continue }
                                } else {
                                    // The four pixels around the point, clamped at b's edges.
                                    let x0 = max(0, ix), x1 = min(bw - 1, ix + 1)
                                    let y0 = max(0, iy), y1 = min(bh - 1, iy + 1)
                                    i00 = y0 * bw + x0; i01 = y0 * bw + x1; i10 = y1 * bw + x0; i11 = y1 * bw + x1
                                    guard bex[i00] | bex[i01] | bex[i10] | bex[i11] == 0 else { continue }
                                }
                                let u = Float(px - fx), v = Float(py - fy)
                                oRow[x] = (1 - v) * ((1 - u) * bp[i00] + u * bp[i01]) + v * ((1 - u) * bp[i10] + u * bp[i11])
                            }
                        }
                        x = end + 1
                        i += 1
                    }
                }
                }}
            }
        }}}}}}
    }

    /// `sample`'s inner loop for pixels x…x+7 of a row of `a`, lane by lane the same arithmetic:
    /// false, with nothing written, when a point falls outside b's interior (x < 0, x ≥ width − 1
    /// or the same in y), which the scalar loop then handles with its clamping.
    @inline(__always)
    static func eight(at x: Int, xa: Int, scale: Double, ax: Double, dx: Double, ay: Double, dy: Double,
                      aRow: UnsafePointer<UInt8>, oRow: UnsafeMutablePointer<Float>, b: UnsafePointer<Float>,
                      mask: UnsafeRawPointer, width: Int, height: Int) -> Bool {
        // (Conversions lane by lane: SIMD's own Double → Int32 conversion is a generic call.)
        typealias D = SIMD8<Double>
        let lanes = D(0, 1, 2, 3, 4, 5, 6, 7)
        let tx = (D(repeating: Double(x &- xa)) + lanes) * scale
        let px = ax + tx * dx, py = ay + tx * dy
        let zero = D(repeating: 0)
        // NaN fails these tests too.
        let inside = (px .>= zero) .& (px .< D(repeating: Double(width - 1))) .& (py .>= zero) .& (py .< D(repeating: Double(height - 1)))
        guard all(inside) else { return false }
        let fx = px.rounded(.towardZero), fy = py.rounded(.towardZero)
        let old = UnsafeRawPointer(oRow + x).loadUnaligned(as: SIMD8<Float>.self)
        let raw = UnsafeRawPointer(b), w = width
        let u = SIMD8<Float>(px - fx), v = SIMD8<Float>(py - fy)
        let one = SIMD8<Float>(repeating: 1)
        // The usual case: the eight points fall in one row of b and in consecutive columns (the
        // chips' maps are near translations), so each corner of the eight cells is one load.
        if all(fy .== D(repeating: fy[0])) && all(fx .== D(repeating: fx[0]) + lanes) {
            let i = Int(fy[0]) &* w &+ Int(fx[0]), up = i &+ w
            let b00 = raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
            let b01 = raw.loadUnaligned(fromByteOffset: (i &+ 1) &* 4, as: SIMD8<Float>.self)
            let b10 = raw.loadUnaligned(fromByteOffset: up &* 4, as: SIMD8<Float>.self)
            let b11 = raw.loadUnaligned(fromByteOffset: (up &+ 1) &* 4, as: SIMD8<Float>.self)
            // A lane's mask byte: its own pixel's and its cell's four corners' in b.
            let flags = UnsafeRawPointer(aRow + x).loadUnaligned(as: UInt64.self)
                | mask.loadUnaligned(fromByteOffset: i, as: UInt64.self) | mask.loadUnaligned(fromByteOffset: i &+ 1, as: UInt64.self)
                | mask.loadUnaligned(fromByteOffset: up, as: UInt64.self) | mask.loadUnaligned(fromByteOffset: up &+ 1, as: UInt64.self)
            let value = (one - v) * ((one - u) * b00 + u * b01) + v * ((one - u) * b10 + u * b11)
            var take = old .!= old
            if flags != 0 {
                var clear = SIMD8<UInt32>()
                for k in 0..<8 { clear[k] = (flags >> (8 * UInt64(k))) & 0xFF == 0 ? 1 : 0 }
                take = take .& (clear .!= SIMD8<UInt32>.zero)
            }
            UnsafeMutableRawPointer(oRow + x).storeBytes(of: old.replacing(with: value, where: take), as: SIMD8<Float>.self)
            return true
        }
        let own = SIMD8<UInt32>(truncatingIfNeeded: UnsafeRawPointer(aRow + x).loadUnaligned(as: SIMD8<UInt8>.self))
        // Each lane's two pixel pairs (adjacent in memory) and their mask bytes, unrolled: a
        // lane written by a variable index goes through the stack.
        @inline(__always) func pairs(_ k: Int) -> (lower: SIMD2<Float>, upper: SIMD2<Float>, bad: UInt32) {
            let i = Int(fy[k]) &* w &+ Int(fx[k])
            return (raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD2<Float>.self),
                    raw.loadUnaligned(fromByteOffset: (i &+ w) &* 4, as: SIMD2<Float>.self),
                    UInt32(mask.loadUnaligned(fromByteOffset: i, as: UInt16.self) | mask.loadUnaligned(fromByteOffset: i &+ w, as: UInt16.self)))
        }
        let p0 = pairs(0), p1 = pairs(1), p2 = pairs(2), p3 = pairs(3), p4 = pairs(4), p5 = pairs(5), p6 = pairs(6), p7 = pairs(7)
        let b00 = SIMD8<Float>(p0.lower[0], p1.lower[0], p2.lower[0], p3.lower[0], p4.lower[0], p5.lower[0], p6.lower[0], p7.lower[0])
        let b01 = SIMD8<Float>(p0.lower[1], p1.lower[1], p2.lower[1], p3.lower[1], p4.lower[1], p5.lower[1], p6.lower[1], p7.lower[1])
        let b10 = SIMD8<Float>(p0.upper[0], p1.upper[0], p2.upper[0], p3.upper[0], p4.upper[0], p5.upper[0], p6.upper[0], p7.upper[0])
        let b11 = SIMD8<Float>(p0.upper[1], p1.upper[1], p2.upper[1], p3.upper[1], p4.upper[1], p5.upper[1], p6.upper[1], p7.upper[1])
        let bad = SIMD8<UInt32>(p0.bad, p1.bad, p2.bad, p3.bad, p4.bad, p5.bad, p6.bad, p7.bad)
        let value = (one - v) * ((one - u) * b00 + u * b01) + v * ((one - u) * b10 + u * b11)
        // (Vector against vector: against a scalar the comparison is made lane by lane in memory.)
        let take = ((own | bad) .== SIMD8<UInt32>.zero) .& (old .!= old)
        UnsafeMutableRawPointer(oRow + x).storeBytes(of: old.replacing(with: value, where: take), as: SIMD8<Float>.self)
        return true
    }

    /// The pixel box of `a` that holds `region`, with two pixels of margin; nil when it misses
    /// the chip. The whole chip when a vertex cannot be mapped.
    static func bounds(of region: SphericalPolygon, in a: SkyChip) -> (x: ClosedRange<Int>, y: ClosedRange<Int>)? {
        let v = region.radec
        let p = a.wcs.worldToPixel(ra: v.map(\.ra), dec: v.map(\.dec))
        let full = (x: 0...(a.width - 1), y: 0...(a.height - 1))
        guard !p.x.contains(where: { !$0.isFinite }), !p.y.contains(where: { !$0.isFinite }) else { return full }
        let x0 = max(0, Int(p.x.min()!.rounded(.down)) - 2), x1 = min(a.width - 1, Int(p.x.max()!.rounded(.up)) + 2)
        let y0 = max(0, Int(p.y.min()!.rounded(.down)) - 2), y1 = min(a.height - 1, Int(p.y.max()!.rounded(.up)) + 2)
        guard x0 <= x1, y0 <= y1 else { return nil }
        return (x0...x1, y0...y1)
    }

    /// The grid over `box` of `a` with the step chosen as the type's comment says: its step,
    /// columns, rows and the nodes' positions on `b` (row by row).
    static func grid(_ box: (x: ClosedRange<Int>, y: ClosedRange<Int>), of a: SkyChip, from b: SkyChip)
        -> (step: Int, xs: [Int], ys: [Int], mapped: (x: [Double], y: [Double])) {
        func map(_ px: [Double], _ py: [Double]) -> (x: [Double], y: [Double]) {
            let sky = a.wcs.pixelToWorld(x: px, y: py)
            return b.wcs.worldToPixel(ra: sky.ra, dec: sky.dec)
        }
        for step in [64, 32, 16, finestStep] {
            let xs = samples(box.x, step), ys = samples(box.y, step)
            let mapped = map(ys.flatMap { _ in xs.map(Double.init) }, ys.flatMap { y in xs.map { _ in Double(y) } })
            guard step > finestStep else { return (step, xs, ys, mapped) }
            // Each cell's centre and the midpoints of its top and left edges, exact against
            // interpolated (a NaN anywhere fails the step).
            var px: [Double] = [], py: [Double] = [], guess: [(Double, Double)] = []
            let nx = xs.count
            func node(_ i: Int, _ j: Int) -> (Double, Double) { (mapped.x[j * nx + i], mapped.y[j * nx + i]) }
            for j in 0..<max(ys.count - 1, 1) {
                for i in 0..<max(nx - 1, 1) {
                    let i1 = min(i + 1, nx - 1), j1 = min(j + 1, ys.count - 1)
                    let (a00, a01, a10, a11) = (node(i, j), node(i1, j), node(i, j1), node(i1, j1))
                    for (fx, fy) in [(0.5, 0.5), (0.5, 0.0), (0.0, 0.5)] {
                        px.append(Double(xs[i]) + fx * Double(xs[i1] - xs[i]))
                        py.append(Double(ys[j]) + fy * Double(ys[j1] - ys[j]))
                        guess.append(((1 - fy) * ((1 - fx) * a00.0 + fx * a01.0) + fy * ((1 - fx) * a10.0 + fx * a11.0),
                                      (1 - fy) * ((1 - fx) * a00.1 + fx * a01.1) + fy * ((1 - fx) * a10.1 + fx * a11.1)))
                    }
                }
            }
            let exact = map(px, py)
            var worst = 0.0
            for k in guess.indices {
                let e = max(abs(exact.x[k] - guess[k].0), abs(exact.y[k] - guess[k].1))
                worst = e.isNaN ? .infinity : max(worst, e)
            }
            if worst <= tolerance { return (step, xs, ys, mapped) }
        }
        preconditionFailure("the finest step is always accepted")
    }

    /// Grid positions over a range: every `step` pixels, the last pixel included.
    static func samples(_ r: ClosedRange<Int>, _ step: Int) -> [Int] {
        var s = Array(stride(from: r.lowerBound, through: r.upperBound, by: step))
        if s.last != r.upperBound { s.append(r.upperBound) }
        return s
    }

    /// The grid interval holding `v` and the fraction of the way across it.
    @inline(__always)
    static func cell(_ v: Int, _ grid: [Int], _ step: Int) -> (Int, Int, Double) {
        guard grid.count > 1 else { return (0, 0, 0) }
        let i = min((v - grid[0]) / step, grid.count - 2)
        let a = grid[i], b = grid[i + 1]
        return (i, i + 1, Double(v - a) / Double(b - a))
    }
}
