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
        /// As `--fillval` takes it and FILLVAL records it: NaN, INDEF or the number.
        public var text: String { switch self { case .nan: "NaN"; case .indef: "INDEF"; case .value(let v): "\(v)" } }
        /// The inverse of `text` (case-insensitive); nil for anything else.
        public init?(text: String) {
            switch text.lowercased() {
            case "nan": self = .nan
            case "indef": self = .indef
            default: guard let v = Float(text) else { return nil }; self = .value(v)
            }
        }
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
    /// When the output is one band of a larger grid (`DrizzleOutput.firstRow`): the grid's rows
    /// (0..<512 for any band of a 512-row grid). The overlap scanner clips each input to the
    /// whole grid, so a mosaic drizzled band by band is the one drizzled at once. nil: the
    /// output is the whole grid.
    public var gridRows: Range<Int>? = nil
    /// Likewise the grid's columns when the output is one tile of a larger grid
    /// (`DrizzleOutput.firstColumn`); nil: the output's own columns are the grid's.
    public var gridColumns: Range<Int>? = nil
    public init() {}
}

/// The output planes, accumulated over `add` calls.
public struct DrizzleOutput: Sendable {
    public let width: Int
    public let height: Int
    /// The grid row this output's first row is (a band of a larger grid; pixmaps stay in the
    /// grid's coordinates, so a mosaic drizzled band by band gives the same bits as in one go).
    public let firstRow: Int
    /// Likewise the grid column of this output's first column (a tile of a larger grid).
    public let firstColumn: Int
    public var image: [Float]
    public var weight: [Float]
    /// Context: bit k of plane k / 32 is set where input k contributed with positive weight.
    public var context: [[Int32]]
    /// The OR of the DQ bits of every input pixel that reached each output pixel (drizzle's
    /// propagate_dq), present once an input brought a DQ plane.
    public var dq: [UInt32]?
    /// The variance of each output value, propagated from the inputs' errors (`add(errors:)`):
    /// Σ (a·w)²·σ² / (Σ a·w)² over the drops' overlaps a and weights w — each output pixel's own
    /// variance, correlations between pixels not counted. Present once an input brought errors.
    public var variance: [Float]?
    /// Inputs added so far.
    public private(set) var count = 0
    public private(set) var exposure = 0.0

    /// `context`: the first context plane is made here with the others (later ones as inputs
    /// past 32 need them), as the C core's caller allocates its own.
    public init(width: Int, height: Int, fill: DrizzleOptions.Fill = .nan, firstRow: Int = 0, firstColumn: Int = 0, context: Bool = false) {
        self.width = width; self.height = height; self.firstRow = firstRow; self.firstColumn = firstColumn
        let start = fill.initialValue
        image = [Float](parallelRepeating: start, count: width * height)
        weight = [Float](parallelRepeating: 0, count: width * height)
        self.context = context ? [[Int32](parallelRepeating: 0, count: width * height)] : []
    }

