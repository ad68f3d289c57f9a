import AstroFITS
import AstroImage
import AstroWCS
import Foundation

/// The output HDUs of a resampling, decided from the inputs' headers before any pixel is read
/// (so that a mosaic written band by band knows its layout from the start): SCI, WHT, ERR when
/// the inputs allow it, the variances the inputs have, DQ, and one CON per 32 inputs.
struct ResampleLayout {
    enum ErrorPlane { case fromVariances, fromErr, drizzled }
    let width: Int, height: Int
    let err: ErrorPlane?
    /// VAR_RNOISE, VAR_POISSON, VAR_FLAT: those any input has (with `--no-variance`, none).
    let variances: [String]
    /// The DQ storage type: the narrowest that holds the inputs' DQ/MASK types and no_data.
    let dq: PixelType
    let contextPlanes: Int

    init(_ inputs: [ResampleInput], width: Int, height: Int, options o: ResampleOptions) {
        self.width = width; self.height = height
        let roles: [(String, ResampleInput.Companion)] = [("VAR_RNOISE", .varRnoise), ("VAR_POISSON", .varPoisson), ("VAR_FLAT", .varFlat)]
        variances = o.variance ? roles.filter { role in inputs.contains { $0.has(role.1) } }.map(\.0) : []
        let hasErr = inputs.contains { $0.has(.err) }
        switch o.errorSource {
        case .none: err = nil
        case .fromVar: err = variances.isEmpty ? nil : .fromVariances
        case .fromErr: err = hasErr ? .fromErr : nil
        case .drizErr: err = hasErr ? .drizzled : nil
        case .auto: err = !variances.isEmpty ? .fromVariances : hasErr ? .fromErr : nil
        }
        let widest = inputs.compactMap { $0.dqBitpix }.max() ?? 8
        dq = widest <= 8 ? .uint8 : widest == 16 ? .int16 : .int32
        contextPlanes = o.context ? (inputs.count + 31) / 32 : 0
    }

    /// (EXTNAME, EXTVER, type) of every HDU in order; the primary (SCI) has no EXTNAME.
    var hdus: [(extname: String?, extver: Int?, type: PixelType)] {
        var list: [(String?, Int?, PixelType)] = [(nil, nil, .float32), ("WHT", nil, .float32)]
        if err != nil { list.append(("ERR", nil, .float32)) }
        for name in variances { list.append((name, nil, .float32)) }
        list.append(("DQ", nil, dq))
        for k in 0..<contextPlanes { list.append(("CON", k + 1, .int32)) }
        return list
    }

    /// Working bytes per output pixel while a band is drizzled: the planes and their
    /// accumulators, then the copies made for writing.
    var bytesPerPixel: Int {
        4 + 4 + 4 * contextPlanes + 4 + (err == .drizzled ? 8 : err == .fromErr ? 8 : 0) + 40 * variances.count + 8
    }

    /// Working bytes for one input of `pixels` pixels: the science plane and its prepared copy,
    /// weights, DQ as read and as bits, ERR, and the pixmap (two doubles).
    static func bytesPerInput(_ pixels: Int) -> Int { 40 * pixels }
}

/// The output rows and columns an input can reach (`Resample.reached`): which bands and tiles
/// read it.
struct Reach: Equatable, Sendable {
    let rows: Range<Int>
    let columns: Range<Int>
}

/// What every window of one output grid shares, whether a run drizzles it band by band or a
/// tile job drizzles one tile: the grid, the planes written, where each input can reach, and the
/// pixel-scale ratio of the variances' 1/r² (the first input's, as stcal uses).
struct PassSetup {
    let grid: WCS
    let layout: ResampleLayout
    let reach: [Reach]
    /// The grid's pixel scale at its centre, and its ratio to the first input's.
    let outScale: Double
    let firstRatio: Double

    init(_ inputs: [ResampleInput], grid: WCS, width: Int, height: Int, options o: ResampleOptions) {
        self.grid = grid
        layout = ResampleLayout(inputs, width: width, height: height, options: o)
        reach = inputs.map { Resample.reached($0, grid: grid, width: width, height: height) }
        let centre = { (w: WCS, width: Int, height: Int) in w.pixelScale(x: Double(width - 1) / 2, y: Double(height - 1) / 2) }
        outScale = centre(grid, width, height)
        firstRatio = outScale / centre(inputs[0].wcs, inputs[0].width, inputs[0].height)
    }
}

