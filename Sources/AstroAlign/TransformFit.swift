import Foundation

/// The linear transform families, nested: each adds parameters to the one before.
public enum TransformModel: String, Sendable, CaseIterable, Codable {
    case shift, similarity, affine

    public var parameters: Int {
        switch self {
        case .shift: 2
        case .similarity: 4
        case .affine: 6
        }
    }

    /// Matches needed before the model is trusted: two per parameter and two to spare, so
    /// a field of ten stars still gets a similarity.
    var minimumMatches: Int { 2 * parameters + 2 }
}

/// Matched positions: source (x, y) → template (x, y), with each pair's 1σ positional error.
struct PointPairs {
    var sx: [Double] = [], sy: [Double] = []
    var tx: [Double] = [], ty: [Double] = []
    var sigma: [Double] = []

    var count: Int { sx.count }

    mutating func append(sx: Double, sy: Double, tx: Double, ty: Double, sigma: Double) {
        self.sx.append(sx); self.sy.append(sy)
        self.tx.append(tx); self.ty.append(ty)
        self.sigma.append(sigma)
    }

    /// A matched source and template star, weighted by both centroids' errors (and 0.01 px
    /// for what the centroids cannot know); a saturated or edge-truncated star, whose centroid
    /// is biased while its error says otherwise, at least `Registrar.biasedError`.
    mutating func append(_ s: Detection, _ t: Detection) {
        var sigma = (s.positionError * s.positionError + t.positionError * t.positionError + 1e-4).squareRoot()
        if (s.flags | t.flags) & (DetectionFlag.saturated | DetectionFlag.truncated) != 0 { sigma = max(sigma, Registrar.biasedError) }
        append(sx: s.x, sy: s.y, tx: t.x, ty: t.y, sigma: sigma)
    }

    /// |template − map(source)| per pair.
    func residuals(_ map: some PixelMap) -> [Double] {
        sx.indices.map { i in
            let p = map.apply(sx[i], sy[i])
            return ((p.x - tx[i]) * (p.x - tx[i]) + (p.y - ty[i]) * (p.y - ty[i])).squareRoot()
        }
    }

    /// The pairs with source and template swapped (to fit the pull map directly).
    var swapped: PointPairs {
        PointPairs(sx: tx, sy: ty, tx: sx, ty: sy, sigma: sigma)
    }
}

/// Weighted least squares of the linear models with robust clipping (docs/align.md "fit").
enum TransformFit {
    /// One weighted fit (weights 1/σ²) of `model` over the pairs where `use` is true. `parity`
    /// −1 fits a mirrored similarity; it is ignored by the shift (never mirrored) and the affine
    /// (either). Coordinates are centred first so the normal equations stay well conditioned.
    static func fit(_ model: TransformModel, parity: Int, _ p: PointPairs, use: [Bool]) -> AffineMap? {
        let idx = p.sx.indices.filter { use[$0] }
        guard idx.count * 2 >= model.parameters else { return nil }
        let mx = idx.map { p.sx[$0] }.reduce(0, +) / Double(idx.count)
        let my = idx.map { p.sy[$0] }.reduce(0, +) / Double(idx.count)
        let n = model.parameters
        var normal = [Double](repeating: 0, count: n * n), rhs = [Double](repeating: 0, count: n)
        func add(_ row: [Double], _ value: Double, _ w: Double) {
            for r in 0..<n {
                guard row[r] != 0 else { continue }
                rhs[r] += w * row[r] * value
                for c in 0..<n { normal[r * n + c] += w * row[r] * row[c] }
            }
        }
        let mirrored = parity < 0
        for i in idx {
            let x = p.sx[i] - mx, y = p.sy[i] - my, w = 1 / (p.sigma[i] * p.sigma[i])
            switch model {
            case .shift:
                add([1, 0], p.tx[i] - x, w); add([0, 1], p.ty[i] - y, w)
            case .similarity:
                if mirrored {
                    add([x, y, 1, 0], p.tx[i], w); add([-y, x, 0, 1], p.ty[i], w)
                } else {
                    add([x, -y, 1, 0], p.tx[i], w); add([y, x, 0, 1], p.ty[i], w)
                }
            case .affine:
                add([x, y, 1, 0, 0, 0], p.tx[i], w); add([0, 0, 0, x, y, 1], p.ty[i], w)
            }
        }
        guard let q = solve(normal, rhs, n) else { return nil }
        let centred: AffineMap = switch model {
        case .shift: AffineMap(a: 1, b: 0, c: q[0], d: 0, e: 1, f: q[1])
        case .similarity where mirrored: AffineMap(a: q[0], b: q[1], c: q[2], d: q[1], e: -q[0], f: q[3])
        case .similarity: AffineMap(a: q[0], b: -q[1], c: q[2], d: q[1], e: q[0], f: q[3])
        case .affine: AffineMap(a: q[0], b: q[1], c: q[2], d: q[3], e: q[4], f: q[5])
        }
        return centred.composed(after: AffineMap(a: 1, b: 0, c: -mx, d: 0, e: 1, f: -my))
    }

