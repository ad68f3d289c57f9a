import AstroImage
import Foundation
import Synchronization

/// The drizzle algorithm (Fruchter & Hook 2002) as spacetelescope/drizzle's C core computes it:
/// each input pixel's drop is spread over the output pixels it covers, and every output pixel
/// keeps the weighted mean of what it received (float32 between steps, updates in the C core's
/// order, so results agree to rounding). docs/resample.md lists where astrotool departs from it.
public struct DrizzleOptions: Sendable {
    public enum Kernel: String, Sendable, CaseIterable { case square, point, turbo, gaussian, lanczos2, lanczos3 }
    /// What an output pixel no input reached holds: NaN, a number, or (INDEF) its old value.
    public enum Fill: Sendable, Equatable {
        case nan, value(Float), indef
        /// What a new output holds, and what an unreached pixel is set to (INDEF: NaN at first).
        var initialValue: Float { if case .value(let v) = self { return v }; return .nan }
    }

    public var kernel = Kernel.square
    /// Linear size of a drop relative to an input pixel.
    public var pixfrac = 1.0
    /// Output pixel size over input pixel size: the size of turbo, gaussian and lanczos drops
    /// in output pixels (square and point follow the pixmap instead).
    public var pixelScaleRatio = 1.0
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
    /// The OR of the DQ bits of every input pixel that reached each output pixel (drizzle's
    /// propagate_dq), present once an input brought a DQ plane.
    public var dq: [UInt32]?
    /// Inputs added so far.
    public private(set) var count = 0
    public private(set) var exposure = 0.0

    public init(width: Int, height: Int, fill: DrizzleOptions.Fill = .nan) {
        self.width = width; self.height = height
        let start = fill.initialValue
        image = [Float](repeating: start, count: width * height)
        weight = [Float](repeating: 0, count: width * height)
        context = []
    }

    /// Drizzles one input (`data` row-major over the pixmap's grid; `weights` nil = 1 each, 0
    /// excludes a pixel; `dq` bits ORed into the output DQ wherever a pixel lands with non-zero
    /// weight). Returns how many input pixels had no usable mapping.
    ///
    /// The output is cut into row bands, one per core; each band walks the whole input in the
    /// C core's order and keeps only the updates that fall in its rows, so every output pixel
    /// sees the same sequence of updates as on one thread: the result does not depend on the
    /// number of threads.
    @discardableResult
    public mutating func add(_ data: [Float], weights: [Float]? = nil, dq inDQ: [UInt32]? = nil, pixmap: Pixmap,
                             exposure t: Double = 1, options o: DrizzleOptions) -> Int {
        precondition(data.count == pixmap.width * pixmap.height, "data must match the pixmap")
        precondition(inDQ == nil || inDQ!.count == data.count, "dq must match the data")
        if inDQ != nil && dq == nil { dq = [UInt32](repeating: 0, count: width * height) }
        let plane = count / 32, bit = Int32(bitPattern: UInt32(1) << UInt32(count % 32))
        if o.context && plane >= context.count { context.append([Int32](repeating: 0, count: width * height)) }
        let kernel: DrizzleOptions.Kernel = o.pixfrac <= 0.001 ? .point : o.kernel
        let bands = width * height >= 1 << 16 ? min(Parallel.threads, height) : 1
        let missed = Atomic<Int>(0)
        let (w, h) = (width, height)
        func run(_ ip: UnsafeMutablePointer<Float>, _ wp: UnsafeMutablePointer<Float>, _ cp: UnsafeMutablePointer<Int32>?,
                 _ qp: UnsafeMutablePointer<UInt32>?) {
            let shared = UncheckedBand(band: Band(image: ip, weight: wp, context: cp, dq: qp, bit: bit, width: w, height: h))
            Parallel.forEachBlock(count: bands) { range in
                for b in range {
                    var mine = shared.band
                    mine.rows = (h * b / bands)..<(h * (b + 1) / bands)
                    let m = mine.drizzle(data, weights, inDQ, pixmap, kernel, o)
                    missed.add(m, ordering: .relaxed)
                }
            }
        }
        // The planes are taken out of self while threads write into them.
        var img = image, wht = weight, ctx = o.context ? context[plane] : [], odq = inDQ != nil ? dq! : []
        image = []; weight = []
        if o.context { context[plane] = [] }
        if inDQ != nil { dq = [] }
        img.withUnsafeMutableBufferPointer { ip in
            wht.withUnsafeMutableBufferPointer { wp in
                ctx.withUnsafeMutableBufferPointer { cp in
                    odq.withUnsafeMutableBufferPointer { qp in
                        run(ip.baseAddress!, wp.baseAddress!, o.context ? cp.baseAddress! : nil, inDQ != nil ? qp.baseAddress! : nil)
                    }
                }
            }
        }
        image = img; weight = wht
        if o.context { context[plane] = ctx }
        if inDQ != nil { dq = odq }
        if o.fill != .indef {
            let value = o.fill.initialValue
            for p in 0..<image.count where weight[p] == 0 { image[p] = value }
        }
        count += 1
        exposure += t
        return missed.load(ordering: .relaxed)
    }
}