    /// Drizzles one input (`data` row-major over the pixmap's grid; `weights` nil = 1 each, 0
    /// excludes a pixel; `dq` bits ORed into the output DQ wherever a pixel lands with non-zero
    /// weight). Returns how many of the input pixels visited had no usable mapping.
    ///
    /// Only the input pixels the C core's overlap scanner selects are visited (OverlapScanner:
    /// those inside the input's overlap with the output, mapped back onto the input); when the
    /// input does not overlap the output, or has too few mapped pixels, nothing is drizzled (the
    /// input keeps its context bit).
    ///
    /// The output is cut into row bands, one per core; each band walks the scanned input in the
    /// same order (`StripWalk`: strips of columns, row by row; the C core takes whole rows) and
    /// keeps only the updates that fall in its rows, so every output pixel sees the same
    /// sequence of updates as on one thread: the result does not depend on the number of
    /// threads. Within one input each band keeps weighted sums (the C core divides at every
    /// update) and turns them back into means once at the end: the same numbers to float32
    /// rounding, without a division per update (Lanczos keeps the C core's running mean).
    ///
    /// `data`, `weights` and `dq` may hold only the input rows from `firstInputRow` on that
    /// `inputRows` names (a band or tile of a larger grid reads no more); the pixmap is whole.
    @discardableResult
    public mutating func add(_ data: [Float], weights: [Float]? = nil, dq inDQ: [UInt32]? = nil, errors: [Float]? = nil, pixmap: Pixmap,
                             firstInputRow: Int = 0, exposure t: Double = 1, options o: DrizzleOptions) -> Int {
        precondition(data.count % pixmap.width == 0 && firstInputRow >= 0 && firstInputRow + data.count / pixmap.width <= pixmap.height,
                     "data must be whole rows of the pixmap")
        precondition(weights == nil || weights!.count == data.count, "weights must match the data")
        precondition(inDQ == nil || inDQ!.count == data.count, "dq must match the data")
        precondition(errors == nil || errors!.count == data.count, "errors must match the data")
        if inDQ != nil && dq == nil { dq = [UInt32](parallelRepeating: 0, count: width * height) }
        if errors != nil && variance == nil { variance = [Float](parallelRepeating: .nan, count: width * height) }
        let plane = count / 32, bit = Int32(bitPattern: UInt32(1) << UInt32(count % 32))
        if o.context && plane >= context.count { context.append([Int32](parallelRepeating: 0, count: width * height)) }
        let kernel: DrizzleOptions.Kernel = o.pixfrac <= 0.001 ? .point : o.kernel
        let own = firstRow..<(firstRow + height), columns = firstColumn..<(firstColumn + width)
        guard let scanner = OverlapScanner(pixmap, outputColumns: o.gridColumns ?? columns, outputRows: o.gridRows ?? own), !data.isEmpty else {
            count += 1
            exposure += t
            return 0
        }
        let bands = width * height >= 1 << 16 ? min(Parallel.threads, height) : 1
        let reach = Band.reach(o)
        let missed = Atomic<Int>(0)
        let (w, h, first, left) = (width, height, firstRow, firstColumn)
        // The planes are taken out of self while threads write into them.
        var img = image, wht = weight, ctx = o.context ? context[plane] : [], odq = inDQ != nil ? dq! : []
        var vars = errors != nil ? variance! : []
        image = []; weight = []
        if o.context { context[plane] = [] }
        if inDQ != nil { dq = [] }
        if errors != nil { variance = [] }
        let inputs = (data, weights ?? [], inDQ ?? [], pixmap.x, pixmap.y, errors ?? [])
        inputs.0.withUnsafeBufferPointer { dp in
        inputs.1.withUnsafeBufferPointer { wp in
        inputs.2.withUnsafeBufferPointer { qp in
        inputs.3.withUnsafeBufferPointer { xp in
        inputs.4.withUnsafeBufferPointer { yp in
        img.withUnsafeMutableBufferPointer { ip in
        wht.withUnsafeMutableBufferPointer { op in
        ctx.withUnsafeMutableBufferPointer { cp in
        odq.withUnsafeMutableBufferPointer { oq in
        inputs.5.withUnsafeBufferPointer { ep in
        vars.withUnsafeMutableBufferPointer { vp in
            let source = BandInput(data: dp.baseAddress!, weights: weights != nil ? wp.baseAddress : nil,
                                   dq: inDQ != nil ? qp.baseAddress : nil, errors: errors != nil ? ep.baseAddress : nil,
                                   x: xp.baseAddress!, y: yp.baseAddress!,
                                   width: pixmap.width, height: pixmap.height, offset: firstInputRow * pixmap.width)
            let shared = UncheckedBand(band: Band(image: ip.baseAddress!, weight: op.baseAddress!,
                                                  context: o.context ? cp.baseAddress! : nil,
                                                  dq: inDQ != nil ? oq.baseAddress! : nil, variance: errors != nil ? vp.baseAddress! : nil,
                                                  bit: bit, width: w, height: h, firstRow: first, firstColumn: left,
                                                  incremental: kernel == .lanczos2 || kernel == .lanczos3),
                                       input: source)
            let walk = StripWalk(scanner, y: yp.baseAddress!, width: pixmap.width)
            let reached = walk.rowsReached(reach: reach, rows: own)
            // Each band an equal share of the rows this input reaches, where its drops land about
            // evenly, rather than of the output's: the bands then finish together (halves of the
            // output left one thread up to a tenth of a mosaic's input waiting for the other).
            let split = reached.isEmpty ? own : reached
            @Sendable func edge(_ b: Int) -> Int { b == 0 ? first : b == bands ? first + h : split.lowerBound + split.count * b / bands }
            Parallel.forEachBlock(count: bands) { range in
                for b in range {
                    var mine = shared.band
                    mine.rows = edge(b)..<edge(b + 1)
                    if mine.rows.isEmpty { continue }
                    let mean = mine.rows.clamped(to: reached)
                    mine.toSums(mean)
                    let m = mine.drizzle(shared.input, scanner, walk, kernel, o, reach: reach)
                    mine.toMeans(mean, fill: o.fill.initialValue)
                    missed.add(m, ordering: .relaxed)
                }
            }
        }}}}}}}}}}}
        image = img; weight = wht
        if o.context { context[plane] = ctx }
        if inDQ != nil { dq = odq }
        if errors != nil { variance = vars }
        count += 1
        exposure += t
        return missed.load(ordering: .relaxed)
    }

    /// The input rows whose pixels `add` would read for this output: those the overlap scanner
    /// visits and whose centre (or NaN) is within the kernel's reach of this output's rows and
    /// columns when they are not the whole grid's; every visited row otherwise. Empty when
    /// nothing would be drizzled. A band or tile reads its inputs by these rows only.
    public func inputRows(_ pixmap: Pixmap, options o: DrizzleOptions) -> Range<Int> {
        let own = firstRow..<(firstRow + height), columns = firstColumn..<(firstColumn + width)
        guard let scanner = OverlapScanner(pixmap, outputColumns: o.gridColumns ?? columns, outputRows: o.gridRows ?? own) else { return 0..<0 }
        let window = Window(rows: own, columns: columns, grid: (o.gridRows ?? own, o.gridColumns ?? columns), reach: Band.reach(o))
        var lo = Int.max, hi = Int.min
        for j in scanner.rows {
            for i in scanner.columns(j) where !window.skips(pixmap.x[j * pixmap.width + i], pixmap.y[j * pixmap.width + i]) {
                lo = min(lo, j); hi = j
                break
            }
        }
        return lo <= hi ? lo..<(hi + 1) : 0..<0
    }
}

/// Which input pixels a window of the grid (a thread's band, a tile) leaves to the others: those
/// centred farther than the kernel's reach from its rows, or columns, when these are not the
/// whole grid's (a NaN centre is never left out: the kernel decides).
struct Window {
    let rowsLimited: Bool, lowest: Double, highest: Double
    let columnsLimited: Bool, leftmost: Double, rightmost: Double

    init(rows: Range<Int>, columns: Range<Int>, grid: (rows: Range<Int>, columns: Range<Int>), reach: Double, banded: Bool = false) {
        rowsLimited = banded || rows != grid.rows
        lowest = Double(rows.lowerBound) - 0.5 - reach; highest = Double(rows.upperBound) - 0.5 + reach
        columnsLimited = columns != grid.columns
        leftmost = Double(columns.lowerBound) - 0.5 - reach; rightmost = Double(columns.upperBound) - 0.5 + reach
    }

    @inline(__always)
    func skips(_ ox: Double, _ oy: Double) -> Bool { skipsRow(oy) || skipsColumn(ox) }
    @inline(__always) func skipsRow(_ oy: Double) -> Bool { rowsLimited && (oy < lowest || oy > highest) }
    @inline(__always) func skipsColumn(_ ox: Double) -> Bool { columnsLimited && (ox < leftmost || ox > rightmost) }
}

