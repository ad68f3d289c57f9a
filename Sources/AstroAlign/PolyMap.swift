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
        guard use.filter({ $0 }).count >= n + 1 else { return nil }
        let e = equations(order, p, use: use, centre: centre, scale: scale)
        guard let ax = TransformFit.solve(e.normal, e.rx, n), let ay = TransformFit.solve(e.normal, e.ry, n) else { return nil }
        return PolyMap(order: order, cx: centre.0, cy: centre.1, scale: scale, ax: ax, ay: ay)
    }

    /// The weighted normal equations of the pairs `use` marks (both axes share the matrix), and
    /// the basis at every pair's source position.
    static func equations(_ order: Int, _ p: PointPairs, use: [Bool], centre: (Double, Double), scale: Double)
        -> (normal: [Double], rx: [Double], ry: [Double], basis: [[Double]]) {
        let n = (order + 1) * (order + 2) / 2
        let basis = p.sx.indices.map { PolyMap.basis(order, (p.sx[$0] - centre.0) / scale, (p.sy[$0] - centre.1) / scale) }
        var normal = [Double](repeating: 0, count: n * n)
        var rx = [Double](repeating: 0, count: n), ry = rx
        for i in p.sx.indices where use[i] {
            let b = basis[i], w = 1 / (p.sigma[i] * p.sigma[i])
            for r in 0..<n {
                let wb = w * b[r]
                rx[r] += wb * p.tx[i]; ry[r] += wb * p.ty[i]
                for c in r..<n { normal[r * n + c] += wb * b[c] }
            }
        }
        for r in 0..<n { for c in 0..<r { normal[r * n + c] = normal[c * n + r] } }
        return (normal, rx, ry, basis)
    }

    /// The fit with clipping (`RobustFit.clipped`), starting from the pairs `start` marks, on
    /// studentized residuals (`studentized`).
    static func robust(_ order: Int, _ p: PointPairs, start: [Bool], clip: Double, centre: (Double, Double), scale: Double)
        -> (map: PolyMap, used: [Bool], scale: Double)? {
        RobustFit.clipped(start: start, sigma: p.sigma, clip: clip, minKept: (order + 1) * (order + 2) / 2 + 2,
                          fit: { fit(order, p, use: $0, centre: centre, scale: scale) },
                          residuals: { studentized($0, p, use: $1) }).map { ($0.model, $0.used, $0.scale) }
    }

    /// |template − map(source)| per pair, each kept pair's divided by √(1 − h), h its leverage
    /// (wᵢ bᵢᵀ N⁻¹ bᵢ, N the normal matrix of the pairs `use` marks): a heavily weighted star the
    /// polynomial bends to reach (a bright star cut by the frame's edge or a blend, near a
    /// corner where few stars hold a high order) shows the residual it would have left out.
    static func studentized(_ m: PolyMap, _ p: PointPairs, use: [Bool]) -> [Double] {
        let n = (m.order + 1) * (m.order + 2) / 2
        let e = equations(m.order, p, use: use, centre: (m.cx, m.cy), scale: m.scale)
        var inverse = [Double](repeating: 0, count: n * n)
        for c in 0..<n {
            var unit = [Double](repeating: 0, count: n)
            unit[c] = 1
            guard let column = TransformFit.solve(e.normal, unit, n) else { return p.residuals(m) }
            for r in 0..<n { inverse[r * n + c] = column[r] }
        }
        return zip(p.residuals(m), e.basis).enumerated().map { i, rb in
            guard use[i] else { return rb.0 }
            var h = 0.0
            for r in 0..<n {
                var s = 0.0
                for c in 0..<n { s += inverse[r * n + c] * rb.1[c] }
                h += rb.1[r] * s
            }
            return rb.0 / max(1 - h / (p.sigma[i] * p.sigma[i]), 1e-6).squareRoot()
        }
    }
}