/// One thread's share of the output: rows `rows` of the image, weight and context planes.
struct Band {
    let image: UnsafeMutablePointer<Float>
    let weight: UnsafeMutablePointer<Float>
    let context: UnsafeMutablePointer<Int32>?
    let dq: UnsafeMutablePointer<UInt32>?
    let bit: Int32
    let width: Int
    let height: Int
    var rows = 0..<0

    init(image: UnsafeMutablePointer<Float>, weight: UnsafeMutablePointer<Float>, context: UnsafeMutablePointer<Int32>?,
         dq: UnsafeMutablePointer<UInt32>?, bit: Int32, width: Int, height: Int) {
        self.image = image; self.weight = weight; self.context = context; self.dq = dq; self.bit = bit
        self.width = width; self.height = height
        rows = 0..<height
    }

    /// Every input pixel in the C core's order; returns the pixels without a mapping.
    func drizzle(_ data: [Float], _ weights: [Float]?, _ inDQ: [UInt32]?, _ pixmap: Pixmap, _ kernel: DrizzleOptions.Kernel,
                 _ o: DrizzleOptions) -> Int {
        var missed = 0
        /// Each unmapped pixel is counted by one band only: the one holding its centre's row (band
        /// 0 when that row is unknown), the band that never skips it, so the total does not depend
        /// on the split.
        func miss(_ oy: Double) {
            let row = oy.isFinite ? min(max(Int(oy.rounded()), 0), height - 1) : 0
            if rows.contains(row) { missed += 1 }
        }
        let nx = pixmap.width, ny = pixmap.height
        // A drop reaches at most this far (output pixels) from its centre (lanczos3: 3/r), so a
        // pixel centred farther from this band's rows is left to the other bands untouched.
        let reach = 2 + 4 / max(o.pixelScaleRatio, 1e-3) + 2 * o.pixfrac
        let lowest = Double(rows.lowerBound) - 0.5 - reach, highest = Double(rows.upperBound) - 0.5 + reach
        let banded = rows.count < height
        for j in 0..<ny {
            for i in 0..<nx {
                let k = j * nx + i
                if banded, pixmap.y[k] < lowest || pixmap.y[k] > highest { continue }
                let w = (weights?[k] ?? 1) * o.weightScale
                let d = data[k] * o.iscale
                let q = inDQ?[k] ?? 0
                switch kernel {
                case .point:
                    let ox = pixmap.x[k], oy = pixmap.y[k]
                    guard ox.isFinite, oy.isFinite else { miss(oy); continue }
                    let ii = Int(ox.rounded()), jj = Int(oy.rounded())
                    guard ii >= 0, ii < width, rows.contains(jj) else { continue }
                    update(ii, jj, d, w, q)
                case .square:
                    guard let c = squareCorners(pixmap, i, j, o.pixfrac / 2) else { miss(pixmap.y[k]); continue }
                    dropSquare(c, d, Double(w), q)
                case .turbo, .gaussian, .lanczos2, .lanczos3:
                    let ox = pixmap.x[k], oy = pixmap.y[k]
                    guard ox.isFinite, oy.isFinite else { miss(oy); continue }
                    dropAt(ox, oy, kernel, d, w, q, o)
                }
            }
        }
        return missed
    }

