import Foundation

/// A map of pixel positions: what the warp follows (template pixel → source pixel) and what
/// the fit reports. `jacobian` is |∂(x', y')/∂(x, y)|'s signed determinant at a point.
public protocol PixelMap: Sendable {
    func apply(_ x: Double, _ y: Double) -> (x: Double, y: Double)
    func jacobian(_ x: Double, _ y: Double) -> Double
    /// The map at (0, y), (1, y) … (count − 1, y), into `xs` and `ys` (what a warp needs per row).
    func applyRow(_ y: Double, count: Int, xs: UnsafeMutablePointer<Double>, ys: UnsafeMutablePointer<Double>)
}

extension PixelMap {
    public func applyRow(_ y: Double, count: Int, xs: UnsafeMutablePointer<Double>, ys: UnsafeMutablePointer<Double>) {
        for i in 0..<count {
            let p = apply(Double(i), y)
            xs[i] = p.x; ys[i] = p.y
        }
    }
}

extension AffineMap: PixelMap {
    public func jacobian(_ x: Double, _ y: Double) -> Double { determinant }
}

/// A polynomial distortion model: x' = Σ aᵢⱼ uⁱ vʲ, y' = Σ bᵢⱼ uⁱ vʲ over i + j ≤ `order`, in
/// normalised coordinates u = (x − cx)/scale, v = (y − cy)/scale (SIP-like; the normalisation
/// keeps the normal equations well conditioned). Order 1 is the affine map.
public struct PolyMap: PixelMap, Codable, Equatable {
    public var order: Int
    public var cx: Double, cy: Double, scale: Double
    /// Coefficients in the order of `terms(order)`.
    public var ax: [Double], ay: [Double]

    /// The exponents (i, j) of each term, by total degree then by falling power of u.
    static func terms(_ order: Int) -> [(i: Int, j: Int)] {
        var out: [(Int, Int)] = []
        for d in 0...order {
            for j in 0...d { out.append((d - j, j)) }
        }
        return out
    }

    /// Parameters of both axes: (order + 1)(order + 2).
    static func parameters(_ order: Int) -> Int { (order + 1) * (order + 2) }

    /// The term values at (u, v).
    @inline(__always)
    static func basis(_ order: Int, _ u: Double, _ v: Double) -> [Double] {
        var pu = [Double](repeating: 1, count: order + 1), pv = pu
        for k in stride(from: 1, through: order, by: 1) { pu[k] = pu[k - 1] * u; pv[k] = pv[k - 1] * v }
        var out: [Double] = []
        out.reserveCapacity((order + 1) * (order + 2) / 2)
        for d in 0...order {
            for j in 0...d { out.append(pu[d - j] * pv[j]) }
        }
        return out
    }

    public func apply(_ x: Double, _ y: Double) -> (x: Double, y: Double) {
        let b = PolyMap.basis(order, (x - cx) / scale, (y - cy) / scale)
        var px = 0.0, py = 0.0
        for k in b.indices { px += ax[k] * b[k]; py += ay[k] * b[k] }
        return (px, py)
    }

    /// Along a row v is fixed: each axis is a polynomial in u alone (its coefficients summed
    /// over the powers of v once), evaluated by Horner's rule without allocating.
    public func applyRow(_ y: Double, count: Int, xs: UnsafeMutablePointer<Double>, ys: UnsafeMutablePointer<Double>) {
        let v = (y - cy) / scale
        var px = [Double](repeating: 0, count: order + 1), py = px
        var pv = [Double](repeating: 1, count: order + 1)
        for k in stride(from: 1, through: order, by: 1) { pv[k] = pv[k - 1] * v }
        for (k, t) in PolyMap.terms(order).enumerated() {
            px[t.i] += ax[k] * pv[t.j]; py[t.i] += ay[k] * pv[t.j]
        }
        px.withUnsafeBufferPointer { cxs in
            py.withUnsafeBufferPointer { cys in
                for i in 0..<count {
                    let u = (Double(i) - cx) / scale
                    var qx = cxs[order], qy = cys[order]
                    for p in stride(from: order - 1, through: 0, by: -1) { qx = qx * u + cxs[p]; qy = qy * u + cys[p] }
                    xs[i] = qx; ys[i] = qy
                }
            }
        }
    }

