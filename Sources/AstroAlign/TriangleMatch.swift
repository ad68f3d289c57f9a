/// Blind initial matching with astroalign's triangle invariants: every star and its four
/// nearest neighbours give ten triangles; the side ratios (L3/L2, L2/L1) do not change under
/// shift, rotation, scale or mirroring, so similar triangles in both lists propose a
/// transform. Works with a handful of stars, where quads need ~10.
enum TriangleMatch {
    /// A triangle's vertices ordered by the side they face (shortest, middle, longest), so two
    /// similar triangles pair their vertices in this order, mirrored or not.
    struct Triangle {
        var vertices: (Int, Int, Int)
        var invariant: (Double, Double)
    }

    /// A proposed source→template transform and how well its three vertex pairs fit it.
    struct Hypothesis {
        var transform: AffineMap
        var parity: Int
        var invariantDistance: Double
    }

    /// The distinct triangles of each point with its four nearest neighbours. Triangles with a
    /// side under `minSide` pixels are skipped: centroid noise makes their shape meaningless.
    static func triangles(_ xs: [Double], _ ys: [Double], minSide: Double = 3) -> [Triangle] {
        let n = xs.count
        guard n >= 3 else { return [] }
        var seen = Set<Int>()
        var out: [Triangle] = []
        for i in 0..<n {
            let near = (0..<n).filter { $0 != i }
                .sorted { d2(xs, ys, i, $0) < d2(xs, ys, i, $1) }.prefix(4)
            let group = [i] + near
            for p in 0..<group.count {
                for q in (p + 1)..<group.count {
                    for r in (q + 1)..<group.count {
                        let v = [group[p], group[q], group[r]].sorted()
                        guard seen.insert((v[0] * n + v[1]) * n + v[2]).inserted else { continue }
                        if let t = triangle(v[0], v[1], v[2], xs, ys, minSide: minSide) { out.append(t) }
                    }
                }
            }
        }
        return out
    }

    private static func d2(_ xs: [Double], _ ys: [Double], _ i: Int, _ j: Int) -> Double {
        (xs[i] - xs[j]) * (xs[i] - xs[j]) + (ys[i] - ys[j]) * (ys[i] - ys[j])
    }

    private static func triangle(_ i: Int, _ j: Int, _ k: Int, _ xs: [Double], _ ys: [Double], minSide: Double) -> Triangle? {
        // (length of the side, the vertex facing it)
        let sides = [(d2(xs, ys, j, k).squareRoot(), i), (d2(xs, ys, i, k).squareRoot(), j), (d2(xs, ys, i, j).squareRoot(), k)]
            .sorted { $0.0 < $1.0 }
        guard sides[0].0 >= minSide else { return nil }
        return Triangle(vertices: (sides[0].1, sides[1].1, sides[2].1),
                        invariant: (sides[2].0 / sides[1].0, sides[1].0 / sides[0].0))
    }

    /// Transforms proposed by pairs of similar triangles, best invariant agreement first.
    /// Each pair is fitted with a similarity of every parity `parities` allows; a fit is kept
    /// when all three vertices land within `tolerance` pixels (plus 2 % of the triangle's size).
    static func hypotheses(source: (xs: [Double], ys: [Double]), template: (xs: [Double], ys: [Double]),
                           parities: [Int], radius: Double = 0.1, tolerance: Double = 2, limit: Int = 5000) -> [Hypothesis] {
        let st = triangles(source.xs, source.ys), tt = triangles(template.xs, template.ys)
        guard !st.isEmpty, !tt.isEmpty else { return [] }
        // Template invariants binned on a grid of `radius` cells.
        var bins: [Int64: [Int]] = [:]
        func key(_ a: Int, _ b: Int) -> Int64 { Int64(a) << 32 | Int64(UInt32(bitPattern: Int32(b))) }
        for (k, t) in tt.enumerated() {
            bins[key(Int(t.invariant.0 / radius), Int(t.invariant.1 / radius)), default: []].append(k)
        }
        var pairs: [(s: Int, t: Int, d: Double)] = []
        for (si, s) in st.enumerated() {
            let cx = Int(s.invariant.0 / radius), cy = Int(s.invariant.1 / radius)
            for gx in (cx - 1)...(cx + 1) {
                for gy in (cy - 1)...(cy + 1) {
                    for ti in bins[key(gx, gy)] ?? [] {
                        let t = tt[ti]
                        let dx = s.invariant.0 - t.invariant.0, dy = s.invariant.1 - t.invariant.1
                        let d = (dx * dx + dy * dy).squareRoot()
                        if d < radius { pairs.append((si, ti, d)) }
                    }
                }
            }
        }
        pairs.sort { $0.d != $1.d ? $0.d < $1.d : ($0.s, $0.t) < ($1.s, $1.t) }
        var out: [Hypothesis] = []
        for pair in pairs.prefix(limit) {
            let s = st[pair.s].vertices, t = tt[pair.t].vertices
            var p = PointPairs()
            for (a, b) in [(s.0, t.0), (s.1, t.1), (s.2, t.2)] {
                p.append(sx: source.xs[a], sy: source.ys[a], tx: template.xs[b], ty: template.ys[b], sigma: 1)
            }
            let size = d2(template.xs, template.ys, t.0, t.1).squareRoot()
            for parity in parities {
                guard let fit = TransformFit.fit(.similarity, parity: parity, p, use: [true, true, true]),
                      p.residuals(fit).allSatisfy({ $0 < tolerance + 0.02 * size }) else { continue }
                out.append(Hypothesis(transform: fit, parity: parity, invariantDistance: pair.d))
            }
        }
        return out
    }
}
