import AstroFITS
import AstroImage
import AstroWCS
import Foundation

/// `astrotool resample`: drizzles input chips onto one output WCS and writes SCI, WHT and CON
/// with the exposure bookkeeping (docs/resample.md).
public struct ResampleOptions: Sendable {
    public enum Grid: Sendable {
        /// That image's WCS and shape.
        case reference(String)
        /// A text header (its NAXIS1/NAXIS2, or `shape`).
        case header(String, shape: (Int, Int)?)
        /// A TAN grid covering every input: pixel scale (arcsec; nil = the first input's times
        /// `ratio`), rotation east of north, optional centre and shape.
        case cover(pixelScale: Double?, ratio: Double, rotation: Double, centre: (Double, Double)?, shape: (Int, Int)?)
    }
    public enum WeightType: String, Sendable, CaseIterable { case ivm, exptime, none }
    public enum Units: String, Sendable, CaseIterable { case rate, counts }
    /// Where the output ERR comes from: the resampled variances (stcal's from_var), the inputs'
    /// ERR propagated through the drizzle with squared weights (from_err: each output value's
    /// own error, `DrizzleOutput.variance`), the inputs' ERR drizzled like data and divided by r
    /// (driz_err, drizzle's), or the first available of from_var and from_err (auto).
    public enum ErrorSource: String, Sendable, CaseIterable { case auto, fromVar = "from_var", fromErr = "from_err", drizErr = "driz_err", none }

    public var grid = Grid.cover(pixelScale: nil, ratio: 1, rotation: 0, centre: nil, shape: nil)
    public var drizzle = DrizzleOptions()
    public var weightType = WeightType.ivm
    public var goodBits = GoodBits.none
    public var exptimeKey = "EXPTIME"
    public var units = Units.rate
    /// Each chip's sky level, subtracted unless its header has SKYSUB = T (with SKYSLPX/SKYSLPY,
    /// skymatch's plane: the level at the chip's centre and slopes per pixel).
    public var skyKey: String? = "SKYVALUE"
    public var context = true
    /// Where the WCS is evaluated exactly (every pixel, every N, or the largest step within a tolerance).
    public var pixmapSampling = Pixmap.Sampling.automatic
    /// Resample VAR_RNOISE, VAR_POISSON, VAR_FLAT when the inputs have them.
    public var variance = true
    public var errorSource = ErrorSource.auto
    /// Working memory in bytes; the output is drizzled in bands of rows to stay under it (nil:
    /// half the machine's memory).
    public var memoryLimit: Int?
    public init() {}
}

public struct ResampleReport: Sendable, Encodable {
    public var output: String
    public var inputs: Int
    public var width: Int
    public var height: Int
    public var kernel: String
    /// Which weights each input used (ivm from VAR_RNOISE, ivm from ERR, exptime, uniform).
    public var weights: [String]
    public var exposure: Double
    /// Seconds inside the kernels (pixmap given).
    public var kernelSeconds: Double
    /// The pixmap step used for each input (1: the WCS at every pixel).
    public var pixmapSteps: [Int]
    public var missed: Int
    /// Inputs that added nothing (off the grid, or no pixel of weight > 0), with the reason.
    public var unused: [UnusedInput]
    /// Bands of output rows drizzled one after the other (1 unless memory was short).
    public var passes: Int
}

/// An input left out of a resampling because none of its pixels would add anything.
public struct UnusedInput: Sendable, Encodable, CustomStringConvertible {
    public var input: String
    public var hdu: String
    public var reason: String
    /// `FILE[HDU n]: reason`, for a warning line.
    public var description: String { "\(input)[\(hdu)]: \(reason)" }
}

