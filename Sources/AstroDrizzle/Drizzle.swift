import AstroImage

/// The drizzle algorithm (Fruchter & Hook 2002) as spacetelescope/drizzle's C core computes it:
/// each input pixel's drop is spread over the output pixels it covers, and every output pixel
/// keeps the weighted mean of what it received (float32 between steps, updates in the C core's
/// order, so results agree to rounding). docs/resample.md lists where astrotool departs from it.
public struct DrizzleOptions: Sendable {
    public enum Kernel: String, Sendable, CaseIterable { case square, point }
    /// What an output pixel no input reached holds: NaN, a number, or (INDEF) its old value.
    public enum Fill: Sendable, Equatable { case nan, value(Float), indef }

    public var kernel = Kernel.square
    /// Linear size of a drop relative to an input pixel.
    public var pixfrac = 1.0
    /// Multiplies the data (e.g. r² for counts per pixel).
    public var iscale: Float = 1
    /// Multiplies every weight.
    public var weightScale: Float = 1
    public var fill = Fill.nan
    public var context = true
    public init() {}
}

/// The output planes, accumulated over `add` calls.
public struct DrizzleOutput: Sendable {
    public let width: Int
    public let height: Int
    public var image: [Float]
    public var weight: [Float]
    /// Context: bit k of plane k / 32 is set where input k contributed with positive weight.
    public var context: [[Int32]]
    /// Inputs added so far.
    public private(set) var count = 0
    public private(set) var exposure = 0.0

    public init(width: Int, height: Int, fill: DrizzleOptions.Fill = .nan) {
        self.width = width; self.height = height
        let start: Float = { if case .value(let v) = fill { return v }; return .nan }()
        image = [Float](repeating: start, count: width * height)
        weight = [Float](repeating: 0, count: width * height)
        context = []
    }

    /// Drizzles one input (`data` row-major over the pixmap's grid; `weights` nil = 1 each, 0
    /// excludes a pixel). Returns how many input pixels had no usable mapping.
    @discardableResult
    public mutating func add(_ data: [Float], weights: [Float]? = nil, pixmap: Pixmap, exposure t: Double = 1,
                             options o: DrizzleOptions) -> Int {
        precondition(data.count == pixmap.width * pixmap.height, "data must match the pixmap")
        let plane = count / 32, bit = Int32(bitPattern: UInt32(1) << UInt32(count % 32))
        if o.context && plane >= context.count { context.append([Int32](repeating: 0, count: width * height)) }
        var missed = 0
        let kernel: DrizzleOptions.Kernel = o.pixfrac <= 0.001 ? .point : o.kernel
        let nx = pixmap.width, ny = pixmap.height
        for j in 0..<ny {
            for i in 0..<nx {
                let k = j * nx + i
                let w = (weights?[k] ?? 1) * o.weightScale
                let d = data[k] * o.iscale
                switch kernel {
                case .point:
                    let ox = pixmap.x[k], oy = pixmap.y[k]
                    guard ox.isFinite, oy.isFinite else { missed += 1; continue }
                    let ii = Int(ox.rounded()), jj = Int(oy.rounded())
                    guard ii >= 0, jj >= 0, ii < width, jj < height else { continue }
                    update(ii, jj, d, w, plane, bit, o.context)
                case .square:
                    guard let q = squareCorners(pixmap, i, j, o.pixfrac / 2) else { missed += 1; continue }
                    dropSquare(q, d, Double(w), plane, bit, o.context)
                }
            }
        }
        if o.fill != .indef {
            let value: Float = { if case .value(let v) = o.fill { return v }; return .nan }()
            for p in 0..<image.count where weight[p] == 0 { image[p] = value }
        }
        count += 1
        exposure += t
        return missed
    }

    /// drizzle's update: a weighted mean kept in float32 between steps.
    @inline(__always)
    private mutating func update(_ ii: Int, _ jj: Int, _ d: Float, _ dow: Float, _ plane: Int, _ bit: Int32, _ ctx: Bool) {
        guard dow != 0 else { return }
        let p = jj * width + ii
        let vc = weight[p]
        if vc == 0 { image[p] = d } else {
            image[p] = Float((Double(image[p]) * Double(vc) + Double(dow) * Double(d)) / (Double(vc) + Double(dow)))
        }
        weight[p] = Float(Double(vc) + Double(dow))
        if ctx && dow > 0 { context[plane][p] |= bit }
    }

