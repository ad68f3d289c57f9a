import Foundation

/// `--model spline`: a linear fit L (source → template) corrected by two tensor-product
/// B-spline surfaces of its residuals in **template** coordinates, D(t) ≈ t − L(s), as scipy's
/// SmoothBivariateSpline does for spalipy. The push map is therefore implicit, t = L(s) + D(t),
/// and the pull map explicit, s = L⁻¹(t − D(t)): that is what the warp follows (spalipy takes
/// L⁻¹(t) − D(t), wrong by (I − M⁻¹)·D, which is √2·|D| at 90° and 2·|D| at 180°).
///
/// As a `PixelMap` it is the pull map (template pixel → source pixel). Knots and coefficients
/// are laid out as scipy's `tck` (`bisplev(x, y, (knotsX, knotsY, coefficientsX, degree,
/// degree))` gives D_x), but beyond the end knots the end pieces are continued here, where
/// FITPACK would freeze the value at the box edge.
public struct SplineMap: PixelMap, Codable, Equatable {
    /// Degree of the B-splines along each axis (scipy's kx = ky, spalipy's spline_order).
    public var degree: Int
    /// Full knot vectors along template x and y, the ends repeated degree + 1 times.
    public var knotsX: [Double]
    public var knotsY: [Double]
    /// Coefficients of D_x and D_y, x-major: index i·ny + j multiplies Bᵢ(x)·Bⱼ(y), with
    /// ny = knotsY.count − degree − 1.
    public var coefficientsX: [Double]
    public var coefficientsY: [Double]
    /// The linear fit (source → template) the surfaces correct.
    public var linear: AffineMap

    var countX: Int { knotsX.count - degree - 1 }
    var countY: Int { knotsY.count - degree - 1 }

    /// The clamped knot vector of `interior` equally spaced interior knots over [a, b].
    static func knots(from a: Double, to b: Double, interior: Int, degree k: Int) -> [Double] {
        let inner = (0..<interior).map { a + (b - a) * Double($0 + 1) / Double(interior + 1) }
        return [Double](repeating: a, count: k + 1) + inner + [Double](repeating: b, count: k + 1)
    }

    /// The knot span holding x (the first or last one beyond the ends: their polynomial pieces
    /// are continued), the degree + 1 B-splines non-zero there (functions span − k … span) and
    /// their derivatives; Cox–de Boor (Piegl & Tiller, algorithms A2.2 and the derivative rule).
    @inline(__always)
    static func basis(_ t: [Double], degree k: Int, at x: Double) -> (span: Int, value: SIMD8<Double>, slope: SIMD8<Double>) {
        let count = t.count - k - 1
        var i = k
        while i < count - 1 && x >= t[i + 1] { i += 1 }
        var n = SIMD8<Double>(), lower = SIMD8<Double>(), left = SIMD8<Double>(), right = SIMD8<Double>()
        n[0] = 1
        lower[0] = 1
        for j in stride(from: 1, through: k, by: 1) {
            left[j] = x - t[i + 1 - j]
            right[j] = t[i + j] - x
            var saved = 0.0
            for r in 0..<j {
                let temp = n[r] / (right[r + 1] + left[j - r])
                n[r] = saved + right[r + 1] * temp
                saved = left[j - r] * temp
            }
            n[j] = saved
            if j == k - 1 { lower = n }
        }
        // B'ⱼ,ₖ = k·(Bⱼ,ₖ₋₁/(t[j+k] − t[j]) − Bⱼ₊₁,ₖ₋₁/(t[j+k+1] − t[j+1])).
        var d = SIMD8<Double>()
        for r in 0...k where k > 0 {
            let j = i - k + r
            var s = 0.0
            if r >= 1, t[j + k] > t[j] { s += lower[r - 1] / (t[j + k] - t[j]) }
            if r < k, t[j + k + 1] > t[j + 1] { s -= lower[r] / (t[j + k + 1] - t[j + 1]) }
            d[r] = Double(k) * s
        }
        return (i, n, d)
    }

    /// D(t) and its partial derivatives at template (x, y).
    func correction(_ x: Double, _ y: Double) -> (x: Double, y: Double, xx: Double, xy: Double, yx: Double, yy: Double) {
        let k = degree, ny = countY
        let bx = SplineMap.basis(knotsX, degree: k, at: x), by = SplineMap.basis(knotsY, degree: k, at: y)
        var dx = 0.0, dy = 0.0, dxx = 0.0, dxy = 0.0, dyx = 0.0, dyy = 0.0
        for r in 0...k {
            let row = (bx.span - k + r) * ny + by.span - k
            for q in 0...k {
                let cx = coefficientsX[row + q], cy = coefficientsY[row + q]
                let v = bx.value[r] * by.value[q], sx = bx.slope[r] * by.value[q], sy = bx.value[r] * by.slope[q]
                dx += cx * v; dy += cy * v
                dxx += cx * sx; dxy += cx * sy
                dyx += cy * sx; dyy += cy * sy
            }
        }
        return (dx, dy, dxx, dxy, dyx, dyy)
    }