    /// A fit that drops outliers (`RobustFit.clipped`): the transform, which pairs were kept,
    /// and the final scale (≈ 1 when the position errors are right).
    static func robust(_ model: TransformModel, parity: Int, _ p: PointPairs, clip: Double = 3.5)
        -> (transform: AffineMap, used: [Bool], scale: Double)? {
        RobustFit.clipped(start: [Bool](repeating: true, count: p.count), sigma: p.sigma, clip: clip,
                          minKept: max(model.parameters, 3), fit: { fit(model, parity: parity, p, use: $0) },
                          residuals: { t, _ in p.residuals(t) }).map { ($0.model, $0.used, $0.scale) }
    }

    /// Picks the model with the lowest BIC, χ²/scale² + k·ln n, over the pairs the richest
    /// candidate kept, among the candidates with enough pairs (`minimumMatches`).
    static func choose(_ candidates: [TransformModel], parity: Int, _ p: PointPairs, clip: Double = 3.5)
        -> (model: TransformModel, transform: AffineMap, used: [Bool], scale: Double)? {
        let allowed = candidates.filter { p.count >= $0.minimumMatches && !($0 == .shift && parity < 0) }
        guard let richest = allowed.max(by: { $0.parameters < $1.parameters }),
              let base = robust(richest, parity: parity, p, clip: clip) else { return nil }
        var best = (model: richest, transform: base.transform, used: base.used, scale: base.scale)
        var bestBIC = Double.infinity
        for m in allowed.sorted(by: { $0.parameters < $1.parameters }) {
            guard let t = m == richest ? base.transform : fit(m, parity: parity, p, use: base.used) else { continue }
            let bic = RobustFit.bic(p.residuals(t), sigma: p.sigma, used: base.used, scale: base.scale, parameters: m.parameters)
            if bic < bestBIC { bestBIC = bic; best = (m, t, base.used, base.scale) }
        }
        return best
    }

    /// Gaussian elimination with partial pivoting on a small dense system; nil if singular.
    static func solve(_ matrix: [Double], _ rhs: [Double], _ n: Int) -> [Double]? {
        var m = matrix, b = rhs
        let scale = m.map(abs).max() ?? 0
        guard scale > 0 else { return nil }
        for col in 0..<n {
            let pivot = (col..<n).max { abs(m[$0 * n + col]) < abs(m[$1 * n + col]) }!
            guard abs(m[pivot * n + col]) > 1e-13 * scale else { return nil }
            if pivot != col {
                for k in 0..<n { m.swapAt(col * n + k, pivot * n + k) }
                b.swapAt(col, pivot)
            }
            for r in (col + 1)..<n {
                let f = m[r * n + col] / m[col * n + col]
                guard f != 0 else { continue }
                for k in col..<n { m[r * n + k] -= f * m[col * n + k] }
                b[r] -= f * b[col]
            }
        }
        var x = [Double](repeating: 0, count: n)
        for r in stride(from: n - 1, through: 0, by: -1) {
            var s = b[r]
            for k in (r + 1)..<n { s -= m[r * n + k] * x[k] }
            x[r] = s / m[r * n + r]
        }
        return x
    }
}