    /// The kernels centred on the drop's mapped centre, whose size is set by r and pixfrac.
    private func dropAt(_ ox: Double, _ oy: Double, _ kernel: DrizzleOptions.Kernel, _ d: Float, _ w: Float, _ q: UInt32,
                        _ o: DrizzleOptions) {
        let r = o.pixelScaleRatio, pixfrac = o.pixfrac
        let rowLo = rows.lowerBound, rowHi = rows.upperBound - 1
        func range(_ lo: Double, _ hi: Double, _ first: Int, _ last: Int) -> ClosedRange<Int>? {
            let a = max(Int(lo.rounded()), first), b = min(Int(hi.rounded()), last)
            return a <= b ? a...b : nil
        }
        switch kernel {
        case .turbo:
            // An axis-aligned box of side pixfrac/r output pixels, whatever the rotation.
            let pfo = pixfrac / r / 2
            let xlo = ox - pfo, xhi = ox + pfo, ylo = oy - pfo, yhi = oy + pfo
            guard let xs = range(xlo, xhi, 0, width - 1), let ys = range(ylo, yhi, rowLo, rowHi) else { return }
            let scale = r * r / (pixfrac * pixfrac)
            for jj in ys {
                let fy = min(yhi, Double(jj) + 0.5) - max(ylo, Double(jj) - 0.5)
                guard fy > 0 else { continue }
                for ii in xs {
                    let fx = min(xhi, Double(ii) + 0.5) - max(xlo, Double(ii) - 0.5)
                    guard fx > 0 else { continue }
                    update(ii, jj, d, Float(fx * fy * scale * Double(w)), q)
                }
            }
        case .gaussian:
            // Point samples of a unit-integral Gaussian of sigma pixfrac/(2.3548 r) output pixels.
            let fw = 2.3548, nsig = 2.5
            let pfo = max(nsig * pixfrac / fw / r, 1.2 / r)
            let efac = fw * fw * r * r / (pixfrac * pixfrac) / 2, es = efac / .pi
            guard let xs = range(ox - pfo, ox + pfo, 0, width - 1), let ys = range(oy - pfo, oy + pfo, rowLo, rowHi) else { return }
            for jj in ys {
                for ii in xs {
                    let dx = ox - Double(ii), dy = oy - Double(jj)
                    update(ii, jj, d, Float(es * exp(-(dx * dx + dy * dy) * efac)) * w, q)
                }
            }
        case .lanczos2, .lanczos3:
            let lut = kernel == .lanczos2 ? Lanczos.two : Lanczos.three
            let pfo = Double(lut.order) / r
            let x0 = max(Int((ox - pfo).rounded(.down)) + 1, 0), x1 = min(Int((ox + pfo).rounded(.down)), width - 1)
            let y0 = max(Int((oy - pfo).rounded(.down)) + 1, rowLo), y1 = min(Int((oy + pfo).rounded(.down)), rowHi)
            guard x0 <= x1, y0 <= y1 else { return }
            for jj in y0...y1 {
                let ky = Int((abs(oy - Double(jj)) * r / Lanczos.spacing).rounded())
                guard ky < lut.values.count else { continue }
                for ii in x0...x1 {
                    let kx = Int((abs(ox - Double(ii)) * r / Lanczos.spacing).rounded())
                    guard kx < lut.values.count else { continue }
                    update(ii, jj, d, lut.values[kx] * lut.values[ky] * w, q)
                }
            }
        case .square, .point:
            break
        }
    }

    /// drizzle's update: a weighted mean kept in float32 between steps.
    @inline(__always)
    private func update(_ ii: Int, _ jj: Int, _ d: Float, _ dow: Float, _ q: UInt32) {
        guard dow != 0 else { return }
        let p = jj * width + ii
        let vc = weight[p]
        // A negative lanczos lobe can cancel the weight so far: the C core divides by ~0 there.
        guard abs(Double(vc) + Double(dow)) > 1e-30 || vc == 0 else { return }
        if vc == 0 { image[p] = d } else {
            image[p] = Float((Double(image[p]) * Double(vc) + Double(dow) * Double(d)) / (Double(vc) + Double(dow)))
        }
        weight[p] = Float(Double(vc) + Double(dow))
        if let context, dow > 0 { context[p] |= bit }
        if let dq { dq[p] |= q }
    }

