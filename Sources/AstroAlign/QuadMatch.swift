import Foundation

/// Which blind matcher proposes the starting transform.
public enum InitialMatching: String, Sendable, CaseIterable {
    /// astroalign's triangles (TriangleMatch.swift): any rotation, scale and mirror, from 3 stars.
    case triangles
    /// spalipy's quads (QuadMatch.swift): astrometry.net's 4-star hash codes.
    case quads
}

/// `--match quads` settings, spalipy's names and defaults (docs/align.md).
public struct QuadOptions: Sendable {
    /// Every one of a quad's six separations must exceed this (px; `min_quad_sep`).
    public var minSeparation = 50.0
    /// Stars closer than this to their image's edge form no quads (px; `quad_edge_buffer`).
    public var edgeBuffer = 0.0
    /// Most candidates (source quads with the nearest template codes) tried per sub-tile and
    /// parity (`max_quad_cand`).
    public var maxCandidates = 10
    /// Stop after this many candidates in a row bring no more matches (`patience_quad_cand`).
    public var patience = 2
    /// Largest 4-D distance between a source and a template code of a candidate (`max_quad_hash_dist`).
    public var maxHashDistance = 0.005
    /// The source is cut into `subTile` × `subTile` tiles, each matched on its own (`sub_tile`).
    public var subTile = 1

    public init() {}
}

/// A pixel frame's size: tiles and edge buffers refer to it.
public typealias PixelFrame = (width: Int, height: Int)

/// spalipy's initial matching with astrometry.net's quad hash: four stars A, B, C, D, A and B
/// the most distant pair; the similarity taking A to (0, 0) and B to (1, 1) takes C and D to
/// (x_C, y_C), (x_D, y_D), a code that does not change under shift, rotation and scale. Two
/// symmetries are broken so that equal quads get equal codes: x_C ≤ x_D (else C and D swap)
/// and x_C + x_D ≤ 1 (else A and B swap, which maps every point (u, v) to (1 − u, 1 − v)).
/// The code is not mirror-invariant: a mirrored field is matched by mirroring the source.
enum QuadMatch {
    /// Four point indices in code order, and the code.
    struct Quad {
        var a: Int, b: Int, c: Int, d: Int
        var code: SIMD4<Double>
    }