/// One input as the bands read it: pixels, weights, DQ and the pixmap, row-major; the pixels,
/// weights and DQ may start at a later row than the pixmap (`offset` entries in).
struct BandInput {
    let data: UnsafePointer<Float>
    let weights: UnsafePointer<Float>?
    let dq: UnsafePointer<UInt32>?
    /// 1σ errors of the data (variance propagation), or nil.
    let errors: UnsafePointer<Float>?
    let x: UnsafePointer<Double>
    let y: UnsafePointer<Double>
    let width: Int
    let height: Int
    /// Pixmap index − data index.
    let offset: Int

    /// Bilinear interpolation of the map at input position (u, v), extrapolating linearly past
    /// the first and last centres (the C core's interpolate_bilinear: cell index truncated
    /// toward zero, then clamped to the grid's last cell).
    @inline(__always)
    func interpolate(_ u: Double, _ v: Double) -> (Double, Double) {
        let i0 = min(max(Int(u), 0), width - 2), j0 = min(max(Int(v), 0), height - 2)
        let fx = u - Double(i0), fy = v - Double(j0)
        let k = j0 * width + i0
        let a = (1 - fx) * (1 - fy), b = fx * (1 - fy), c = (1 - fx) * fy, d = fx * fy
        return (x[k] * a + x[k + 1] * b + x[k + width] * c + x[k + width + 1] * d,
                y[k] * a + y[k + 1] * b + y[k + width] * c + y[k + width + 1] * d)
    }
}

/// One thread's share of the output: rows `rows` of the image, weight and context planes.
struct Band {
    let image: UnsafeMutablePointer<Float>
    let weight: UnsafeMutablePointer<Float>
    let context: UnsafeMutablePointer<Int32>?
    let dq: UnsafeMutablePointer<UInt32>?
    /// The propagated variance (`DrizzleOutput.variance`), or nil.
    let variance: UnsafeMutablePointer<Float>?
    let bit: Int32
    let width: Int
    let height: Int
    /// The planes' first row and column in grid numbering (`update` takes grid rows and columns).
    let firstRow: Int, firstColumn: Int
    /// The grid columns these planes hold (a tile's; the whole width otherwise).
    let columns: Range<Int>
    /// Keep the mean at every update, as the C core does, instead of weighted sums: for the
    /// Lanczos kernels, whose negative lobes make float32 sums lose digits as weights cancel.
    let incremental: Bool
    var rows = 0..<0

    init(image: UnsafeMutablePointer<Float>, weight: UnsafeMutablePointer<Float>, context: UnsafeMutablePointer<Int32>?,
         dq: UnsafeMutablePointer<UInt32>?, variance: UnsafeMutablePointer<Float>? = nil, bit: Int32, width: Int, height: Int,
         firstRow: Int = 0, firstColumn: Int = 0, incremental: Bool = false) {
        self.image = image; self.weight = weight; self.context = context; self.dq = dq; self.variance = variance; self.bit = bit
        self.width = width; self.height = height; self.incremental = incremental
        self.firstRow = firstRow; self.firstColumn = firstColumn
        columns = firstColumn..<(firstColumn + width)
        rows = firstRow..<(firstRow + height)
    }

    /// How far (output pixels) a drop reaches from its centre (lanczos3: 3/r), with room for
    /// square drops stretched by distortion.
    static func reach(_ o: DrizzleOptions) -> Double { 2 + 4 / max(o.pixelScaleRatio, 1e-3) + 2 * o.pixfrac }

    /// Means → weighted sums over these rows (0 where nothing landed yet); variances → Σ (a·w)²σ².
    func toSums(_ r: Range<Int>) {
        let span = ((r.lowerBound - firstRow) * width)..<((r.upperBound - firstRow) * width)
        if let variance { for p in span { variance[p] = weight[p] != 0 ? variance[p] * weight[p] * weight[p] : 0 } }
        guard !incremental else { return }
        for p in span { image[p] = weight[p] != 0 ? image[p] * weight[p] : 0 }
    }

    /// Weighted sums → means over these rows; `fill` where the weight is still zero.
    func toMeans(_ r: Range<Int>, fill: Float) {
        if let variance {
            for p in ((r.lowerBound - firstRow) * width)..<((r.upperBound - firstRow) * width) {
                variance[p] = weight[p] != 0 ? variance[p] / (weight[p] * weight[p]) : .nan
            }
        }
        if incremental {
            for p in ((r.lowerBound - firstRow) * width)..<((r.upperBound - firstRow) * width) where weight[p] == 0 { image[p] = fill }
            return
        }
        for p in ((r.lowerBound - firstRow) * width)..<((r.upperBound - firstRow) * width) { image[p] = weight[p] != 0 ? image[p] / weight[p] : fill }
    }