    /// The pull map: s = L⁻¹(t − D(t)).
    public func apply(_ x: Double, _ y: Double) -> (x: Double, y: Double) {
        let d = correction(x, y)
        return (linear.inverse ?? .identity).apply(x - d.x, y - d.y)
    }

    /// det ∂s/∂t = det(L⁻¹)·det(I − ∂D/∂t).
    public func jacobian(_ x: Double, _ y: Double) -> Double {
        let d = correction(x, y)
        return ((1 - d.xx) * (1 - d.yy) - d.xy * d.yx) / linear.determinant
    }

    /// Along a row y is fixed: each surface collapses to a spline in x (its coefficients summed
    /// over the y basis once).
    public func applyRow(_ y: Double, count: Int, xs: UnsafeMutablePointer<Double>, ys: UnsafeMutablePointer<Double>) {
        let k = degree, nx = countX, ny = countY
        let by = SplineMap.basis(knotsY, degree: k, at: y)
        var ex = [Double](repeating: 0, count: nx), ey = ex
        for i in 0..<nx {
            for q in 0...k {
                ex[i] += coefficientsX[i * ny + by.span - k + q] * by.value[q]
                ey[i] += coefficientsY[i * ny + by.span - k + q] * by.value[q]
            }
        }
        let inv = linear.inverse ?? .identity
        for c in 0..<count {
            let x = Double(c)
            let bx = SplineMap.basis(knotsX, degree: k, at: x)
            var dx = 0.0, dy = 0.0
            for r in 0...k {
                dx += ex[bx.span - k + r] * bx.value[r]
                dy += ey[bx.span - k + r] * bx.value[r]
            }
            let s = inv.apply(x - dx, y - dy)
            xs[c] = s.x; ys[c] = s.y
        }
    }

    /// The push map: the template position t with t = L(s) + D(t), by fixed-point iteration
    /// from L(s) (D's slopes are far below 1).
    public func push(_ x: Double, _ y: Double) -> (x: Double, y: Double) {
        let base = linear.apply(x, y)
        var t = base
        for _ in 0..<50 {
            let d = correction(t.x, t.y)
            let next = (x: base.x + d.x, y: base.y + d.y)
            let settled = abs(next.x - t.x) < 1e-10 && abs(next.y - t.y) < 1e-10
            t = next
            if settled { return t }
        }
        // Far outside the stars' box the continued end pieces can be steep enough that the
        // iteration does not settle: no position there.
        return (.nan, .nan)
    }

    /// The push map as a `PixelMap` (what the statistics and the re-matching predict with).
    var pushMap: Push { Push(map: self) }

    struct Push: PixelMap {
        let map: SplineMap
        func apply(_ x: Double, _ y: Double) -> (x: Double, y: Double) { map.push(x, y) }
        func jacobian(_ x: Double, _ y: Double) -> Double {
            let t = map.push(x, y)
            return 1 / map.jacobian(t.x, t.y)
        }
    }

    /// Largest |D| over a 17×17 grid of the knots' box: how far the model departs from its
    /// linear part, in template pixels.
    var maxCorrection: Double {
        var worst = 0.0
        let x0 = knotsX.first!, x1 = knotsX.last!, y0 = knotsY.first!, y1 = knotsY.last!
        for j in 0...16 {
            for i in 0...16 {
                let d = correction(x0 + (x1 - x0) * Double(i) / 16, y0 + (y1 - y0) * Double(j) / 16)
                worst = max(worst, (d.x * d.x + d.y * d.y).squareRoot())
            }
        }
        return worst
    }
}

/// Weighted, clipped least squares of the residual surfaces on matched pairs; interior knots
/// only while the residuals exceed the smoothing RMS (docs/align.md "spline").
enum SplineFit {
    /// Interior knots per axis tried at most: the grid stays small.
    static let maxInterior = 4

    /// Coefficients of both surfaces: 2·(degree + 1 + interior)².
    static func parameters(_ degree: Int, _ interior: Int) -> Int { 2 * (degree + 1 + interior) * (degree + 1 + interior) }

    /// Whether the pairs support `interior` equally spaced knots per axis over the box: the
    /// single patch needs 2 pairs per coefficient of an axis, 2·(degree + 1)²; a grid needs
    /// (degree + 1)² pairs in every cell (a corner coefficient rests on its cell's stars alone).
    static func supports(_ degree: Int, _ interior: Int, _ p: PointPairs, box: (x0: Double, x1: Double, y0: Double, y1: Double)) -> Bool {
        let perAxis = parameters(degree, interior) / 2
        guard interior > 0 else { return p.count >= 2 * perAxis }
        let cells = interior + 1
        var counts = [Int](repeating: 0, count: cells * cells)
        func cell(_ v: Double, _ a: Double, _ b: Double) -> Int { min(cells - 1, max(0, Int((v - a) / (b - a) * Double(cells)))) }
        for i in 0..<p.count { counts[cell(p.ty[i], box.y0, box.y1) * cells + cell(p.tx[i], box.x0, box.x1)] += 1 }
        return counts.allSatisfy { $0 >= (degree + 1) * (degree + 1) }
    }