public enum Resample {
    public static func run(_ paths: [String], options o: ResampleOptions, output: String, overwrite: Bool) throws -> ResampleReport {
        guard !paths.isEmpty else { throw AstroError(.noInput, operation: "resampling", reason: "no input frames") }
        let inputs = try ResampleInput.read(paths)
        let (outWCS, width, height) = try grid(o.grid, inputs)
        let setup = PassSetup(inputs, grid: outWCS, width: width, height: height, options: o)
        let layout = setup.layout
        let band = try rowsPerPass(inputs, layout: layout, options: o)

        // One band of rows at a time: the whole grid when it fits in memory (the usual case),
        // else bands written into their places in the file as they are done.
        var notes: [Int: ResamplePass.Note] = [:], missed = 0, kernelSeconds = 0.0
        var stream: FITSStreamWriter?
        var whole: [OutputHDU] = []
        for first in stride(from: 0, to: height, by: band) {
            let rows = first..<min(first + band, height)
            let pass = try ResamplePass.run(inputs, rows: rows, columns: 0..<width, setup: setup,
                                            skip: Set(notes.filter { $0.value.unused != nil }.keys),
                                            landed: Set(notes.filter { $0.value.unused == nil }.keys), options: o)
            notes.merge(pass.notes) { old, _ in old }
            missed += pass.missed
            kernelSeconds += pass.kernelSeconds
            if rows.count == height { whole = pass.hdus; break }
            if stream == nil {
                let plans = layout.hdus.map { FITSStreamWriter.Plan(width: width, height: height, pixelType: $0.type, extname: $0.extname, extver: $0.extver) }
                stream = try FITSStreamWriter(to: output, overwrite: overwrite, plans: [placeholder(plans[0], inputs, outWCS, o)] + plans.dropFirst(),
                                              spareCards: 36 + inputs.count)
            }
            for (k, part) in pass.hdus.enumerated() { try stream!.write(rows: rows.lowerBound, of: k, part) }
        }
        // Inputs whose outline missed every band were never read: they do not overlap.
        for k in inputs.indices where notes[k] == nil {
            notes[k] = .init(weights: "-", step: 0, sky: 0, exptime: 0,
                             unused: "it does not overlap the output grid (\(width)x\(height)): no pixel centre lands on it")
        }
        let unused = inputs.indices.compactMap { k in notes[k]!.unused.map { UnusedInput(input: inputs[k].path, hdu: inputs[k].hdu, reason: $0) } }
        if unused.count == inputs.count { throw refusal(unused, operation: "drizzling", grid: (width, height)) }
        let records = records(inputs, notes)
        let header = outputHeader(grid: outWCS.header, inputs: records, bunit: bunit(inputs, o), options: o)
        if let stream {
            try stream.finish(headers: [header] + layout.hdus.dropFirst().map { _ in Header() })
        } else {
            whole[0].image.header = header
            try FITSWriter.write(whole, to: output, overwrite: overwrite)
        }
        return ResampleReport(output: output, inputs: inputs.count, width: width, height: height, kernel: o.drizzle.kernel.rawValue,
                              weights: inputs.indices.map { notes[$0]!.weights }, exposure: totalExposure(records),
                              kernelSeconds: kernelSeconds,
                              pixmapSteps: inputs.indices.map { notes[$0]!.step }, missed: missed, unused: unused,
                              passes: (height + band - 1) / band)
    }

    /// What the output header says about one input: its file name, what was done with it, and
    /// when it was taken (EXPSTART/EXPEND, MJD, when its header says).
    struct InputRecord {
        var name: String
        /// Which file it is: the index of the first input from the same file (the chips of a
        /// multi-chip exposure share one).
        var file: Int
        var note: ResamplePass.Note
        var expstart: Double?
        var expend: Double?
    }

    /// The exposure time of the inputs drizzled, each file once: the chips of one multi-chip
    /// exposure (`f.fits[SCI,1]`, `[SCI,2]`) were exposed together.
    static func totalExposure(_ inputs: [InputRecord]) -> Double {
        var files = Set<Int>(), total = 0.0
        for input in inputs where input.note.unused == nil && files.insert(input.file).inserted { total += input.note.exptime }
        return total
    }

    /// The inputs' records; `otherwise` stands for inputs without a note (not read).
    static func records(_ inputs: [ResampleInput], _ notes: [Int: ResamplePass.Note], otherwise: ResamplePass.Note? = nil) -> [InputRecord] {
        let files = inputs.map { FITS.basePath($0.path) }
        return inputs.enumerated().map { k, input in
            InputRecord(name: URL(fileURLWithPath: input.path).lastPathComponent, file: files.firstIndex(of: files[k])!, note: notes[k] ?? otherwise!,
                        expstart: input.double("EXPSTART"), expend: input.double("EXPEND"))
        }
    }

    /// The output's BUNIT: the first input's, per second for counts (ELECTRONS → ELECTRONS/s).
    static func bunit(_ inputs: [ResampleInput], _ o: ResampleOptions) -> String {
        o.units == .counts ? (inputs[0].header.string("BUNIT").map { $0.isEmpty ? "counts" : $0 } ?? "counts") + "/s"
            : (inputs[0].header.string("BUNIT") ?? "")
    }