    /// The input pixels the scanner selects, in `walk`'s order; returns those without a mapping.
    func drizzle(_ input: BandInput, _ scanner: OverlapScanner, _ walk: StripWalk, _ kernel: DrizzleOptions.Kernel, _ o: DrizzleOptions,
                 reach: Double) -> Int {
        var missed = 0
        /// Each unmapped pixel is counted by one band only: the one holding its centre's row and
        /// column (the grid's first when unknown), the band that never skips it, so the total does
        /// not depend on the split into threads or into passes or tiles over a larger grid.
        let grid = o.gridRows ?? (firstRow..<(firstRow + height)), gridColumns = o.gridColumns ?? columns
        func miss(_ ox: Double, _ oy: Double) {
            let row = oy.isFinite ? min(max(nearest(oy), grid.lowerBound), grid.upperBound - 1) : grid.lowerBound
            let column = ox.isFinite ? min(max(nearest(ox), gridColumns.lowerBound), gridColumns.upperBound - 1) : gridColumns.lowerBound
            if rows.contains(row) && columns.contains(column) { missed += 1 }
        }
        let nx = input.width
        // A pixel centred farther than `reach` from this band's rows or columns is left to the
        // other bands (`DrizzleOutput.inputRows` reads no rows for it).
        let window = Window(rows: rows, columns: columns, grid: (grid, gridColumns), reach: reach, banded: rows.count < height)
        let limited = window.rowsLimited || window.columnsLimited
        let half = o.pixfrac / 2, scale = o.weightScale, iscale = o.iscale
        // The C core keeps the ratio in single precision (its Lanczos table index depends on it).
        let r = Double(Float(o.pixelScaleRatio))
        let turboHalf = o.pixfrac / r / 2, turboScale = r * r / (o.pixfrac * o.pixfrac)
        let lut = kernel == .lanczos2 ? Lanczos.two : Lanczos.three
        let gaussReach = max(2.5 * o.pixfrac / 2.3548 / r, 1.2 / r), gaussFactor = 2.3548 * 2.3548 * r * r / (o.pixfrac * o.pixfrac) / 2
        if kernel == .point && input.dq == nil && input.errors == nil && variance == nil && dq == nil && !incremental {
            // The point kernel without DQ, errors or variance: its drop is a few instructions, and
            // the general loop's per-pixel checks took a third of its time. nearest(ox) lies in
            // `columns` exactly when ox + 0.5 lies in [lower, upper) and is positive (nearest
            // rounds −0.5 to −1); Int() then truncates it to nearest(ox).
            let lowX = max(Double(columns.lowerBound), .leastNonzeroMagnitude), highX = Double(columns.upperBound)
            let lowY = max(Double(rows.lowerBound), .leastNonzeroMagnitude), highY = Double(rows.upperBound)
            let weights = input.weights
            for strip in 0..<walk.strips {
                for j in scanner.rows where !walk.misses(window, strip: strip, row: j) {
                    for i in walk.columns(scanner, strip: strip, row: j) {
                        let k = j * nx + i, kd = k - input.offset
                        let w = (weights?[kd] ?? 1) * scale
                        if w == 0 { continue }
                        let ox = input.x[k], oy = input.y[k]
                        let tx = ox + 0.5, ty = oy + 0.5
                        guard tx >= lowX, tx < highX, ty >= lowY, ty < highY else {
                            if !(ox.isFinite && oy.isFinite) { miss(ox, oy) }
                            continue
                        }
                        let p = (Int(ty) - firstRow) * width + (Int(tx) - firstColumn)
                        image[p] += w * (input.data[kd] * iscale)
                        weight[p] += w
                        if let context { context[p] |= w > 0 ? bit : 0 }
                    }
                }
            }
            return missed
        }
        if kernel == .turbo && input.dq == nil && input.errors == nil && variance == nil && dq == nil && context == nil && !incremental {
            // The turbo kernel onto image and weight alone (the outliers' single drizzles): the
            // general loop's steps, in a loop small enough for the drop to be inlined, its
            // branches on planes that are absent gone; four drops a step where all four drop
            // (not skipped, weight ≠ 0, mapped), their boxes in vector lanes (`TurboLanes`),
            // then each lane's updates in turn, the same additions in the same order.
            typealias V = SIMD4<Double>
            for strip in 0..<walk.strips {
                for j in scanner.rows where !walk.misses(window, strip: strip, row: j) {
                    let segment = walk.columns(scanner, strip: strip, row: j)
                    var i = segment.lowerBound
                    while i < segment.upperBound {
                        let k = j * nx + i, kd = k - input.offset
                        if i + 4 <= segment.upperBound {
                            let x = UnsafeRawPointer(input.x + k).loadUnaligned(as: V.self)
                            let y = UnsafeRawPointer(input.y + k).loadUnaligned(as: V.self)
                            let w4 = (input.weights.map { UnsafeRawPointer($0 + kd).loadUnaligned(as: SIMD4<Float>.self) }
                                      ?? SIMD4<Float>(repeating: 1)) * scale
                            var ready = all(((x - x) + (y - y)) .== V(repeating: 0)) && !any(w4 .== SIMD4<Float>(repeating: 0))
                            if ready && limited {
                                for l in 0..<4 where window.skips(x[l], y[l]) { ready = false }
                            }
                            if ready {
                                let ws = V(repeating: turboScale) * V(Double(w4[0]), Double(w4[1]), Double(w4[2]), Double(w4[3]))
                                let lanes = TurboLanes(x: x, y: y, half: turboHalf, ws: ws, rows: rows, columns: columns)
                                for l in 0..<4 {
                                    let d = input.data[kd + l] * iscale
                                    guard lanes.usual[l] else { dropTurbo(x[l], y[l], turboHalf, turboScale, d, w4[l], 0, 0); continue }
                                    let fx1 = lanes.fx1[l] > 0, fy1 = lanes.fy1[l] > 0
                                    let keepLower = SIMD2<Int32>(1, fx1 ? 1 : 0) .!= 0, keepUpper = SIMD2<Int32>(fy1 ? 1 : 0, fy1 && fx1 ? 1 : 0) .!= 0
                                    updateBlock(Int(lanes.m0[l]), Int(lanes.n0[l]), d,
                                                lower: SIMD2(Float(lanes.w00[l]), Float(lanes.w01[l])), upper: SIMD2(Float(lanes.w10[l]), Float(lanes.w11[l])),
                                                keepLower: keepLower, keepUpper: keepUpper, 0, 0)
                                }
                                i += 4
                                continue
                            }
                        }
                        // This pixel alone.
                        i += 1
                        let ox = input.x[k], oy = input.y[k]
                        if limited, window.skips(ox, oy) { continue }
                        let w = (input.weights?[kd] ?? 1) * scale
                        if w == 0 { continue }
                        guard ox.isFinite, oy.isFinite else { miss(ox, oy); continue }
                        dropTurbo(ox, oy, turboHalf, turboScale, input.data[kd] * iscale, w, 0, 0)
                    }
                }
            }
            return missed
        }
        if kernel == .square {
            // The corners a row segment at a time (eight planes of nx, see squareCorners), then
            // four drops a step where all four drop (not skipped, weight ≠ 0, mapped): their
            // geometry in vector lanes (`SquareLanes`), then each lane's updates in turn, so the
            // sums take the same additions in the same order as one drop at a time (weighted
            // sums: only the Lanczos kernels keep running means).
            let corners = UnsafeMutablePointer<Double>.allocate(capacity: 8 * nx)
            defer { corners.deallocate() }
            for strip in 0..<walk.strips {
                for j in scanner.rows where !walk.misses(window, strip: strip, row: j) {
                    let segment = walk.columns(scanner, strip: strip, row: j)
                    squareCorners(input, row: j, segment, half, into: corners)
                    var i = segment.lowerBound
                    while i < segment.upperBound {
                        var ready = i + 4 <= segment.upperBound
                        if ready {
                            for l in 0..<4 {
                                let k = j * nx + i + l
                                if limited, window.skips(input.x[k], input.y[k]) { ready = false }
                                if (input.weights?[k - input.offset] ?? 1) * scale == 0 { ready = false }
                            }
                            ready = ready && SquareLanes.finite(corners, column: i, planeSize: nx)
                        }
                        guard ready else {
                            // This pixel alone, as the general loop would.
                            let k = j * nx + i, kd = k - input.offset
                            i += 1
                            if limited, window.skips(input.x[k], input.y[k]) { continue }
                            let w = (input.weights?[kd] ?? 1) * scale
                            if w == 0 { continue }
                            let c = Quad(corners, column: i - 1, planeSize: nx)
                            guard c.isFinite else { miss(input.x[k], input.y[k]); continue }
                            let e2 = input.errors.map { $0[kd] * $0[kd] * iscale * iscale } ?? 0
                            dropSquare(c, input.data[kd] * iscale, Double(w), input.dq?[kd] ?? 0, e2)
                            continue
                        }
                        let lanes = SquareLanes(corners, column: i, planeSize: nx, rows: rows, columns: columns)
                        for l in 0..<4 {
                            let kd = j * nx + i + l - input.offset
                            let w = (input.weights?[kd] ?? 1) * scale
                            let d = input.data[kd] * iscale
                            let q = input.dq?[kd] ?? 0
                            let e2 = input.errors.map { $0[kd] * $0[kd] * iscale * iscale } ?? 0
                            guard lanes.block[l] else {
                                dropSquare(Quad(corners, column: i + l, planeSize: nx), d, Double(w), q, e2)
                                continue
                            }
                            let wj = Double(w) / lanes.jaco[l]
                            let i0 = Int(lanes.i0[l]), j0 = Int(lanes.j0[l])
                            let a00 = lanes.a00[l], a10 = lanes.a10[l], a01 = lanes.a01[l], a11 = lanes.a11[l]
                            let keepLower = SIMD2<Int32>(a00 != 0 ? 1 : 0, a01 != 0 ? 1 : 0) .!= 0
                            let keepUpper = SIMD2<Int32>(a10 != 0 ? 1 : 0, a11 != 0 ? 1 : 0) .!= 0
                            updateBlock(j0, i0, d, lower: SIMD2(Float(a00 * wj), Float(a01 * wj)), upper: SIMD2(Float(a10 * wj), Float(a11 * wj)),
                                        keepLower: keepLower, keepUpper: keepUpper, q, e2)
                        }
                        i += 4
                    }
                }
            }
            return missed
        }
        for strip in 0..<walk.strips {
            for j in scanner.rows where !walk.misses(window, strip: strip, row: j) {
                for i in walk.columns(scanner, strip: strip, row: j) {
                    let k = j * nx + i
                    let oy = input.y[k]
                    if limited, window.skips(input.x[k], oy) { continue }
                    let kd = k - input.offset
                    let w = (input.weights?[kd] ?? 1) * scale
                    // A pixel of weight zero adds nothing (and its data may be NaN).
                    if w == 0 { continue }
                    let d = input.data[kd] * iscale
                    let q = input.dq?[kd] ?? 0
                    let e2 = input.errors.map { $0[kd] * $0[kd] * iscale * iscale } ?? 0
                    switch kernel {
                    case .point:
                        let ox = input.x[k]
                        guard ox.isFinite, oy.isFinite else { miss(ox, oy); continue }
                        let ii = nearest(ox), jj = nearest(oy)
                        guard ii >= columns.lowerBound, ii < columns.upperBound, jj >= rows.lowerBound, jj < rows.upperBound else { continue }
                        update(jj, ii, d, w, q, e2)
                    case .square:
                        preconditionFailure("square drops have their own loop above")
                    case .turbo, .lanczos2, .lanczos3, .gaussian:
                        let ox = input.x[k]
                        guard ox.isFinite, oy.isFinite else { miss(ox, oy); continue }
                        switch kernel {
                        case .turbo: dropTurbo(ox, oy, turboHalf, turboScale, d, w, q, e2)
                        case .gaussian: dropGaussian(ox, oy, gaussReach, gaussFactor, d, w, q, e2)
                        default: dropLanczos(ox, oy, lut, r, d, w, q, e2)
                        }
                    }
                }
            }
        }
        return missed
    }
    /// Turbo: an axis-aligned box of side pixfrac/r output pixels centred on the drop,
    /// whatever the rotation, its weight shared by overlap (`half` = pixfrac/r/2, `scale` =
    /// r²/pixfrac², the box's area inverted).
    @inline(__always)
    private func dropTurbo(_ ox: Double, _ oy: Double, _ half: Double, _ scale: Double, _ d: Float, _ w: Float, _ q: UInt32, _ e2: Float) {
        let xlo = ox - half, xhi = ox + half, ylo = oy - half, yhi = oy + half
        let n0 = nearest(xlo), n1 = nearest(xhi), m0 = nearest(ylo), m1 = nearest(yhi)
        let ws = scale * Double(w)
        if n1 == n0 + 1, m1 == m0 + 1, n0 >= columns.lowerBound, n1 < columns.upperBound, m0 >= rows.lowerBound, m1 < rows.upperBound {
            // The usual box at scales near 1: 2×2 pixels, none clipped by the band. The loop's
            // overlaps reduce to these (the low edge is past the first pixel's, the high edge
            // before the second's), so the weights are the same bits without its bookkeeping.
            let cx = Double(n0) + 0.5, cy = Double(m0) + 0.5
            let fx0 = cx - xlo, fx1 = xhi - (Double(n1) - 0.5), fy0 = cy - ylo, fy1 = yhi - (Double(m1) - 0.5)
            update(m0, n0, d, Float(fx0 * fy0 * ws), q, e2)
            if fx1 > 0 { update(m0, n1, d, Float(fx1 * fy0 * ws), q, e2) }
            if fy1 > 0 {
                update(m1, n0, d, Float(fx0 * fy1 * ws), q, e2)
                if fx1 > 0 { update(m1, n1, d, Float(fx1 * fy1 * ws), q, e2) }
            }
            return
        }
        let i0 = max(n0, columns.lowerBound), i1 = min(n1, columns.upperBound - 1)
        let j0 = max(m0, rows.lowerBound), j1 = min(m1, rows.upperBound - 1)
        guard i0 <= i1, j0 <= j1 else { return }
        for jj in j0...j1 {
            let fy = min(yhi, Double(jj) + 0.5) - max(ylo, Double(jj) - 0.5)
            guard fy > 0 else { continue }
            for ii in i0...i1 {
                let fx = min(xhi, Double(ii) + 0.5) - max(xlo, Double(ii) - 0.5)
                guard fx > 0 else { continue }
                update(jj, ii, d, Float(fx * fy * ws), q, e2)
            }
        }
    }

