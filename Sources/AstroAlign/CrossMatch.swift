/// Points binned on a square grid, for nearest-neighbour queries within a small radius:
/// the catalogues are a few thousand points, the radius a few pixels.
struct PointIndex {
    let xs: [Double]
    let ys: [Double]
    private let cell: Double
    private let x0: Double, y0: Double
    private let nx: Int, ny: Int
    /// Start of each cell's run in `order` (prefix sums), `nx·ny + 1` entries.
    private let starts: [Int]
    private let order: [Int]

    /// Points with a non-finite coordinate (a prediction with no position) are left out.
    init(xs: [Double], ys: [Double], cell: Double) {
        self.xs = xs
        self.ys = ys
        let finite = xs.indices.filter { xs[$0].isFinite && ys[$0].isFinite }
        let fx = finite.map { xs[$0] }, fy = finite.map { ys[$0] }
        let x0 = (fx.min() ?? 0) - 1, y0 = (fy.min() ?? 0) - 1
        self.x0 = x0
        self.y0 = y0
        // Keep the grid to ~4 cells per point: a huge radius or spread degrades to a scan.
        let spanX = (fx.max() ?? 0) - x0 + 1, spanY = (fy.max() ?? 0) - y0 + 1
        let limit = max(1, 4 * finite.count)
        var c = max(cell, 1e-3)
        while (spanX / c + 1) * (spanY / c + 1) > Double(limit) { c *= 2 }
        self.cell = c
        nx = Int(spanX / c) + 1
        ny = Int(spanY / c) + 1
        var counts = [Int](repeating: 0, count: nx * ny + 1)
        var slot = [Int](repeating: 0, count: xs.count)
        for i in finite {
            let cx = min(nx - 1, max(0, Int((xs[i] - x0) / c))), cy = min(ny - 1, max(0, Int((ys[i] - y0) / c)))
            slot[i] = cy * nx + cx
            counts[slot[i] + 1] += 1
        }
        for k in 1..<counts.count { counts[k] += counts[k - 1] }
        starts = counts
        var fill = counts
        var order = [Int](repeating: 0, count: finite.count)
        for i in finite { order[fill[slot[i]]] = i; fill[slot[i]] += 1 }
        self.order = order
    }

    /// Calls `body` with every point of the grid cells that a square of half-side `radius`
    /// about (x, y) touches: all the points within `radius`, and some beyond it.
    @inline(__always)
    func forEachCandidate(_ x: Double, _ y: Double, radius: Double, _ body: (Int) -> Void) {
        // A query without a position (a NaN prediction) has no neighbours.
        guard x.isFinite, y.isFinite, radius.isFinite else { return }
        // Cell numbers clamped as doubles first: a point far off the grid must not overflow Int.
        func cellOf(_ v: Double, _ n: Int) -> Int { Int(min(max(v, -1), Double(n))) }
        let cx0 = max(0, cellOf(((x - radius) - x0) / cell, nx)), cx1 = min(nx - 1, cellOf(((x + radius) - x0) / cell, nx))
        let cy0 = max(0, cellOf(((y - radius) - y0) / cell, ny)), cy1 = min(ny - 1, cellOf(((y + radius) - y0) / cell, ny))
        guard cx0 <= cx1, cy0 <= cy1 else { return }
        for cy in cy0...cy1 {
            for cx in cx0...cx1 {
                let k = cy * nx + cx
                for j in starts[k]..<starts[k + 1] { body(order[j]) }
            }
        }
    }

    /// The nearest point and the distance to it, and the distance of the second nearest, among
    /// points within `radius` of (x, y).
    func nearestTwo(_ x: Double, _ y: Double, radius: Double) -> (index: Int, d1: Double, d2: Double)? {
        let r2 = radius * radius
        var best = -1, d1 = Double.infinity, d2 = Double.infinity
        forEachCandidate(x, y, radius: radius) { i in
            let dx = xs[i] - x, dy = ys[i] - y, dd = dx * dx + dy * dy
            guard dd <= r2 else { return }
            if dd < d1 { d2 = d1; d1 = dd; best = i } else if dd < d2 { d2 = dd }
        }
        return best < 0 ? nil : (best, d1.squareRoot(), d2.squareRoot())
    }
}

/// Pairs of (source, template) detections that a transform brings together.
enum CrossMatch {
    /// How many source points land within `radius` of some template point (no guards): the
    /// cheap score of a candidate transform.
    static func count(_ sx: [Double], _ sy: [Double], through t: AffineMap, in template: PointIndex, radius: Double) -> Int {
        var n = 0
        for i in sx.indices {
            let p = t.apply(sx[i], sy[i])
            if template.nearestTwo(p.x, p.y, radius: radius) != nil { n += 1 }
        }
        return n
    }

    /// Matches within `radius` of the predicted positions `px, py` (source points already
    /// transformed into the template frame), keeping a pair only when (a) no second template
    /// point lies within 2·radius of the prediction (spalipy's ambiguity guard) and (b) the two
    /// are mutual nearest neighbours.
    /// - Returns: (source index, template index) pairs, ordered by source index.
    static func pairs(px: [Double], py: [Double], template: PointIndex, radius: Double) -> [(Int, Int)] {
        var claim: [Int: (source: Int, distance: Double)] = [:]
        var candidate: [(Int, Int, Double)] = []
        for i in px.indices {
            guard let hit = template.nearestTwo(px[i], py[i], radius: 2 * radius), hit.d1 < radius, hit.d2 >= 2 * radius else { continue }
            candidate.append((i, hit.index, hit.d1))
            if let other = claim[hit.index], other.distance <= hit.d1 { continue }
            claim[hit.index] = (i, hit.d1)
        }
        // Mutual: among the sources predicted near a template point, only the nearest keeps it.
        let sourceIndex = PointIndex(xs: px, ys: py, cell: radius)
        return candidate.filter { (i, j, _) in
            guard claim[j]?.source == i else { return false }
            let back = sourceIndex.nearestTwo(template.xs[j], template.ys[j], radius: radius)
            return back?.index == i
        }.map { ($0.0, $0.1) }
    }
}
