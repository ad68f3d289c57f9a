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
    /// ERR drizzled and divided by r (driz_err), or the first available of those (auto).
    public enum ErrorSource: String, Sendable, CaseIterable { case auto, fromVar = "from_var", drizErr = "driz_err", none }

    public var grid = Grid.cover(pixelScale: nil, ratio: 1, rotation: 0, centre: nil, shape: nil)
    public var drizzle = DrizzleOptions()
    public var weightType = WeightType.ivm
    public var goodBits = GoodBits.none
    public var exptimeKey = "EXPTIME"
    public var units = Units.rate
    /// Each chip's sky level, subtracted unless its header has SKYSUB = T.
    public var skyKey: String? = "SKYVALUE"
    public var context = true
    /// Where the WCS is evaluated exactly (every pixel, every N, or the largest step within a tolerance).
    public var pixmapSampling = Pixmap.Sampling.automatic
    /// Resample VAR_RNOISE, VAR_POISSON, VAR_FLAT when the inputs have them.
    public var variance = true
    public var errorSource = ErrorSource.auto
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
        let inputs = try paths.map { try ResampleInput($0) }
        let (outWCS, width, height) = try grid(o.grid, inputs)
        var out = DrizzleOutput(width: width, height: height, fill: o.drizzle.fill)
        // ERR drizzled like the data; each variance as stcal does (see `Variance`).
        var errOut: DrizzleOutput?
        var variances = Variance.Accumulators(width: width, height: height)
        var ratio = 1.0
        var weightsUsed: [String] = [], steps: [Int] = [], missed = 0, kernelTime = Duration.zero
        var used: [ResampleInput] = [], unused: [UnusedInput] = []
        var header = outWCS.header
        let outScale = outWCS.pixelScale(x: Double(width - 1) / 2, y: Double(height - 1) / 2)
        for (index, input) in inputs.enumerated() {
            let img = input.image
            let (data, w, bits, sky, exptime, what) = try prepare(input, o)
            weightsUsed.append(what)
            let pixmap = Pixmap(from: input.wcs, width: img.width, height: img.height, to: outWCS, sampling: o.pixmapSampling)
            steps.append(pixmap.step)
            var d = o.drizzle
            d.context = o.context
            d.pixelScaleRatio = outScale / input.wcs.pixelScale(x: Double(img.width - 1) / 2, y: Double(img.height - 1) / 2)
            // The variances' 1/r² uses the first input's ratio, as stcal does.
            if index == 0 { ratio = d.pixelScaleRatio }
            if let reason = unusedReason(pixmap, weights: w, width: width, height: height) {
                unused.append(UnusedInput(input: input.path, hdu: input.hdu, reason: reason))
                header.addHistory("astrotool resample: \(URL(fileURLWithPath: input.path).lastPathComponent) not drizzled: \(reason)")
                // Nothing of it is added, not even its exposure; an empty stand-in keeps its context bit.
                out.add([0], weights: [0], pixmap: Pixmap(width: 1, height: 1, x: [.nan], y: [.nan]), exposure: 0, options: d)
                continue
            }
            let clock = ContinuousClock(), start = clock.now
            missed += out.add(data, weights: w, dq: bits, pixmap: pixmap, exposure: exptime, options: d)
            kernelTime += clock.now - start
            used.append(input)
            var e = d
            e.context = false
            e.fill = .nan
            if let err = input.err, o.errorSource == .drizErr || o.errorSource == .auto {
                if errOut == nil { errOut = DrizzleOutput(width: width, height: height) }
                errOut!.add(err.map { $0.isFinite ? $0 : 0 }, weights: w, pixmap: pixmap, options: e)
            }
            if o.variance {
                variances.add(rnoise: input.varRnoise, poisson: input.varPoisson, flat: input.varFlat, weights: w, pixmap: pixmap,
                              options: e, weightType: o.weightType, exptime: exptime)
            }
            header.addHistory("astrotool resample: \(URL(fileURLWithPath: input.path).lastPathComponent) weights \(what)"
                + (sky != 0 ? ", sky \(String(format: "%.6g", sky)) subtracted" : "") + ", exposure \(exptime) s")
        }
        if unused.count == inputs.count { throw refusal(unused, operation: "drizzling", grid: (width, height)) }
        header.set(o.exptimeKey, out.exposure, comment: "total exposure of the inputs")
        // The span of the exposures (MJD), where the inputs say when they were taken.
        let starts = used.compactMap { $0.double("EXPSTART") }, ends = used.compactMap { $0.double("EXPEND") }
        if let first = starts.min() { header.set("EXPSTART", first, comment: "start of the first exposure (MJD)") }
        if let last = ends.max() { header.set("EXPEND", last, comment: "end of the last exposure (MJD)") }
        header.set("NDRIZIM", used.count, comment: "number of drizzled images")
        header.set("KERNEL", o.drizzle.kernel.rawValue, comment: "drizzle kernel")
        header.set("PIXFRAC", o.drizzle.pixfrac, comment: "drizzle pixfrac")
        header.set("FILLVAL", { switch o.drizzle.fill { case .nan: "NaN"; case .indef: "INDEF"; case .value(let v): "\(v)" } }(),
                   comment: "value where no input landed")
        header.set("WTSCL", o.weightType.rawValue, comment: "weighting")
        header.set("BUNIT", o.units == .counts ? "per second" : (inputs[0].image.header.string("BUNIT") ?? ""))
        var hdus = [OutputHDU(Image(width: width, height: height, pixels: out.image, header: header)),
                    OutputHDU(Image(width: width, height: height, pixels: out.weight), extname: "WHT")]
        let vars = variances.finish(ratio: ratio)
        let useVar = o.errorSource == .fromVar || (o.errorSource == .auto && !vars.isEmpty)
        if useVar, !vars.isEmpty {
            // err = √(Σ of the variances), NaN where all are NaN.
            var err = [Float](repeating: .nan, count: width * height)
            for p in err.indices {
                let parts = vars.map { Double($0.1[p]) }.filter(\.isFinite)
                if !parts.isEmpty { err[p] = Float(parts.reduce(0, +).squareRoot()) }
            }
            hdus.append(OutputHDU(Image(width: width, height: height, pixels: err), extname: "ERR"))
        } else if let errOut, o.errorSource != .none, o.errorSource != .fromVar {
            hdus.append(OutputHDU(Image(width: width, height: height, pixels: errOut.image.map { $0 / Float(ratio) }), extname: "ERR"))
        }
        for (name, plane) in vars { hdus.append(OutputHDU(Image(width: width, height: height, pixels: plane), extname: name)) }
        // DQ: the inputs' bits where they landed (drizzle's propagate_dq), no_data where none did.
        let empty = UInt32(MaskBits.noData.rawValue), landed = out.dq, weight = out.weight
        let dq = [Int32](unsafeUninitializedCapacity: width * height) { b, filled in
            for p in 0..<width * height { b[p] = Int32(bitPattern: (landed?[p] ?? 0) | (weight[p] == 0 ? empty : 0)) }
            filled = width * height
        }
        // Stored in the narrowest type that holds every flag (uint8 for astrotool's own MASK bits).
        let widest = dq.reduce(0) { $0 | UInt32(bitPattern: $1) }
        hdus.append(OutputHDU(integers: dq, width: width, height: height, extname: "DQ",
                              storage: widest <= 255 ? .uint8 : widest <= 32767 ? .int16 : .int32))
        if o.context {
            for (k, plane) in out.context.enumerated() {
                hdus.append(OutputHDU(integers: plane, width: width, height: height, extname: "CON", extver: k + 1))
            }
        }
        try FITSWriter.write(hdus, to: output, overwrite: overwrite)
        return ResampleReport(output: output, inputs: inputs.count, width: width, height: height, kernel: o.drizzle.kernel.rawValue,
                              weights: weightsUsed, exposure: out.exposure,
                              kernelSeconds: Double(kernelTime.components.seconds) + Double(kernelTime.components.attoseconds) * 1e-18,
                              pixmapSteps: steps,
                              missed: missed, unused: unused)
    }

    /// Why an input would add nothing to a `width`×`height` grid — every pixel weighs 0, or no
    /// pixel of weight > 0 has its centre on the grid — or nil when it lands.
    static func unusedReason(_ pixmap: Pixmap, weights w: [Float], width: Int, height: Int) -> String? {
        var weighed = false
        let (right, top) = (Double(width) - 0.5, Double(height) - 0.5)
        for k in w.indices where w[k] != 0 {
            weighed = true
            let x = pixmap.x[k], y = pixmap.y[k]
            if x > -0.5, x < right, y > -0.5, y < top { return nil }
        }
        return weighed ? "it does not overlap the output grid (\(width)x\(height)): no pixel centre lands on it"
            : "every pixel has weight 0 (NaN or infinite data or ERR, flagged DQ, or zero weights)"
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

    /// One input made ready to drizzle: data less its sky (divided by the exposure time for
    /// counts), its weights (the chosen kind, zero where DQ is bad or the data or ERR not finite),
    /// the DQ bits to carry, the sky subtracted, the exposure time and which weights were used.
    /// Throws when the exposure time is needed and is not positive.
    static func prepare(_ input: ResampleInput, _ o: ResampleOptions) throws
        -> (data: [Float], weights: [Float], bits: [UInt32]?, sky: Double, exptime: Double, what: String) {
        let n = input.image.width * input.image.height
        let exptime = input.double(o.exptimeKey) ?? 1
        if o.units == .counts || o.weightType == .exptime, !(exptime > 0 && exptime.isFinite) {
            throw AstroError(.badData, file: input.path, hdu: input.hdu, operation: "resampling",
                             reason: "\(o.exptimeKey) = \(exptime): " + (o.units == .counts ? "--units counts divides by it" : "--weight-type exptime weighs by it"))
        }
        // Weights: the chosen kind, times the DQ mask, zero for non-finite data or ERR.
        var w = [Float](repeating: 1, count: n), what = "uniform"
        /// 1/v, or 0 when that is not a finite positive number.
        func inverse(_ v: Float) -> Float { let r = 1 / v; return v > 0 && r.isFinite ? r : 0 }
        switch o.weightType {
        case .ivm:
            if let v = input.varRnoise { w = v.map(inverse); what = "ivm (VAR_RNOISE)" }
            else if let e = input.err { w = e.map { $0 > 0 ? inverse($0 * $0) : 0 }; what = "ivm (1/ERR^2)" }
        case .exptime:
            w = [Float](repeating: Float(exptime), count: n); what = "exptime"
        case .none: break
        }
        var bits: [UInt32]?
        if let dq = input.dq {
            let b = dq.map { $0.isFinite && $0 > 0 ? UInt32(min($0.rounded(), 4294967295)) : 0 }
            for k in 0..<n where !dq[k].isFinite || o.goodBits.isBad(UInt64(b[k])) { w[k] = 0 }
            bits = b
        }
        var data = input.image.pixels
        for k in 0..<n where !data[k].isFinite { w[k] = 0; data[k] = 0 }
        if let e = input.err { for k in 0..<n where !e[k].isFinite { w[k] = 0 } }
        var sky = 0.0
        if let key = o.skyKey, let level = input.double(key), !(input.image.header.bool("SKYSUB") ?? false) {
            sky = level
            for k in 0..<n { data[k] -= Float(level) }
        }
        if o.units == .counts { for k in 0..<n { data[k] /= Float(exptime) } }
        return (data, w, bits, sky, exptime, what)
    }

    /// The output WCS and shape.
    static func grid(_ g: ResampleOptions.Grid, _ inputs: [ResampleInput]) throws -> (WCS, Int, Int) {
        switch g {
        case .reference(let path):
            let file = try FITSFile(path, image: true), info = try file.info()
            guard info.shape.count >= 2 else { throw AstroError(.badData, file: path, operation: "reading the reference grid", reason: "no 2-D image") }
            let wcs = try WCS.read(path: path)
            try wcs.checkRoundTrip(width: info.shape[0], height: info.shape[1], file: path, hdu: file.hduLabel)
            return (wcs, info.shape[0], info.shape[1])
        case .header(let path, let shape):
            guard let text = try? String(contentsOfFile: path, encoding: .ascii) else {
                throw AstroError(.noInput, file: path, operation: "reading the output WCS", reason: "cannot read the file")
            }
            let h = Header(cardImages: text)
            guard let nx = shape?.0 ?? h.int("NAXIS1"), let ny = shape?.1 ?? h.int("NAXIS2"), nx > 0, ny > 0 else {
                throw AstroError(.badData, file: path, operation: "reading the output WCS", reason: "no NAXIS1/NAXIS2; give --shape")
            }
            let wcs = try WCS(header: h, file: path)
            try wcs.checkRoundTrip(width: nx, height: ny, file: path, hdu: nil)
            return (wcs, nx, ny)
        case .cover(let scale, let ratio, let rotation, let centre, let shape):
            // Every input's outline on the sky, then a TAN grid around them.
            var ras: [Double] = [], decs: [Double] = [], owners: [Int] = []
            for (k, input) in inputs.enumerated() {
                for p in input.wcs.footprint(width: input.image.width, height: input.image.height, step: 256) where p.ra.isFinite {
                    ras.append(p.ra); decs.append(p.dec); owners.append(k)
                }
            }
            guard !ras.isEmpty else { throw AstroError(.badData, operation: "resampling", reason: "no input maps onto the sky") }
            let ref = ras[0]
            let unwrapped = ras.map { var d = $0 - ref; d -= 360 * (d / 360).rounded(); return ref + d }
            let c = centre ?? ((unwrapped.min()! + unwrapped.max()!) / 2, (decs.min()! + decs.max()!) / 2)
            let first = inputs[0]
            let s = scale ?? first.wcs.pixelScale(x: Double(first.image.width - 1) / 2, y: Double(first.image.height - 1) / 2) * ratio
            if let shape { return (try WCS.tan(ra: c.0, dec: c.1, pixelScale: s, rotation: rotation, width: shape.0, height: shape.1), shape.0, shape.1) }
            // A trial grid gives the inputs' extent in output pixels; size it to hold them.
            let trial = try WCS.tan(ra: c.0, dec: c.1, pixelScale: s, rotation: rotation, width: 1, height: 1)
            let px = trial.worldToPixel(ra: unwrapped, dec: decs)
            if let k = px.x.indices.first(where: { !px.x[$0].isFinite || !px.y[$0].isFinite }) {
                let input = inputs[owners[k]]
                throw AstroError(.badData, file: input.path, hdu: input.hdu, operation: "building the output grid",
                                 reason: String(format: "it reaches 90 deg or more from the grid centre (RA %.4f, Dec %.4f): one TAN grid cannot hold all the inputs", c.0, c.1))
            }
            let nx = Int((2 * px.x.map(abs).max()!).rounded(.up)) + 2, ny = Int((2 * px.y.map(abs).max()!).rounded(.up)) + 2
            // Four float32/int32 planes at least (SCI, WHT, DQ, CON): inputs far apart on the sky
            // would ask for more memory than the machine has.
            let bytes = 16 * Double(nx) * Double(ny), memory = Double(ProcessInfo.processInfo.physicalMemory)
            guard bytes <= memory else {
                throw AstroError(.badData, operation: "building the output grid", reason: String(
                    format: "the inputs span %.3g x %.3g deg: %dx%d pixels of %.4g arcsec need %.3g GiB, more than this machine's %.3g GiB; are they of one field? (give --shape, --crval or a larger --pixel-scale)",
                    Double(nx) * s / 3600, Double(ny) * s / 3600, nx, ny, s, bytes / 1073741824, memory / 1073741824))
            }
            return (try WCS.tan(ra: c.0, dec: c.1, pixelScale: s, rotation: rotation, width: nx, height: ny), nx, ny)
        }
    }
}