/// One window of the output grid (a band of rows, or a tile), drizzled from every input that reaches it.
struct ResamplePass {
    /// The window's planes in `ResampleLayout.hdus` order (its rows and columns only).
    var hdus: [OutputHDU] = []
    /// Per input, filled where the input was first read: what was done with it.
    var notes: [Int: Note] = [:]
    var missed = 0
    var kernelTime = Duration.zero
    var kernelSeconds: Double { Double(kernelTime.components.seconds) + Double(kernelTime.components.attoseconds) * 1e-18 }

    struct Note {
        var weights: String
        var step: Int
        var sky: Double
        var exptime: Double
        /// Why it adds nothing, or nil when it was drizzled.
        var unused: String?
    }

    /// Drizzles rows `rows` and columns `columns` of the grid from every input not in `skip`
    /// whose outline (`setup.reach`, in output pixels) meets them. Inputs found unused here are noted
    /// and should be skipped by later bands (those found to land, in `landed`, need not be
    /// checked again); every input keeps its context bit.
    static func run(_ inputs: [ResampleInput], rows: Range<Int>, columns: Range<Int>, setup: PassSetup,
                    skip: Set<Int>, landed: Set<Int> = [], options o: ResampleOptions) throws -> ResamplePass {
        let (grid, layout, reach, outScale, firstRatio) = (setup.grid, setup.layout, setup.reach, setup.outScale, setup.firstRatio)
        let width = columns.count, height = rows.count
        var pass = ResamplePass()
        // The planes keep the grid's row and column numbers, so pixmaps need no shift and every
        // pixel sees the same arithmetic as in one pass over the whole grid.
        var out = DrizzleOutput(width: width, height: height, fill: o.drizzle.fill, firstRow: rows.lowerBound, firstColumn: columns.lowerBound,
                                context: o.context)
        var errOut = layout.err == .drizzled
            ? DrizzleOutput(width: width, height: height, firstRow: rows.lowerBound, firstColumn: columns.lowerBound) : nil
        var variances = Variance.Accumulators(width: width, height: height)
        variances.firstRow = rows.lowerBound
        variances.firstColumn = columns.lowerBound
        for (index, input) in inputs.enumerated() {
            var d = o.drizzle
            d.context = o.context
            d.gridRows = 0..<layout.height
            d.gridColumns = 0..<layout.width
            d.pixelScaleRatio = outScale / input.wcs.pixelScale(x: Double(input.width - 1) / 2, y: Double(input.height - 1) / 2)
            guard !skip.contains(index), reach[index].rows.overlaps(rows), reach[index].columns.overlaps(columns) else {
                // Nothing of it lands here; an empty stand-in keeps its context bit.
                out.add([0], weights: [0], pixmap: Pixmap(width: 1, height: 1, x: [.nan], y: [.nan]), exposure: 0, options: d)
                continue
            }
            let pixmap = Pixmap(from: input.wcs, width: input.width, height: input.height, to: grid, sampling: o.pixmapSampling)
            // Only the input rows whose pixels can reach this window are read.
            let needed = out.inputRows(pixmap, options: d)
            let planes = try input.load(rows: needed)
            let (data, w, bits, sky, exptime, what) = try Resample.prepare(input, planes, o)
            // Whether it lands on the grid at all depends on every pixel's weight, as in one pass:
            // the other rows are read a block at a time up to the first pixel that lands.
            var (weighed, lands) = landed.contains(index) ? (true, true)
                : Resample.landing(pixmap, weights: w, firstRow: needed.lowerBound, width: layout.width, height: layout.height)
            let others = [0..<needed.lowerBound, needed.upperBound..<input.height].flatMap { r in
                stride(from: r.lowerBound, to: r.upperBound, by: 256).map { $0..<min($0 + 256, r.upperBound) }
            }
            for rows in others where !lands {
                let more = try Resample.landing(pixmap, weights: Resample.prepare(input, input.load(rows: rows), o).weights, firstRow: rows.lowerBound,
                                                width: layout.width, height: layout.height)
                (weighed, lands) = (weighed || more.weighed, more.lands)
            }
            let reason = lands ? nil : Resample.unusedReason(weighed: weighed, width: layout.width, height: layout.height)
            pass.notes[index] = Note(weights: what, step: pixmap.step, sky: sky, exptime: exptime, unused: reason)
            guard reason == nil else {
                out.add([0], weights: [0], pixmap: Pixmap(width: 1, height: 1, x: [.nan], y: [.nan]), exposure: 0, options: d)
                continue
            }
            // In counts the data were divided by the exposure time: errors by it, variances by its square.
            let perSecond = o.units == .counts ? Float(1 / exptime) : 1
            func scaled(_ v: [Float]?, _ f: Float) -> [Float]? { f == 1 ? v : v.map { Self.scaled($0, f) } }
            let err = scaled(planes.err, perSecond)
            let clock = ContinuousClock(), start = clock.now
            // from_err: the errors ride along with the data, squared weights and all.
            pass.missed += out.add(data, weights: w, dq: bits, errors: layout.err == .fromErr ? err : nil, pixmap: pixmap,
                                   firstInputRow: needed.lowerBound, exposure: exptime, options: d)
            pass.kernelTime += clock.now - start
            var e = d
            e.context = false
            e.fill = .nan
            if let err, errOut != nil {
                errOut!.add(err.map { $0.isFinite ? $0 : 0 }, weights: w, pixmap: pixmap, firstInputRow: needed.lowerBound, options: e)
            }
            if !layout.variances.isEmpty {
                let f = perSecond * perSecond
                variances.add(rnoise: scaled(planes.varRnoise, f), poisson: scaled(planes.varPoisson, f), flat: scaled(planes.varFlat, f),
                              weights: w, pixmap: pixmap, firstInputRow: needed.lowerBound, options: e, weightType: o.weightType, exptime: exptime)
            }
        }
        pass.hdus = planes(out, errOut, variances.finish(ratio: firstRatio), layout: layout, width: width, height: height,
                           ratio: firstRatio)
        return pass
    }