    /// Lanczos: the C core's table sampled at each output pixel's distance from the centre in
    /// input pixels (|Δ|·r), along x and y, the product as the weight. The x samples are looked
    /// up once per drop, not once per pixel.
    @inline(__always)
    private func dropLanczos(_ ox: Double, _ oy: Double, _ lut: Lanczos.Table, _ r: Double, _ d: Float, _ w: Float, _ q: UInt32, _ e2: Float) {
        let reach = Double(lut.order) / r, step = r / Lanczos.spacing, n = lut.values.count
        let x0 = max(lowest(ox - reach) + 1, columns.lowerBound), x1 = min(lowest(ox + reach), columns.upperBound - 1)
        let y0 = max(lowest(oy - reach) + 1, rows.lowerBound), y1 = min(lowest(oy + reach), rows.upperBound - 1)
        guard x0 <= x1, y0 <= y1 else { return }
        withUnsafeTemporaryAllocation(of: Float.self, capacity: x1 - x0 + 1) { wx in
            for ii in x0...x1 {
                let kx = nearest(abs(ox - Double(ii)) * step)
                // Past the table: no update (a zero weight adds nothing).
                wx[ii - x0] = kx < n ? lut.values[kx] : 0
            }
            for jj in y0...y1 {
                let ky = nearest(abs(oy - Double(jj)) * step)
                guard ky < n else { continue }
                let wy = lut.values[ky]
                for ii in x0...x1 { update(jj, ii, d, wx[ii - x0] * wy * w, q, e2) }
            }
        }
    }