    /// One weighted fit (weights 1/σ²) of D to t − L(s) at t over the pairs `use` marks; nil
    /// when the normal equations are singular.
    static func fit(_ degree: Int, interior: Int, _ p: PointPairs, linear: AffineMap, use: [Bool],
                    box: (x0: Double, x1: Double, y0: Double, y1: Double)) -> SplineMap? {
        let k = degree
        let tx = SplineMap.knots(from: box.x0, to: box.x1, interior: interior, degree: k)
        let ty = SplineMap.knots(from: box.y0, to: box.y1, interior: interior, degree: k)
        let nx = tx.count - k - 1, ny = ty.count - k - 1, n = nx * ny
        var normal = [Double](repeating: 0, count: n * n), rx = [Double](repeating: 0, count: n), ry = rx
        var index = [Int](repeating: 0, count: (k + 1) * (k + 1)), value = [Double](repeating: 0, count: (k + 1) * (k + 1))
        for i in 0..<p.count where use[i] {
            let bx = SplineMap.basis(tx, degree: k, at: p.tx[i]), by = SplineMap.basis(ty, degree: k, at: p.ty[i])
            let l = linear.apply(p.sx[i], p.sy[i])
            let w = 1 / (p.sigma[i] * p.sigma[i]), dx = p.tx[i] - l.x, dy = p.ty[i] - l.y
            for r in 0...k {
                for q in 0...k {
                    index[r * (k + 1) + q] = (bx.span - k + r) * ny + by.span - k + q
                    value[r * (k + 1) + q] = bx.value[r] * by.value[q]
                }
            }
            for a in index.indices {
                let wb = w * value[a]
                rx[index[a]] += wb * dx; ry[index[a]] += wb * dy
                for b in index.indices { normal[index[a] * n + index[b]] += wb * value[b] }
            }
        }
        guard let cx = TransformFit.solve(normal, rx, n), let cy = TransformFit.solve(normal, ry, n) else { return nil }
        return SplineMap(degree: k, knotsX: tx, knotsY: ty, coefficientsX: cx, coefficientsY: cy, linear: linear)
    }

    /// |t − L(s) − D(t)| per pair: the residual the fit minimises.
    static func residuals(_ m: SplineMap, _ p: PointPairs) -> [Double] {
        p.sx.indices.map { i in
            let l = m.linear.apply(p.sx[i], p.sy[i]), d = m.correction(p.tx[i], p.ty[i])
            let ex = p.tx[i] - l.x - d.x, ey = p.ty[i] - l.y - d.y
            return (ex * ex + ey * ey).squareRoot()
        }
    }

    /// FITPACK's stopping rule on a uniform grid: the single patch (no interior knot) fitted
    /// with clipping (`RobustFit.clipped`, from all pairs); while the RMS residual per axis of
    /// all pairs exceeds `smoothing` px (spalipy's s = m with unit weights is 1 px), the next
    /// grid the pairs support (1, 2 … `maxInterior` interior knots per axis) is fitted
    /// instead. nil when not even the single patch is supported.
    static func choose(_ degree: Int, _ p: PointPairs, linear: AffineMap, box: (x0: Double, x1: Double, y0: Double, y1: Double),
                       clip: Double, smoothing: Double) -> (map: SplineMap, interior: Int, used: [Bool], scale: Double)? {
        var chosen: (map: SplineMap, interior: Int, used: [Bool], scale: Double)?
        for g in 0...maxInterior where supports(degree, g, p, box: box) {
            guard let fit = RobustFit.clipped(start: [Bool](repeating: true, count: p.count), sigma: p.sigma, clip: clip,
                                              minKept: parameters(degree, g) / 2 + 2,
                                              fit: { fit(degree, interior: g, p, linear: linear, use: $0, box: box) },
                                              residuals: { m, _ in residuals(m, p) }) else { break }
            chosen = (fit.model, g, fit.used, fit.scale)
            if g == 0 {
                // No distortion worth its parameters (BIC, χ²/scale² + k·ln n, on the kept pairs):
                // the correction is zero and the model its linear part (spalipy's spline degrades
                // such pairs).
                var flat = fit.model
                flat.coefficientsX = flat.coefficientsX.map { _ in 0 }
                flat.coefficientsY = flat.coefficientsY.map { _ in 0 }
                func bic(_ m: SplineMap, _ k: Int) -> Double {
                    RobustFit.bic(residuals(m, p), sigma: p.sigma, used: fit.used, scale: fit.scale, parameters: k)
                }
                if bic(flat, 0) <= bic(fit.model, parameters(degree, 0)) { return (flat, 0, fit.used, fit.scale) }
            }
            // Over all pairs, as FITPACK: the clipping alone would hide a patch that falls short.
            let all = [Bool](repeating: true, count: p.count)
            if Registrar.rmsOf(residuals(fit.model, p), all) / 2.0.squareRoot() <= smoothing { break }
        }
        return chosen
    }
}
