import AstroImage
import AstroWCS

/// Where each input pixel centre lands on the output grid: out(x, y) of input (i, j), 0-based,
/// NaN where the input pixel has no mapping (stcal's calc_pixmap, through AstroWCS's batched
/// transforms).
public struct Pixmap: Sendable {
    public let width: Int
    public let height: Int
    /// Output x and y, row-major over the input.
    public var x: [Double]
    public var y: [Double]
    /// The WCS was evaluated exactly every `step` pixels (1: everywhere) and bilinearly between.
    public private(set) var step = 1

    public init(width: Int, height: Int, x: [Double], y: [Double]) {
        precondition(x.count == width * height && y.count == width * height, "pixmap arrays must cover the input")
        self.width = width; self.height = height; self.x = x; self.y = y
    }

    /// How the WCS is evaluated: exactly at every pixel, exactly every N pixels (and on the last
    /// row and column) with bilinear interpolation between (stcal's pixmap_stepsize), or `auto`:
    /// the largest such step whose interpolation stays within `tolerance` output pixels of the
    /// exact map, checked at the centre and edge midpoints of every cell.
    public enum Sampling: Sendable, Equatable {
        case exact
        case step(Int)
        case auto(tolerance: Double)
        public static let automatic = Sampling.auto(tolerance: 1e-5)
    }

    /// input pixel → sky (input WCS) → output pixel (output WCS).
    public init(from input: WCS, width: Int, height: Int, to output: WCS, sampling: Sampling = .exact) {
        self.width = width; self.height = height
        var s: Int
        switch sampling {
        case .exact: s = 1
        case .step(let n): s = max(1, n)
        case .auto(let tolerance):
            s = Self.autoStep(from: input, width: width, height: height, to: output, tolerance: tolerance)
        }
        step = s
        if s == 1 {
            var xs = [Double](repeating: 0, count: width * height), ys = xs
            Self.fillIndices(&xs, &ys, width: width)
            (x, y) = Self.map(input, output, xs, ys)
            return
        }
        let nodes = Nodes(width: width, height: height, step: s)
        let m = Self.map(input, output, nodes.xs, nodes.ys)
        (x, y) = nodes.interpolate(m.x, m.y)
    }

    /// Shorthand for `sampling: step > 1 ? .step(step) : .exact`.
    public init(from input: WCS, width: Int, height: Int, to output: WCS, step: Int) {
        self.init(from: input, width: width, height: height, to: output, sampling: step > 1 ? .step(step) : .exact)
    }

    /// The same pixel positions: out = in (for tests and same-grid stacking).
    public static func identity(width: Int, height: Int) -> Pixmap {
        var xs = [Double](repeating: 0, count: width * height), ys = xs
        fillIndices(&xs, &ys, width: width)
        return Pixmap(width: width, height: height, x: xs, y: ys)
    }

    private static func fillIndices(_ xs: inout [Double], _ ys: inout [Double], width: Int) {
        for k in xs.indices { xs[k] = Double(k % width); ys[k] = Double(k / width) }
    }

    private static func map(_ input: WCS, _ output: WCS, _ xs: [Double], _ ys: [Double]) -> (x: [Double], y: [Double]) {
        let sky = input.pixelToWorld(x: xs, y: ys)
        return output.worldToPixel(ra: sky.ra, dec: sky.dec)
    }

    /// Starts at 64 pixels and shrinks until the interpolated map is within `tolerance` of the
    /// exact one at every cell's centre and at the midpoints of its top and left edges (where
    /// bilinear interpolation is worst), or until the step is 1. A NaN anywhere means exact.
    static func autoStep(from input: WCS, width: Int, height: Int, to output: WCS, tolerance: Double) -> Int {
        var s = 64
        while s > 1 {
            s = min(s, max(1, min(width, height) / 2))
            guard s > 1 else { break }
            let nodes = Nodes(width: width, height: height, step: s)
            let m = map(input, output, nodes.xs, nodes.ys)
            let probe = nodes.probes()
            let exact = map(input, output, probe.x, probe.y)
            let guess = nodes.interpolateAt(m.x, m.y, probe.x, probe.y)
            var worst = 0.0
            for k in exact.x.indices {
                let e = max(abs(exact.x[k] - guess.x[k]), abs(exact.y[k] - guess.y[k]))
                worst = e.isNaN ? .infinity : max(worst, e)
            }
            if worst <= tolerance { return s }
            // Bilinear error grows as the square of the step; aim a little below the bound.
            let shrink = worst.isFinite ? (tolerance / worst).squareRoot() * 0.8 : 0
            var next = 1
            while next * 2 <= Int(Double(s) * shrink) { next *= 2 }
            s = min(next, s / 2)
        }
        return 1
    }
}

/// The grid of exact nodes for a stepped pixmap: every `step`-th column and row, and the last.
private struct Nodes {
    let width: Int, height: Int
    let cols: [Int], rows: [Int]

    init(width: Int, height: Int, step: Int) {
        func nodes(_ n: Int) -> [Int] { n == 1 ? [0] : Array(stride(from: 0, to: n - 1, by: step)) + [n - 1] }
        self.width = width; self.height = height
        cols = nodes(width); rows = nodes(height)
    }

