import AstroImage
import Foundation

/// How each group's sky varies over the sky: one level, or a level and two slopes (Montage's
/// mBgModel, docs/skymatch.md "Plane model").
public enum SkyModel: String, Sendable, CaseIterable { case constant, plane }

/// A plane `level + slopeX·(ξ − ξ₀) + slopeY·(η − η₀)` on the mosaic's tangent plane (arcsec).
struct SkyPlane: Sendable {
    var level: Double
    var slopeX: Double, slopeY: Double
    var xi0: Double, eta0: Double

    func value(xi: Double, eta: Double) -> Double { level + slopeX * (xi - xi0) + slopeY * (eta - eta0) }
}

/// The mosaic's common coordinates: the gnomonic plane tangent at the chips' mean centre, in
/// arcsec, and each chip's pixels mapped onto it by an affine fit (a TAN chip of a few thousand
/// pixels departs from affine there by far less than a pixel).
struct MosaicPlane {
    let plane: TangentPlane

    init(_ chips: [SkyChip]) {
        let centres = chips.map { c in
            let p = c.wcs.pixelToWorld(x: [Double(c.width - 1) / 2], y: [Double(c.height - 1) / 2])
            return Vec3(ra: p.ra[0], dec: p.dec[0])
        }
        plane = TangentPlane(at: centres.dropFirst().reduce(centres[0], +))
    }

    /// (ξ, η) in arcsec of a sky position (chips stay within 60° of the tangent point).
    func project(ra: Double, dec: Double) -> (xi: Double, eta: Double) {
        let q = plane.project(Vec3(ra: ra, dec: dec)) * (180 / .pi * 3600)
        return (q.x, q.y)
    }

    /// ξ = x₀ + x₁·x + x₂·y and η = y₀ + y₁·x + y₂·y for the chip's pixels, least squares over a
    /// 5×5 grid of its pixels through its WCS.
    func affine(_ c: SkyChip) -> (xi: [Double], eta: [Double]) {
        var px: [Double] = [], py: [Double] = []
        for j in 0..<5 { for i in 0..<5 { px.append(Double(c.width - 1) * Double(i) / 4); py.append(Double(c.height - 1) * Double(j) / 4) } }
        let w = c.wcs.pixelToWorld(x: px, y: py)
        var a = [Double](repeating: 0, count: 9), bx = [0.0, 0, 0], by = [0.0, 0, 0]
        for k in px.indices {
            let (xi, eta) = project(ra: w.ra[k], dec: w.dec[k])
            guard xi.isFinite, eta.isFinite else { continue }
            let f = [1, px[k], py[k]]
            for r in 0..<3 {
                for s in 0..<3 { a[r * 3 + s] += f[r] * f[s] }
                bx[r] += f[r] * xi; by[r] += f[r] * eta
            }
        }
        return (SkyMatchSolver.solve(a, bx, 3), SkyMatchSolver.solve(a, by, 3))
    }
}

enum PlaneFit {
    /// The plane through differences `d` at (ξ, η), robustly: a first cut at 4.5 normalised
    /// MADs about the median, then least squares with 3σ clipping of the residuals until the
    /// kept set settles (at most 10 rounds). Nil with fewer than 10 samples or a degenerate
    /// (collinear) spread of positions.
    static func fit(_ d: [Float], xi: [Float], eta: [Float]) -> (plane: SkyPlane, npix: Int)? {
        let n = d.count
        guard n >= 10 else { return nil }
        var mx = 0.0, my = 0.0
        for k in 0..<n { mx += Double(xi[k]); my += Double(eta[k]) }
        mx /= Double(n); my /= Double(n)
        let median = Statistics.median(d)
        let mad = Statistics.median(d.map { abs($0 - Float(median)) }) * 1.4826
        var keep = d.map { abs(Double($0) - median) <= 4.5 * max(mad, 1e-30) }
        var plane = SkyPlane(level: median, slopeX: 0, slopeY: 0, xi0: mx, eta0: my)
        var kept = 0
        for _ in 0..<10 {
            var a = [Double](repeating: 0, count: 9), b = [0.0, 0, 0]
            kept = 0
            for k in 0..<n where keep[k] {
                let f = (1.0, Double(xi[k]) - mx, Double(eta[k]) - my), v = Double(d[k])
                a[0] += 1; a[1] += f.1; a[2] += f.2; a[4] += f.1 * f.1; a[5] += f.1 * f.2; a[8] += f.2 * f.2
                b[0] += v; b[1] += f.1 * v; b[2] += f.2 * v
                kept += 1
            }
            a[3] = a[1]; a[6] = a[2]; a[7] = a[5]
            // Positions along one line leave a slope undetermined.
            let det = a[0] * (a[4] * a[8] - a[5] * a[7]) - a[1] * (a[3] * a[8] - a[5] * a[6]) + a[2] * (a[3] * a[7] - a[4] * a[6])
            guard kept >= 10, det > 1e-9 * a[0] * a[4] * a[8] else { return nil }
            let x = SkyMatchSolver.solve(a, b, 3)
            plane = SkyPlane(level: x[0], slopeX: x[1], slopeY: x[2], xi0: mx, eta0: my)
            var ss = 0.0
            for k in 0..<n where keep[k] {
                let r = Double(d[k]) - plane.value(xi: Double(xi[k]), eta: Double(eta[k]))
                ss += r * r
            }
            let limit = 3 * (ss / Double(kept)).squareRoot()
            var changed = false
            for k in 0..<n {
                let r = abs(Double(d[k]) - plane.value(xi: Double(xi[k]), eta: Double(eta[k])))
                let now = r <= limit
                if now != keep[k] { keep[k] = now; changed = true }
            }
            if !changed { break }
        }
        return (plane, kept)
    }

    /// Each group's plane from the pairs' difference planes (`p.plane` ≈ plane_i − plane_j):
    /// the slopes first, one system per axis as for levels, then the levels at each overlap's
    /// centre with those slopes taken out. Every island's planes sum to zero (min-norm): a
    /// slope shared by all its members cannot be seen in the overlaps. Items in no pair get nil.
    static func solve(count n: Int, pairs: [(i: Int, j: Int, weight: Int, plane: SkyPlane)]) -> [SkyPlane?] {
        func system(_ value: (SkyPlane) -> Double) -> [PairSky] {
            pairs.map { PairSky(i: $0.i, j: $0.j, si: SkyValue(value: value($0.plane), npix: $0.weight), sj: SkyValue(value: 0, npix: $0.weight)) }
        }
        let sx = SkyMatchSolver.deltas(count: n, pairs: system(\.slopeX))
        let sy = SkyMatchSolver.deltas(count: n, pairs: system(\.slopeY))
        // level_i − level_j = D(ξ₀, η₀) − (sx_i − sx_j)·ξ₀ − (sy_i − sy_j)·η₀, levels at the origin.
        let levels = SkyMatchSolver.deltas(count: n, pairs: pairs.map { p in
            let v = p.plane.level - (sx[p.i] - sx[p.j]) * p.plane.xi0 - (sy[p.i] - sy[p.j]) * p.plane.eta0
            return PairSky(i: p.i, j: p.j, si: SkyValue(value: v, npix: p.weight), sj: SkyValue(value: 0, npix: p.weight))
        })
        return (0..<n).map { k in
            levels[k].isFinite ? SkyPlane(level: levels[k], slopeX: sx[k], slopeY: sy[k], xi0: 0, eta0: 0) : nil
        }
    }
}