    /// The drop's corners on the output, clockwise from top-left, or nil when one is NaN.
    @inline(__always)
    private func squareCorners(_ m: Pixmap, _ i: Int, _ j: Int, _ h: Double) -> Quad? {
        let nx = m.width, ny = m.height
        var q = Quad()
        let interior = i > 0 && i < nx - 2 && j > 0 && j < ny - 2
        let a = (1 - h) * (1 - h), b = h * (1 - h), e = h * h
        for c in 0..<4 {
            let sx = c == 0 || c == 3 ? -1 : 1, sy = c < 2 ? 1 : -1
            let p: (Double, Double)
            if interior {
                // The bilinear weights of the corner's cell, from the 3x3 neighbourhood.
                let k = j * nx + i, dx = sx, dy = sy * nx
                p = (a * m.x[k] + b * m.x[k + dx] + b * m.x[k + dy] + e * m.x[k + dx + dy],
                     a * m.y[k] + b * m.y[k + dx] + b * m.y[k + dy] + e * m.y[k + dx + dy])
            } else {
                p = m.interpolate(Double(i) + Double(sx) * h, Double(j) + Double(sy) * h)
            }
            guard p.0.isFinite, p.1.isFinite else { return nil }
            q[c] = p
        }
        return q
    }

    /// Spreads one square drop: weight w·overlap/area to each output pixel it covers.
    private func dropSquare(_ q: Quad, _ d: Float, _ w: Double, _ bits: UInt32) {
        let j0 = max(Int(min(q.y0, q.y1, q.y2, q.y3).rounded()), rows.lowerBound)
        let j1 = min(Int(max(q.y0, q.y1, q.y2, q.y3).rounded()), rows.upperBound - 1)
        guard j0 <= j1 else { return }
        let i0 = max(Int(min(q.x0, q.x1, q.x2, q.x3).rounded()), 0), i1 = min(Int(max(q.x0, q.x1, q.x2, q.x3).rounded()), width - 1)
        guard i0 <= i1 else { return }
        let jaco = 0.5 * ((q.x1 - q.x3) * (q.y0 - q.y2) - (q.x0 - q.x2) * (q.y1 - q.y3))
        let wj = w / jaco
        for jj in j0...j1 {
            for ii in i0...i1 {
                let a = DrizzleOutput.overlap(q, ii, jj)
                if a != 0 { update(ii, jj, d, Float(a * wj), bits) }
            }
        }
    }
}

/// A band handed to worker threads, which write only their own rows.
private struct UncheckedBand: @unchecked Sendable { let band: Band }

extension DrizzleOutput {
    /// Signed area of the quadrilateral inside output pixel (ii, jj) (drizzle's "boxer").
    @inline(__always)
    static func overlap(_ q: Quad, _ ii: Int, _ jj: Int) -> Double {
        let ox = Double(ii) - 0.5, oy = Double(jj) - 0.5
        let x0 = q.x0 - ox, x1 = q.x1 - ox, x2 = q.x2 - ox, x3 = q.x3 - ox
        let y0 = q.y0 - oy, y1 = q.y1 - oy, y2 = q.y2 - oy, y3 = q.y3 - oy
        return edgeArea(x0, y0, x1, y1) + edgeArea(x1, y1, x2, y2) + edgeArea(x2, y2, x3, y3) + edgeArea(x3, y3, x0, y0)
    }

    /// Signed area between an edge and y = 0, inside the unit square.
    @inline(__always)
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

/// The C core's Lanczos tables: sinc(x)·sinc(x/a) sampled every 0.003 input pixels.
enum Lanczos {
    static let spacing = 0.003
    struct Table: Sendable { let order: Int; let values: [Float] }
    static let two = table(2), three = table(3)

    static func table(_ a: Int) -> Table {
        let n = Int((Double(a) / spacing).rounded(.up)) + 1
        var v = [Float](repeating: 0, count: n)
        v[0] = 1
        for k in 1..<n {
            let x = Double(k) * spacing
            guard x <= Double(a) else { continue }
            let px = Double.pi * x, pa = px / Double(a)
            v[k] = Float(sin(px) * sin(pa) / (px * pa))
        }
        return Table(order: a, values: v)
    }
}

/// A drop's four corners on the output, clockwise from top-left, without an allocation.
struct Quad {
    var x0 = 0.0, y0 = 0.0, x1 = 0.0, y1 = 0.0, x2 = 0.0, y2 = 0.0, x3 = 0.0, y3 = 0.0
    subscript(c: Int) -> (Double, Double) {
        get { switch c { case 0: (x0, y0); case 1: (x1, y1); case 2: (x2, y2); default: (x3, y3) } }
        set { switch c { case 0: (x0, y0) = newValue; case 1: (x1, y1) = newValue; case 2: (x2, y2) = newValue; default: (x3, y3) = newValue } }
    }
}