    /// Each value times `f`, on all cores (a map was a serial pass per input plane).
    static func scaled(_ v: [Float], _ f: Float) -> [Float] {
        [Float](parallelRanges: v.count) { r, out in for p in r { out[p] = v[p] * f } }
    }

    /// The window's output planes in layout order.
    private static func planes(_ out: DrizzleOutput, _ errOut: DrizzleOutput?, _ vars: [(String, [Float])], layout: ResampleLayout,
                               width: Int, height: Int, ratio: Double) -> [OutputHDU] {
        let n = width * height
        func float(_ pixels: [Float], _ name: String?) -> OutputHDU {
            OutputHDU(Image(width: width, height: height, pixels: pixels), extname: name)
        }
        var hdus = [float(out.image, nil), float(out.weight, "WHT")]
        let resampled = Dictionary(uniqueKeysWithValues: vars)
        let varPlanes = layout.variances.map { resampled[$0] ?? [Float](parallelRepeating: .nan, count: n) }
        switch layout.err {
        case .fromVariances:
            // err = √(Σ of the variances), NaN where all are NaN.
            let err = [Float](parallelCount: n) { p in
                var sum = 0.0, any = false
                for v in varPlanes where v[p].isFinite { sum += Double(v[p]); any = true }
                return any ? Float(sum.squareRoot()) : .nan
            }
            hdus.append(float(err, "ERR"))
        case .fromErr:
            let err = out.variance.map { v in [Float](parallelCount: n) { v[$0].squareRoot() } }
            hdus.append(float(err ?? [Float](parallelRepeating: .nan, count: n), "ERR"))
        case .drizzled:
            let scale = Float(ratio)
            let err = errOut.map { e in [Float](parallelCount: n) { [image = e.image] p in image[p] / scale } }
            hdus.append(float(err ?? [Float](parallelRepeating: .nan, count: n), "ERR"))
        case nil:
            break
        }
        for (name, plane) in zip(layout.variances, varPlanes) { hdus.append(float(plane, name)) }
        // DQ: the inputs' bits where they landed (drizzle's propagate_dq), no_data where none did.
        let empty = UInt32(MaskBits.noData.rawValue), landed = out.dq, weight = out.weight
        let dq = [Int32](parallelCount: n) { p in Int32(bitPattern: (landed?[p] ?? 0) | (weight[p] == 0 ? empty : 0)) }
        hdus.append(OutputHDU(integers: dq, width: width, height: height, extname: "DQ", storage: layout.dq))
        for k in 0..<layout.contextPlanes {
            let plane = k < out.context.count ? out.context[k] : [Int32](parallelRepeating: 0, count: n)
            hdus.append(OutputHDU(integers: plane, width: width, height: height, extname: "CON", extver: k + 1))
        }
        return hdus
    }
}