    /// The primary header: the output WCS (`grid`), exposure bookkeeping, the parameters and one
    /// HISTORY line per input. One run and a combined tiled mosaic both write it.
    static func outputHeader(grid: Header, inputs: [InputRecord], bunit: String, options o: ResampleOptions) -> Header {
        var header = grid
        for input in inputs {
            let note = input.note
            if let reason = note.unused {
                header.addHistory("astrotool resample: \(input.name) not drizzled: \(reason)")
            } else {
                header.addHistory("astrotool resample: \(input.name) weights \(note.weights)"
                    + (note.sky != 0 ? ", sky \(String(format: "%.6g", note.sky)) subtracted" : "") + ", exposure \(note.exptime) s")
            }
        }
        let used = inputs.filter { $0.note.unused == nil }
        header.set(o.exptimeKey, totalExposure(inputs), comment: "total exposure of the inputs")
        // The span of the exposures (MJD), where the inputs say when they were taken.
        let starts = used.compactMap(\.expstart), ends = used.compactMap(\.expend)
        if let first = starts.min() { header.set("EXPSTART", first, comment: "start of the first exposure (MJD)") }
        if let last = ends.max() { header.set("EXPEND", last, comment: "end of the last exposure (MJD)") }
        header.set("NDRIZIM", used.count, comment: "number of drizzled images")
        header.set("KERNEL", o.drizzle.kernel.rawValue, comment: "drizzle kernel")
        header.set("PIXFRAC", o.drizzle.pixfrac, comment: "drizzle pixfrac")
        header.set("FILLVAL", o.drizzle.fill.text, comment: "value where no input landed")
        header.set("WTSCL", o.weightType.rawValue, comment: "weighting")
        header.set("BUNIT", bunit)
        return header
    }

    /// A primary header with every card the final one can have, to reserve its room.
    private static func placeholder(_ plan: FITSStreamWriter.Plan, _ inputs: [ResampleInput], _ grid: WCS,
                                     _ o: ResampleOptions) -> FITSStreamWriter.Plan {
        var p = plan
        let notes = Dictionary(uniqueKeysWithValues: inputs.indices.map { ($0, ResamplePass.Note(weights: "ivm (VAR_RNOISE)", step: 1, sky: 0, exptime: 0, unused: nil)) })
        p.header = outputHeader(grid: grid.header, inputs: records(inputs, notes), bunit: bunit(inputs, o), options: o)
        p.header.set("EXPSTART", 0.0); p.header.set("EXPEND", 0.0)
        return p
    }

    /// Output rows per pass: all of them when the planes and the largest input fit in
    /// `memoryLimit` (default: half the machine's memory), else as many as fit.
    static func rowsPerPass(_ inputs: [ResampleInput], layout: ResampleLayout, options o: ResampleOptions) throws -> Int {
        let limit = o.memoryLimit ?? Int(ProcessInfo.processInfo.physicalMemory / 2)
        let input = ResampleLayout.bytesPerInput(inputs.map { $0.width * $0.height }.max()!)
        let perRow = layout.bytesPerPixel * layout.width
        let room = limit - input - (64 << 20)
        guard room >= perRow * min(layout.height, 16) else {
            throw AstroError(.usage, operation: "resampling", reason: String(
                format: "--mem-limit %.0f MiB is too small: the largest input needs about %.0f MiB and 16 output rows %.1f MiB",
                Double(limit) / 1048576, Double(input + (64 << 20)) / 1048576, Double(perRow * 16) / 1048576))
        }
        return min(layout.height, room / perRow)
    }

    /// The output rows and columns an input can reach: its outline through the output WCS,
    /// widened by the kernel's reach; the whole grid when the outline does not map.
    static func reached(_ input: ResampleInput, grid: WCS, width: Int, height: Int) -> Reach {
        let outline = input.wcs.footprint(width: input.width, height: input.height, step: 64)
        let p = grid.worldToPixel(ra: outline.map(\.ra), dec: outline.map(\.dec))
        guard !p.y.isEmpty, p.x.allSatisfy(\.isFinite), p.y.allSatisfy(\.isFinite) else { return Reach(rows: 0..<height, columns: 0..<width) }
        // An input pixel spans 1/r output pixels, and a kernel reaches a few more.
        let r = grid.pixelScale(x: 0, y: 0) / input.wcs.pixelScale(x: Double(input.width - 1) / 2, y: Double(input.height - 1) / 2)
        let margin = 4 + 6 / max(r, 1e-3)
        func span(_ v: [Double], _ n: Int) -> Range<Int> {
            let lo = max(0, Int((v.min()! - margin).rounded(.down))), hi = min(n, Int((v.max()! + margin).rounded(.up)) + 1)
            return lo < hi ? lo..<hi : 0..<0
        }
        return Reach(rows: span(p.y, height), columns: span(p.x, width))
    }