    /// Gaussian: point samples of a unit-integral Gaussian of FWHM pixfrac/r output pixels out
    /// to 2.5 FWHM/2.3548 (at least 1.2/r): `reach`, and `efac` = 2.3548²r²/(2 pixfrac²).
    @inline(__always)
    private func dropGaussian(_ ox: Double, _ oy: Double, _ reach: Double, _ efac: Double, _ d: Float, _ w: Float, _ q: UInt32, _ e2: Float) {
        let i0 = max(nearest(ox - reach), columns.lowerBound), i1 = min(nearest(ox + reach), columns.upperBound - 1)
        let j0 = max(nearest(oy - reach), rows.lowerBound), j1 = min(nearest(oy + reach), rows.upperBound - 1)
        guard i0 <= i1, j0 <= j1 else { return }
        let es = efac / .pi
        for jj in j0...j1 {
            for ii in i0...i1 {
                let dx = ox - Double(ii), dy = oy - Double(jj)
                update(jj, ii, d, Float(es * exp(-(dx * dx + dy * dy) * efac)) * w, q, e2)
            }
        }
    }

    /// `update` of the 2×2 pixels whose lower left is (row, column), lower pair then upper pair,
    /// each pixel only where its `keep` lane is set (as the callers' tests skip `update`): two
    /// pixels a vector, a pixel not kept given −0 to add (an exact no-op, −0 included) and no
    /// bits. The four pixels are distinct, so each one's additions keep their order. Weighted
    /// sums only (not `incremental`).
    @inline(__always)
    private func updateBlock(_ row: Int, _ column: Int, _ d: Float, lower: SIMD2<Float>, upper: SIMD2<Float>,
                             keepLower: SIMDMask<SIMD2<Int32>>, keepUpper: SIMDMask<SIMD2<Int32>>, _ q: UInt32, _ e2: Float) {
        let p = (row - firstRow) * width + (column - firstColumn)
        updatePair(p, d, lower, keepLower, q, e2)
        updatePair(p + width, d, upper, keepUpper, q, e2)
    }