    /// The drop's corners on the output, clockwise from top-left, or nil when one is NaN.
    private func squareCorners(_ m: Pixmap, _ i: Int, _ j: Int, _ h: Double) -> [(Double, Double)]? {
        let nx = m.width, ny = m.height
        var corners: [(Double, Double)] = []
        corners.reserveCapacity(4)
        for (sx, sy) in [(-1.0, 1.0), (1.0, 1.0), (1.0, -1.0), (-1.0, -1.0)] {
            let c: (Double, Double)
            if i > 0 && i < nx - 2 && j > 0 && j < ny - 2 {
                // Interior: the bilinear weights of the corner's cell, from the 3x3 neighbourhood.
                let k = j * nx + i, dx = Int(sx), dy = Int(sy) * nx
                let a = (1 - h) * (1 - h), b = h * (1 - h), e = h * h
                c = (a * m.x[k] + b * m.x[k + dx] + b * m.x[k + dy] + e * m.x[k + dx + dy],
                     a * m.y[k] + b * m.y[k + dx] + b * m.y[k + dy] + e * m.y[k + dx + dy])
            } else {
                c = m.interpolate(Double(i) + sx * h, Double(j) + sy * h)
            }
            guard c.0.isFinite, c.1.isFinite else { return nil }
            corners.append(c)
        }
        return corners
    }

    /// Spreads one square drop: weight w·overlap/area to each output pixel it covers.
    private mutating func dropSquare(_ q: [(Double, Double)], _ d: Float, _ w: Double, _ plane: Int, _ bit: Int32, _ ctx: Bool) {
        let jaco = 0.5 * ((q[1].0 - q[3].0) * (q[0].1 - q[2].1) - (q[0].0 - q[2].0) * (q[1].1 - q[3].1))
        let wj = w / jaco
        let xs = q.map(\.0), ys = q.map(\.1)
        let i0 = max(Int(xs.min()!.rounded()), 0), i1 = min(Int(xs.max()!.rounded()), width - 1)
        let j0 = max(Int(ys.min()!.rounded()), 0), j1 = min(Int(ys.max()!.rounded()), height - 1)
        guard i0 <= i1, j0 <= j1 else { return }
        for jj in j0...j1 {
            for ii in i0...i1 {
                let a = Self.overlap(q, ii, jj)
                if a != 0 { update(ii, jj, d, Float(a * wj), plane, bit, ctx) }
            }
        }
    }

    /// Signed area of the quadrilateral inside output pixel (ii, jj) (drizzle's "boxer").
    static func overlap(_ q: [(Double, Double)], _ ii: Int, _ jj: Int) -> Double {
        let ox = Double(ii) - 0.5, oy = Double(jj) - 0.5
        var total = 0.0
        for k in 0..<4 {
            let a = q[k], b = q[(k + 1) % 4]
            total += edgeArea(a.0 - ox, a.1 - oy, b.0 - ox, b.1 - oy)
        }
        return total
    }

    /// Signed area between an edge and y = 0, inside the unit square.
    static func edgeArea(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double) -> Double {
        let dx = x2 - x1
        if dx == 0 { return 0 }
        let s: Double = dx > 0 ? 1 : -1
        var xlo = min(x1, x2), xhi = max(x1, x2)
        if xlo >= 1 || xhi <= 0 { return 0 }
        xlo = max(xlo, 0); xhi = min(xhi, 1)
        let m = (y2 - y1) / dx
        var ylo = y1 + m * (xlo - x1), yhi = y1 + m * (xhi - x1)
        if ylo <= 0 && yhi <= 0 { return 0 }
        if ylo >= 1 && yhi >= 1 { return s * (xhi - xlo) }
        let det = x1 * y2 - y1 * x2
        if ylo < 0 { ylo = 0; xlo = det / (y2 - y1) }
        if yhi < 0 { yhi = 0; xhi = det / (y2 - y1) }
        if ylo <= 1 {
            if yhi <= 1 { return s * 0.5 * (xhi - xlo) * (yhi + ylo) }
            let xtop = (dx + det) / (y2 - y1)
            return s * (0.5 * (xtop - xlo) * (1 + ylo) + xhi - xtop)
        }
        let xtop = (dx + det) / (y2 - y1)
        return s * (0.5 * (xhi - xtop) * (1 + yhi) + xtop - xlo)
    }
}