    /// The quads of `members` (point indices, brightest first) whose six separations all exceed
    /// `minSeparation`.
    /// - Complexity: O(n⁴) in `members.count` (4845 combinations for 20 stars).
    static func quads(_ xs: [Double], _ ys: [Double], _ members: [Int], minSeparation: Double) -> [Quad] {
        let n = members.count
        guard n >= 4 else { return [] }
        var dist = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n {
                let dx = xs[members[i]] - xs[members[j]], dy = ys[members[i]] - ys[members[j]]
                dist[i * n + j] = (dx * dx + dy * dy).squareRoot()
            }
        }
        func far(_ i: Int, _ j: Int) -> Bool { dist[i * n + j] > minSeparation }
        var out: [Quad] = []
        for i in 0..<n {
            for j in (i + 1)..<n where far(i, j) {
                for k in (j + 1)..<n where far(i, k) && far(j, k) {
                    for l in (k + 1)..<n where far(i, l) && far(j, l) && far(k, l) {
                        // A, B: the most distant pair (the first of equals, in this order).
                        let pairs = [(i, j, k, l), (i, k, j, l), (i, l, j, k), (j, k, i, l), (j, l, i, k), (k, l, i, j)]
                        let p = pairs.max { dist[$0.0 * n + $0.1] < dist[$1.0 * n + $1.1] }!
                        if let q = quad(members[p.0], members[p.1], members[p.2], members[p.3], xs, ys) { out.append(q) }
                    }
                }
            }
        }
        return out
    }

    /// The quad with A, B given (the most distant pair), its symmetries broken.
    static func quad(_ a: Int, _ b: Int, _ c: Int, _ d: Int, _ xs: [Double], _ ys: [Double]) -> Quad? {
        // The similarity [[p, −q], [q, p]] taking B − A to (1, 1).
        let x = xs[b] - xs[a], y = ys[b] - ys[a], r2 = x * x + y * y
        guard r2 > 0 else { return nil }
        let p = (x + y) / r2, q = (x - y) / r2
        func map(_ i: Int) -> (Double, Double) {
            let u = xs[i] - xs[a], v = ys[i] - ys[a]
            return (p * u - q * v, q * u + p * v)
        }
        var (xc, yc) = map(c), (xd, yd) = map(d)
        var (a, b, c, d) = (a, b, c, d)
        if xc + xd > 1 {
            // Swap A and B: (u, v) → (1 − u, 1 − v).
            (a, b) = (b, a)
            (xc, yc, xd, yd) = (1 - xc, 1 - yc, 1 - xd, 1 - yd)
        }
        if xc > xd {
            (c, d) = (d, c)
            (xc, yc, xd, yd) = (xd, yd, xc, yc)
        }
        return Quad(a: a, b: b, c: c, d: d, code: SIMD4(xc, yc, xd, yd))
    }

    /// The points of each of `count` × `count` equal tiles of `frame` (row by row), each point in
    /// one tile (points outside the frame join the nearest), in the order given.
    static func tiles(_ xs: [Double], _ ys: [Double], frame: PixelFrame, count: Int) -> [[Int]] {
        var out = [[Int]](repeating: [], count: count * count)
        let w = Double(frame.width) / Double(count), h = Double(frame.height) / Double(count)
        for i in xs.indices {
            let tx = min(count - 1, max(0, Int((xs[i] / w).rounded(.down))))
            let ty = min(count - 1, max(0, Int((ys[i] / h).rounded(.down))))
            out[ty * count + tx].append(i)
        }
        return out
    }

    /// The first `n` points of `members` lying at least `buffer` pixels inside the frame (pixel
    /// centres 0 … width − 1).
    static func quadStars(_ members: [Int], _ xs: [Double], _ ys: [Double], frame: PixelFrame, buffer: Double, n: Int) -> [Int] {
        let x1 = Double(frame.width - 1) - buffer, y1 = Double(frame.height - 1) - buffer
        return Array(members.lazy.filter { xs[$0] >= buffer && ys[$0] >= buffer && xs[$0] <= x1 && ys[$0] <= y1 }.prefix(n))
    }

    /// The quads of each tile's `n` brightest stars far enough from the edge, tile by tile.
    static func tileQuads(_ xs: [Double], _ ys: [Double], tiles: [[Int]], frame: PixelFrame, n: Int,
                          options o: QuadOptions) -> [[Quad]] {
        tiles.map { tile in
            quads(xs, ys, quadStars(tile, xs, ys, frame: frame, buffer: o.edgeBuffer, n: n), minSeparation: o.minSeparation)
        }
    }

    /// The smallest frame from (0, 0) holding every point.
    static func extent(_ xs: [Double], _ ys: [Double]) -> PixelFrame {
        (Int((xs.max() ?? 0).rounded(.up)) + 1, Int((ys.max() ?? 0).rounded(.up)) + 1)
    }

    /// Codes on a grid over their first two components, cells of the query radius: a query
    /// looks at the codes of the 3×3 cells about it (PointIndex), a few whatever their number.
    struct CodeIndex {
        private let grid: PointIndex
        private let codes: [SIMD4<Double>]
        let radius: Double

        init(_ codes: [SIMD4<Double>], radius: Double) {
            self.codes = codes
            self.radius = radius
            grid = PointIndex(xs: codes.map { $0[0] }, ys: codes.map { $0[1] }, cell: radius)
        }

        /// The nearest code closer than `radius` to `code` (its index and distance); ties go to
        /// the lower index.
        func nearest(_ code: SIMD4<Double>) -> (index: Int, distance: Double)? {
            var best: (index: Int, distance: Double)?
            grid.forEachCandidate(code[0], code[1], radius: radius) { i in
                let e = codes[i] - code
                let d = (e * e).sum().squareRoot()
                if d < radius, d < best?.distance ?? .infinity || (d == best?.distance && i < best!.index) { best = (i, d) }
            }
            return best
        }
    }

    /// The similarity taking source points A, B onto template points A′, B′ exactly (two point
    /// pairs, four unknowns); nil when A = B.
    static func similarity(from a: (Double, Double), _ b: (Double, Double),
                           to ta: (Double, Double), _ tb: (Double, Double)) -> AffineMap? {
        // As complex numbers: t = m·s + k with m = (B′ − A′)/(B − A).
        let sx = b.0 - a.0, sy = b.1 - a.1, tx = tb.0 - ta.0, ty = tb.1 - ta.1
        let r2 = sx * sx + sy * sy
        guard r2 > 0 else { return nil }
        let mr = (tx * sx + ty * sy) / r2, mi = (ty * sx - tx * sy) / r2
        return AffineMap(a: mr, b: -mi, c: ta.0 - (mr * a.0 - mi * a.1),
                         d: mi, e: mr, f: ta.1 - (mi * a.0 + mr * a.1))
    }

    /// Why no quad can be formed from `xs, ys` (nil when one can): the sparse-field error text.
    static func sparseReason(_ xs: [Double], _ ys: [Double], frame: PixelFrame, n: Int, options o: QuadOptions, side: String) -> String? {
        let formed = tileQuads(xs, ys, tiles: tiles(xs, ys, frame: frame, count: o.subTile), frame: frame, n: n, options: o)
        guard formed.allSatisfy(\.isEmpty) else { return nil }
        let perTile = o.subTile > 1 ? " of any \(o.subTile)x\(o.subTile) sub-tile" : ""
        let edge = o.edgeBuffer > 0 ? " at least \(String(format: "%g", o.edgeBuffer)) px from the edge" : ""
        return "too sparse for quads: no 4 of the \(n) brightest \(side) stars\(perTile)\(edge) are all more than "
            + "\(String(format: "%g", o.minSeparation)) px apart (--min-quad-sep); use --match triangles or a smaller --min-quad-sep"
    }
}