    /// `updateBlock`'s two neighbouring pixels p, p + 1.
    @inline(__always)
    private func updatePair(_ p: Int, _ d: Float, _ dow: SIMD2<Float>, _ keep: SIMDMask<SIMD2<Int32>>, _ q: UInt32, _ e2: Float) {
        typealias F = SIMD2<Float>
        let none = F(repeating: -0.0), skip = .!keep
        let i = UnsafeMutableRawPointer(image + p), w = UnsafeMutableRawPointer(weight + p)
        i.storeBytes(of: i.loadUnaligned(as: F.self) + (dow * d).replacing(with: none, where: skip), as: F.self)
        w.storeBytes(of: w.loadUnaligned(as: F.self) + dow.replacing(with: none, where: skip), as: F.self)
        if let variance {
            let v = UnsafeMutableRawPointer(variance + p)
            v.storeBytes(of: v.loadUnaligned(as: F.self) + (dow * dow * e2).replacing(with: none, where: skip), as: F.self)
        }
        if let context {
            let c = UnsafeMutableRawPointer(context + p)
            let set = SIMD2<Int32>(repeating: bit).replacing(with: 0, where: .!(keep .& (dow .> F(repeating: 0))))
            c.storeBytes(of: c.loadUnaligned(as: SIMD2<Int32>.self) | set, as: SIMD2<Int32>.self)
        }
        if let dq {
            let b = UnsafeMutableRawPointer(dq + p)
            let set = SIMD2<UInt32>(repeating: q).replacing(with: 0, where: .!(keep .& (dow .!= F(repeating: 0))))
            b.storeBytes(of: b.loadUnaligned(as: SIMD2<UInt32>.self) | set, as: SIMD2<UInt32>.self)
        }
    }

    /// drizzle's update, on weighted sums: the data times the weight, and the weight. Without
    /// branches: a zero weight adds nothing and sets no context or DQ bit. Incremental: the C
    /// core's running mean (a cancelling negative lobe that would divide by ~0 is skipped).
    @inline(__always)
    private func update(_ row: Int, _ column: Int, _ d: Float, _ dow: Float, _ q: UInt32, _ e2: Float) {
        let p = (row - firstRow) * width + (column - firstColumn)
        if incremental {
            let vc = Double(weight[p]), total = vc + Double(dow)
            guard dow != 0, vc == 0 || abs(total) > 1e-30 else { return }
            image[p] = vc == 0 ? d : Float((Double(image[p]) * vc + Double(dow) * Double(d)) / total)
            weight[p] = Float(total)
        } else {
            image[p] += dow * d
            weight[p] += dow
        }
        // The variance as Σ (a·w)²σ², whichever form the image is kept in.
        if let variance { variance[p] += dow * dow * e2 }
        if let context { context[p] |= dow > 0 ? bit : 0 }
        if let dq { dq[p] |= dow != 0 ? q : 0 }
    }

    /// The drops' corners on the output, clockwise from top-left, for the pixels `columns` of
    /// input row j, into eight planes of the input's width (x0, y0, x1, y1, x2, y2, x3, y3, each
    /// indexed by column; NaN where the map is). Inside the map each corner blends its cell's
    /// 3×3 neighbourhood, four pixels a step: every lane is the one-pixel arithmetic in its
    /// order, so the same bits; at the map's edges the corners are interpolated.
    @inline(__always)
    private func squareCorners(_ m: BandInput, row j: Int, _ columns: Range<Int>, _ h: Double, into out: UnsafeMutablePointer<Double>) {
        let nx = m.width, ny = m.height
        let a = (1 - h) * (1 - h), b = h * (1 - h), e = h * h
        var i = columns.lowerBound
        if j > 0 && j < ny - 2 {
            typealias V = SIMD4<Double>
            let va = V(repeating: a), vb = V(repeating: b), ve = V(repeating: e)
            // Pixels 1 ..< nx − 2 are inside (the one-pixel rule below).
            while i < columns.upperBound && i < 1 { edgeCorners(m, i, j, h, out); i += 1 }
            while i + 4 <= columns.upperBound && i + 4 <= nx - 2 {
                let k = j * nx + i
                @inline(__always) func at(_ p: UnsafePointer<Double>, _ o: Int) -> V { UnsafeRawPointer(p + k + o).loadUnaligned(as: V.self) }
                @inline(__always) func corner(_ dx: Int, _ dy: Int, _ plane: Int) {
                    let x = va * at(m.x, 0) + vb * at(m.x, dx) + vb * at(m.x, dy) + ve * at(m.x, dx + dy)
                    let y = va * at(m.y, 0) + vb * at(m.y, dx) + vb * at(m.y, dy) + ve * at(m.y, dx + dy)
                    UnsafeMutableRawPointer(out + 2 * plane * nx + i).storeBytes(of: x, as: V.self)
                    UnsafeMutableRawPointer(out + (2 * plane + 1) * nx + i).storeBytes(of: y, as: V.self)
                }
                corner(-1, nx, 0); corner(1, nx, 1); corner(1, -nx, 2); corner(-1, -nx, 3)
                i += 4
            }
            while i < columns.upperBound && i < nx - 2 {
                let k = j * nx + i
                @inline(__always) func corner(_ dx: Int, _ dy: Int, _ plane: Int) {
                    out[2 * plane * nx + i] = a * m.x[k] + b * m.x[k + dx] + b * m.x[k + dy] + e * m.x[k + dx + dy]
                    out[(2 * plane + 1) * nx + i] = a * m.y[k] + b * m.y[k + dx] + b * m.y[k + dy] + e * m.y[k + dx + dy]
                }
                corner(-1, nx, 0); corner(1, nx, 1); corner(1, -nx, 2); corner(-1, -nx, 3)
                i += 1
            }
        }
        while i < columns.upperBound { edgeCorners(m, i, j, h, out); i += 1 }
    }