    var xs: [Double] { rows.flatMap { _ in cols.map(Double.init) } }
    var ys: [Double] { rows.flatMap { j in cols.map { _ in Double(j) } } }

    /// Each cell's centre and the midpoints of its top and left edges.
    func probes() -> (x: [Double], y: [Double]) {
        var px: [Double] = [], py: [Double] = []
        for a in 0..<max(rows.count - 1, 1) {
            let r0 = Double(rows[a]), r1 = Double(rows[min(a + 1, rows.count - 1)])
            for b in 0..<max(cols.count - 1, 1) {
                let c0 = Double(cols[b]), c1 = Double(cols[min(b + 1, cols.count - 1)])
                px += [(c0 + c1) / 2, (c0 + c1) / 2, c0]
                py += [(r0 + r1) / 2, r0, (r0 + r1) / 2]
            }
        }
        return (px, py)
    }

    /// The cell holding position p along one axis of nodes, and the fraction across it.
    @inline(__always)
    private static func cell(_ nodes: [Int], _ p: Double) -> (Int, Double) {
        guard nodes.count > 1 else { return (0, 0) }
        var lo = 0, hi = nodes.count - 1
        while hi - lo > 1 { let mid = (lo + hi) / 2; if Double(nodes[mid]) <= p { lo = mid } else { hi = mid } }
        return (lo, (p - Double(nodes[lo])) / Double(nodes[lo + 1] - nodes[lo]))
    }

    /// The bilinear map at arbitrary positions (for the accuracy probes).
    func interpolateAt(_ mx: [Double], _ my: [Double], _ px: [Double], _ py: [Double]) -> (x: [Double], y: [Double]) {
        let nc = cols.count
        var ox = [Double](repeating: .nan, count: px.count), oy = ox
        for k in px.indices {
            let (b, fx) = Self.cell(cols, px[k]), (a, fy) = Self.cell(rows, py[k])
            let i00 = a * nc + b, i01 = nc > 1 ? i00 + 1 : i00, i10 = rows.count > 1 ? i00 + nc : i00, i11 = i10 + (i01 - i00)
            ox[k] = mx[i00] * (1 - fx) * (1 - fy) + mx[i01] * fx * (1 - fy) + mx[i10] * (1 - fx) * fy + mx[i11] * fx * fy
            oy[k] = my[i00] * (1 - fx) * (1 - fy) + my[i01] * fx * (1 - fy) + my[i10] * (1 - fx) * fy + my[i11] * fx * fy
        }
        return (ox, oy)
    }

    /// The bilinear map at every pixel, rows across the cores (a NaN node makes its cells NaN).
    /// Along a row the columns go cell by cell: a cell's four nodes are loaded once and its
    /// columns differ only in their fraction, a loop that runs in vector lanes (the same
    /// arithmetic per pixel as one at a time).
    func interpolate(_ mx: [Double], _ my: [Double]) -> (x: [Double], y: [Double]) {
        let nc = cols.count, w = width
        var colFrac = [Double](repeating: 0, count: w)
        // Runs of columns in the same cell: (cell, first column, end).
        var runs: [(cell: Int, from: Int, to: Int)] = []
        for i in 0..<w {
            let (c, f) = Self.cell(cols, Double(i))
            colFrac[i] = f
            if let last = runs.last, last.cell == c { runs[runs.count - 1].to = i + 1 } else { runs.append((c, i, i + 1)) }
        }
        let cf = colFrac, cells = runs, n = width * height
        let down = rows.count > 1 ? nc : 0, right = nc > 1 ? 1 : 0
        // Both planes written once, rows across the cores (no fill pass, no copy).
        var gy: [Double] = []
        let gx = [Double](unsafeUninitializedCapacity: n) { bx, filledX in
            gy = [Double](unsafeUninitializedCapacity: n) { by, filledY in
                let ox = SendableMutableBuffer(bx), oy = SendableMutableBuffer(by)
                mx.withUnsafeBufferPointer { mxp in my.withUnsafeBufferPointer { myp in cf.withUnsafeBufferPointer { cfp in
                    let nx = SendableBuffer(mxp), ny = SendableBuffer(myp), frac = SendableBuffer(cfp)
                    Parallel.forEachBlock(count: height, minBlock: 16) { js in
                        for j in js {
                            let (a, fy) = Self.cell(rows, Double(j)), gy = 1 - fy
                            for run in cells {
                                let k = a * nc + run.cell
                                let x00 = nx[k], x01 = nx[k + right], x10 = nx[k + down], x11 = nx[k + down + right]
                                let y00 = ny[k], y01 = ny[k + right], y10 = ny[k + down], y11 = ny[k + down + right]
                                let rx = ox.base + j * w, ry = oy.base + j * w
                                for i in run.from..<run.to {
                                    let fx = frac.base[i], gx = 1 - fx
                                    (rx + i).initialize(to: (x00 * gx + x01 * fx) * gy + (x10 * gx + x11 * fx) * fy)
                                    (ry + i).initialize(to: (y00 * gx + y01 * fx) * gy + (y10 * gx + y11 * fx) * fy)
                                }
                            }
                        }
                    }
                }}}
                filledY = n
            }
            filledX = n
        }
        return (gx, gy)
    }
}