    /// Why an input would add nothing to a `width`×`height` grid — every pixel weighs 0, or no
    /// pixel of weight > 0 has its centre on the grid — or nil when it lands.
    static func unusedReason(_ pixmap: Pixmap, weights w: [Float], width: Int, height: Int) -> String? {
        let l = landing(pixmap, weights: w, width: width, height: height)
        return l.lands ? nil : unusedReason(weighed: l.weighed, width: width, height: height)
    }

    static func unusedReason(weighed: Bool, width: Int, height: Int) -> String {
        weighed ? "it does not overlap the output grid (\(width)x\(height)): no pixel centre lands on it"
            : "every pixel has weight 0 (NaN or infinite data or ERR, flagged DQ, or zero weights)"
    }

    /// Whether a pixel of weight ≠ 0 has its centre on the grid, and whether any weighs at all,
    /// among the weights `w` of input rows from `firstRow` on.
    static func landing(_ pixmap: Pixmap, weights w: [Float], firstRow: Int = 0, width: Int, height: Int) -> (weighed: Bool, lands: Bool) {
        var weighed = false
        let (right, top) = (Double(width) - 0.5, Double(height) - 0.5), offset = firstRow * pixmap.width
        for k in w.indices where w[k] != 0 {
            weighed = true
            let x = pixmap.x[k + offset], y = pixmap.y[k + offset]
            if x > -0.5, x < right, y > -0.5, y < top { return (true, true) }
        }
        return (weighed, false)
    }

    /// The one-line refusal when the inputs that would land are too few: the input's own error
    /// when one is left out, else every one named with its reason.
    static func refusal(_ unused: [UnusedInput], operation: String, grid: (Int, Int), needed: String? = nil) -> AstroError {
        if unused.count == 1 {
            return AstroError(.badData, file: unused[0].input, hdu: unused[0].hdu, operation: operation,
                              reason: unused[0].reason + (needed.map { "; \($0)" } ?? ""))
        }
        return AstroError(.badData, operation: operation, reason: (needed ?? "no input lands on the output grid (\(grid.0)x\(grid.1))")
                          + ": " + unused.map(\.description).joined(separator: "; "))
    }