    /// A drop's corners where the 3×3 neighbourhood is not all inside the map: interpolated
    /// (and extrapolated) bilinearly at the drop's corners in input pixels.
    private func edgeCorners(_ m: BandInput, _ i: Int, _ j: Int, _ h: Double, _ out: UnsafeMutablePointer<Double>) {
        let u = Double(i), v = Double(j), nx = m.width
        (out[i], out[nx + i]) = m.interpolate(u - h, v + h)
        (out[2 * nx + i], out[3 * nx + i]) = m.interpolate(u + h, v + h)
        (out[4 * nx + i], out[5 * nx + i]) = m.interpolate(u + h, v - h)
        (out[6 * nx + i], out[7 * nx + i]) = m.interpolate(u - h, v - h)
    }

    /// Spreads one square drop: weight w·overlap/area to each output pixel it covers.
    private func dropSquare(_ q: Quad, _ d: Float, _ w: Double, _ bits: UInt32, _ e2: Float) {
        // Nearest pixel of a coordinate, by truncation (cheaper than rounding; out-of-range
        // values are clamped below, and a pixel too many only adds a zero overlap).
        @inline(__always) func pixel(_ v: Double) -> Int { Int(min(max(v + 0.5, -1e9), 1e9)) }
        // (Pairwise: the variadic min and max allocate an array when their result is kept.)
        let ylow = min(min(q.y0, q.y1), min(q.y2, q.y3)), yhigh = max(max(q.y0, q.y1), max(q.y2, q.y3))
        let j0 = max(pixel(ylow), rows.lowerBound), j1 = min(pixel(yhigh), rows.upperBound - 1)
        guard j0 <= j1 else { return }
        let xlow = min(min(q.x0, q.x1), min(q.x2, q.x3)), xhigh = max(max(q.x0, q.x1), max(q.x2, q.x3))
        let i0 = max(pixel(xlow), columns.lowerBound), i1 = min(pixel(xhigh), columns.upperBound - 1)
        guard i0 <= i1 else { return }
        let jaco = 0.5 * ((q.x1 - q.x3) * (q.y0 - q.y2) - (q.x0 - q.x2) * (q.y1 - q.y3))
        let wj = w / jaco
        let sides = DropSides(q)
        // A drop inside a block of 2×2 pixels (the usual one at scales near 1) in one go.
        let ox = Double(i0) - 0.5, oy = Double(j0) - 0.5
        if i1 == i0 + 1, j1 == j0 + 1, xlow >= ox, xhigh <= ox + 2, ylow >= oy, yhigh <= oy + 2 {
            let (a00, a10, a01, a11) = sides.block(ox, oy)
            if a00 != 0 { update(j0, i0, d, Float(a00 * wj), bits, e2) }
            if a10 != 0 { update(j1, i0, d, Float(a10 * wj), bits, e2) }
            if a01 != 0 { update(j0, i1, d, Float(a01 * wj), bits, e2) }
            if a11 != 0 { update(j1, i1, d, Float(a11 * wj), bits, e2) }
            return
        }
        // Column by column: the four sides clipped to the column once, then every row of it.
        for ii in i0...i1 {
            let column = sides.column(Double(ii) - 0.5)
            for jj in j0...j1 {
                let a = column.area(Double(jj) - 0.5)
                if a != 0 { update(jj, ii, d, Float(a * wj), bits, e2) }
            }
        }
    }
}

/// The nearest integer, halves away from zero (the C core's fortran_round), without the libm
/// call `rounded()` makes on baseline x86-64; coordinates far outside any grid are clamped.
@inline(__always) func nearest(_ x: Double) -> Int {
    let v = min(max(x, -1e15), 1e15)
    return v >= 0 ? Int(v + 0.5) : -Int(0.5 - v)
}

/// floor(x) as an integer, likewise.
@inline(__always) func lowest(_ x: Double) -> Int {
    let v = min(max(x, -1e15), 1e15), i = Int(v)
    return Double(i) > v ? i - 1 : i
}

/// A band handed to worker threads, which write only their own rows.
private struct UncheckedBand: @unchecked Sendable { let band: Band; let input: BandInput }

/// The C core's Lanczos tables: sinc(x)·sinc(x/a) sampled every 0.003 input pixels, made once
/// and kept for the life of the process (read through a plain pointer in the hot loop).
enum Lanczos {
    static let spacing = 0.003
    struct Table: @unchecked Sendable { let order: Int; let values: UnsafeBufferPointer<Float> }
    static let two = table(2), three = table(3)

    static func table(_ a: Int) -> Table {
        let n = Int((Double(a) / spacing).rounded(.up)) + 1
        let v = UnsafeMutableBufferPointer<Float>.allocate(capacity: n)
        v.initialize(repeating: 0)
        v[0] = 1
        for k in 1..<n {
            let x = Double(k) * spacing
            guard x <= Double(a) else { continue }
            let px = Double.pi * x, pa = px / Double(a)
            v[k] = Float(sin(px) * sin(pa) / (px * pa))
        }
        return Table(order: a, values: UnsafeBufferPointer(v))
    }
}

/// A drop's four corners on the output, clockwise from top-left, without an allocation.
struct Quad {
    var x0 = 0.0, y0 = 0.0, x1 = 0.0, y1 = 0.0, x2 = 0.0, y2 = 0.0, x3 = 0.0, y3 = 0.0

    init() {}

    /// Column i of eight corner planes of `planeSize` values (x0, y0, x1, … y3).
    @inline(__always)
    init(_ planes: UnsafePointer<Double>, column i: Int, planeSize n: Int) {
        x0 = planes[i]; y0 = planes[n + i]; x1 = planes[2 * n + i]; y1 = planes[3 * n + i]
        x2 = planes[4 * n + i]; y2 = planes[5 * n + i]; x3 = planes[6 * n + i]; y3 = planes[7 * n + i]
    }

    var isFinite: Bool {
        x0.isFinite && y0.isFinite && x1.isFinite && y1.isFinite && x2.isFinite && y2.isFinite && x3.isFinite && y3.isFinite
    }
}