    public func jacobian(_ x: Double, _ y: Double) -> Double {
        let u = (x - cx) / scale, v = (y - cy) / scale
        var dxu = 0.0, dxv = 0.0, dyu = 0.0, dyv = 0.0
        for (k, t) in PolyMap.terms(order).enumerated() {
            if t.i > 0 {
                let du = Double(t.i) * pow(u, Double(t.i - 1)) * pow(v, Double(t.j))
                dxu += ax[k] * du; dyu += ay[k] * du
            }
            if t.j > 0 {
                let dv = Double(t.j) * pow(u, Double(t.i)) * pow(v, Double(t.j - 1))
                dxv += ax[k] * dv; dyv += ay[k] * dv
            }
        }
        return (dxu * dyv - dxv * dyu) / (scale * scale)
    }

    /// Largest distance between this map and `affine` over a 17×17 grid of the box.
    func maxDeviation(from affine: AffineMap, width: Int, height: Int) -> Double {
        var worst = 0.0
        for j in 0...16 {
            for i in 0...16 {
                let x = Double(i) * Double(width - 1) / 16, y = Double(j) * Double(height - 1) / 16
                let p = apply(x, y), q = affine.apply(x, y)
                worst = max(worst, ((p.x - q.x) * (p.x - q.x) + (p.y - q.y) * (p.y - q.y)).squareRoot())
            }
        }
        return worst
    }
}

/// Weighted, clipped least squares of `PolyMap`s on matched pairs (docs/align.md "fit").
enum PolyFit {
    /// One weighted fit (weights 1/σ²) over the pairs where `use` is true, mapping (sx, sy) →
    /// (tx, ty); nil when there are too few pairs or the system is singular.
    static func fit(_ order: Int, _ p: PointPairs, use: [Bool], centre: (Double, Double), scale: Double) -> PolyMap? {
        let n = (order + 1) * (order + 2) / 2
        let idx = p.sx.indices.filter { use[$0] }
        guard idx.count >= n + 1 else { return nil }
        var normal = [Double](repeating: 0, count: n * n)
        var rx = [Double](repeating: 0, count: n), ry = rx
        for i in idx {
            let b = PolyMap.basis(order, (p.sx[i] - centre.0) / scale, (p.sy[i] - centre.1) / scale)
            let w = 1 / (p.sigma[i] * p.sigma[i])
            for r in 0..<n {
                let wb = w * b[r]
                rx[r] += wb * p.tx[i]; ry[r] += wb * p.ty[i]
                for c in r..<n { normal[r * n + c] += wb * b[c] }
            }
        }
        for r in 0..<n { for c in 0..<r { normal[r * n + c] = normal[c * n + r] } }
        guard let ax = TransformFit.solve(normal, rx, n), let ay = TransformFit.solve(normal, ry, n) else { return nil }
        return PolyMap(order: order, cx: centre.0, cy: centre.1, scale: scale, ax: ax, ay: ay)
    }

    /// |template − map(source)| per pair.
    static func residuals(_ m: PolyMap, _ p: PointPairs) -> [Double] {
        p.sx.indices.map { i in
            let q = m.apply(p.sx[i], p.sy[i])
            return ((q.x - p.tx[i]) * (q.x - p.tx[i]) + (q.y - p.ty[i]) * (q.y - p.ty[i])).squareRoot()
        }
    }

    /// The fit with clipping (`RobustFit.clipped`), starting from the pairs `start` marks.
    static func robust(_ order: Int, _ p: PointPairs, start: [Bool], clip: Double, centre: (Double, Double), scale: Double)
        -> (map: PolyMap, used: [Bool], scale: Double)? {
        RobustFit.clipped(start: start, sigma: p.sigma, clip: clip, minKept: (order + 1) * (order + 2) / 2 + 2,
                          fit: { fit(order, p, use: $0, centre: centre, scale: scale) },
                          residuals: { m, _ in residuals(m, p) }).map { ($0.model, $0.used, $0.scale) }
    }

    /// The pairs with source and template swapped (to fit the pull map directly).
    static func swapped(_ p: PointPairs) -> PointPairs {
        var q = PointPairs()
        for i in 0..<p.count { q.append(sx: p.tx[i], sy: p.ty[i], tx: p.sx[i], ty: p.sy[i], sigma: p.sigma[i]) }
        return q
    }
}