    /// One input (or rows of it) made ready to drizzle: data less its sky (divided by the exposure time for
    /// counts), its weights (the chosen kind, zero where DQ is bad or the data or ERR not finite),
    /// the DQ bits to carry, the sky subtracted, the exposure time and which weights were used.
    /// Throws when the exposure time is needed and is not positive.
    static func prepare(_ input: ResampleInput, _ planes: ResampleInput.Planes, _ o: ResampleOptions) throws
        -> (data: [Float], weights: [Float], bits: [UInt32]?, sky: Double, exptime: Double, what: String) {
        let n = planes.data.count
        let exptime = input.double(o.exptimeKey) ?? 1
        /// 1/v, or 0 when that is not a finite positive number.
        @Sendable func inverse(_ v: Float) -> Float { let r = 1 / v; return v > 0 && r.isFinite ? r : 0 }
        if o.units == .counts || o.weightType == .exptime, !(exptime > 0 && exptime.isFinite) {
            throw AstroError(.badData, file: input.path, hdu: input.hdu, operation: "resampling",
                             reason: "\(o.exptimeKey) = \(exptime): " + (o.units == .counts ? "--units counts divides by it" : "--weight-type exptime weighs by it"))
        }
        // Weights: the chosen kind, times the DQ mask, zero for non-finite data or ERR.
        enum Base { case one, constant, inverse, inverseSquare }
        var base = Base.one, source: [Float]? = nil, what = "uniform"
        switch o.weightType {
        case .ivm:
            if let v = planes.varRnoise { (base, source, what) = (.inverse, v, "ivm (VAR_RNOISE)") }
            else if let e = planes.err { (base, source, what) = (.inverseSquare, e, "ivm (1/ERR^2)") }
        case .exptime: (base, what) = (.constant, "exptime")
        case .none: break
        }
        var sky = 0.0, slope = (x: 0.0, y: 0.0)
        if let key = o.skyKey, let level = input.double(key), !(input.header.bool("SKYSUB") ?? false) {
            sky = level
            // skymatch --model plane: the level is at the chip's centre, with slopes per pixel.
            slope = (input.double("SKYSLPX") ?? 0, input.double("SKYSLPY") ?? 0)
        }
        let subtract = sky != 0 || slope != (0, 0), counts = o.units == .counts
        let (level, gradient, kind) = (sky, slope, base)
        let width = max(input.width, 1), firstRow = planes.firstRow, goodBits = o.goodBits
        let cx = Double(width - 1) / 2, cy = Double(input.height - 1) / 2, t = Float(exptime)
        /// One pass, rows across the cores, each output plane written once.
        func fill(_ dOut: UnsafeMutablePointer<Float>, _ wOut: UnsafeMutablePointer<Float>, _ bOut: UnsafeMutablePointer<UInt32>?,
                  _ data: UnsafePointer<Float>, _ source: UnsafePointer<Float>?, _ err: UnsafePointer<Float>?, _ dq: UnsafePointer<Float>?) {
            let out = (d: SendableMutableBuffer(UnsafeMutableBufferPointer(start: dOut, count: n)),
                       w: SendableMutableBuffer(UnsafeMutableBufferPointer(start: wOut, count: n)),
                       b: bOut.map { SendableMutableBuffer(UnsafeMutableBufferPointer(start: $0, count: n)) })
            let src = (d: SendableBuffer(UnsafeBufferPointer(start: data, count: n)),
                       s: source.map { SendableBuffer(UnsafeBufferPointer(start: $0, count: n)) },
                       e: err.map { SendableBuffer(UnsafeBufferPointer(start: $0, count: n)) },
                       q: dq.map { SendableBuffer(UnsafeBufferPointer(start: $0, count: n)) })
            Parallel.forEachBlock(count: n / width, minBlock: 16) { rows in
                for y in rows {
                    let rowSky = level + gradient.y * (Double(firstRow + y) - cy)
                    var x = 0
                    // Eight pixels a step where the sky is level along the row: the same values
                    // as the loop after it, which takes the rest and any step with a DQ value
                    // that is not a small integer.
                    if gradient.x == 0 {
                        let weights: VectorWeights = switch kind {
                        case .one: .constant(1)
                        case .constant: .constant(t)
                        case .inverse: .inverse(src.s!)
                        case .inverseSquare: .inverseSquare(src.s!)
                        }
                        x = vectorRow(y * width, width, weights: weights, sky: subtract ? Float(rowSky) : nil,
                                      exptime: counts ? t : nil, good: goodBits, src.d, src.e, src.q, out.d, out.w, out.b)
                    }
                    for x in x..<width {
                        let k = y &* width &+ x
                        var wk: Float = switch kind {
                        case .one: 1
                        case .constant: t
                        case .inverse: inverse(src.s![k])
                        case .inverseSquare: src.s![k] > 0 ? inverse(src.s![k] * src.s![k]) : 0
                        }
                        if let q = src.q, let b = out.b {
                            let v = q[k]
                            let bitsK = v.isFinite && v > 0 ? UInt32(min(Double(v).rounded(), 4294967295)) : 0
                            (b.base + k).initialize(to: bitsK)
                            if !v.isFinite || goodBits.isBad(UInt64(bitsK)) { wk = 0 }
                        }
                        var d = src.d[k]
                        if !d.isFinite { wk = 0; d = 0 }
                        if let e = src.e, !e[k].isFinite { wk = 0 }
                        if subtract { d -= Float(rowSky + gradient.x * (Double(x) - cx)) }
                        if counts { d /= t }
                        (out.d.base + k).initialize(to: d)
                        (out.w.base + k).initialize(to: wk)
                    }
                }
            }
        }
        func withOptional<R>(_ a: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
            guard let a else { return body(nil) }
            return a.withUnsafeBufferPointer { body($0.baseAddress) }
        }
        guard n > 0 else { return ([], [], planes.dq.map { _ in [] }, sky, exptime, what) }
        var w: [Float] = [], bits: [UInt32]? = nil
        let data = [Float](unsafeUninitializedCapacity: n) { dbuf, dn in
            w = [Float](unsafeUninitializedCapacity: n) { wbuf, wn in
                planes.data.withUnsafeBufferPointer { dp in
                withOptional(source) { sp in withOptional(planes.err) { ep in withOptional(planes.dq) { qp in
                    if qp != nil {
                        bits = [UInt32](unsafeUninitializedCapacity: n) { bbuf, bn in
                            fill(dbuf.baseAddress!, wbuf.baseAddress!, bbuf.baseAddress!, dp.baseAddress!, sp, ep, qp)
                            bn = n
                        }
                    } else {
                        fill(dbuf.baseAddress!, wbuf.baseAddress!, nil, dp.baseAddress!, sp, ep, nil)
                    }
                }}}}
                wn = n
            }
            dn = n
        }
        return (data, w, bits, sky, exptime, what)
    }
}
