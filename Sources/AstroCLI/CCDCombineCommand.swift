import ArgumentParser
import AstroCCD
import AstroFITS
import AstroImage
import Foundation

/// `astrotool ccdproc combine`: ccdproc's `combine`, streamed by line blocks under --mem-limit.
struct CCDCombineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "combine",
        abstract: "Combine frames (average, median, sum) with ccdproc's rejections, scaling and weights.",
        discussion: """
        Rejection runs in ccdproc's order: --clip-extrema, --minmax (on raw values), --sigma-clip. \
        By default masked (MASK/DQ, see --good-bits) and non-finite values are left out of every \
        statistic, clipping and scale statistics use the scaled values, and weights of rejected \
        values leave the denominator. --ccdproc-compat reproduces ccdproc 2.5.1 instead: clipping \
        on raw unscaled data ignoring masks, extrema counting masked values, one NaN rejecting a \
        whole stack under mean/std clipping, weights summed over every image, 0 for an empty sum. \
        ERR is the stack's scatter (ccdproc): std/sqrt(n) for average, 1.4826*MAD/sqrt(n) for \
        median, std*sqrt(n) for sum; --propagate-err propagates the inputs' ERR instead. MASK marks \
        pixels where no value survived (bit 16 when clipping emptied the stack). The header is the \
        first input's plus NCOMBINE, IMCMBnnn and the mean (or, for sum, total) exposure time. \
        Calibration steps (--oscan, --trim, --bias, --dark, --flat, --to-rate; the same as \
        `ccdproc process`) run on each input first, as IRAF's zerocombine, darkcombine and \
        flatcombine do: raw frames combine in one command, their calibrated copies kept in a \
        scratch folder beside the output until the combination is written.
        Example: astrotool ccdproc combine raw/bias_*.fits -o master_bias.fits --oscan BIASSEC \
        --trim TRIMSEC --sigma-clip --clip-center median --clip-dev mad_std
        Example: astrotool ccdproc combine red/bias_*.fits -o master_bias.fits --sigma-clip \
        --clip-center median --clip-dev mad_std --sigma-low 5 --sigma-high 5
        """
    )

    @Argument(help: "Frames to combine (FITS; @list files accepted).")
    var inputs: [String]

    @Option(name: .shortAndLong, help: "Output file.")
    var output: String

    @Option(help: "average|median|sum.")
    var method = "average"

    @Flag(help: "Sigma-clip each pixel stack (ccdproc's sigma_clip).")
    var sigmaClip = false

    @Option(parsing: .unconditional, help: "Lower clipping threshold in sigma.")
    var sigmaLow = 3.0

    @Option(parsing: .unconditional, help: "Upper clipping threshold in sigma.")
    var sigmaHigh = 3.0

    @Option(help: "Centre of the clip: mean|median (ccdproc's default mean; median is robust for small stacks).")
    var clipCenter = "mean"

    @Option(help: "Spread of the clip: std|mad_std.")
    var clipDev = "std"

    @Option(help: "Clipping passes (ccdproc always makes one).")
    var clipIters = 1

    @Option(parsing: .unconditional, help: ArgumentHelp("Reject raw values below LO or above HI (ccdproc's minmax_clip).", valueName: "LO,HI"))
    var minmax: String?

    @Flag(help: "Reject the --nlow lowest and --nhigh highest values of each stack (ccdproc's clip_extrema).")
    var clipExtrema = false

    @Option(help: "Lowest values rejected by --clip-extrema.")
    var nlow = 1

    @Option(help: "Highest values rejected by --clip-extrema.")
    var nhigh = 1

    @Option(help: ArgumentHelp("""
        Multiply each image before combining: none; mean|median|mode (to the first image's level, IRAF); \
        inverse-mean|inverse-median|inverse-mode (to unit level, ccdproc's scale=1/stat); exposure \
        (t_first/t); a file of one factor per input; or a header keyword holding the factor.
        """, valueName: "SCALE"))
    var scale = "none"

    @Option(help: ArgumentHelp("Section for the scale statistics.", valueName: "SECTION"))
    var statsec: String?

    @Option(help: ArgumentHelp("Weights for the average: a file of one weight per input, or a header keyword.", valueName: "FILE|KEYWORD"))
    var weights: String?

    @Option(help: ArgumentHelp("Memory for the line buffers of all inputs (K, M, G suffixes); the output frame comes on top. With calibration steps, the calibrated inputs stay in memory when they fit in half of it (else they go through a scratch folder).", valueName: "SIZE"))
    var memLimit = "512M"

    @Flag(help: "Write no ERR extension.")
    var noUncertainty = false

    @Flag(help: "ERR propagated from the inputs' ERR extensions instead of the stack's scatter.")
    var propagateErr = false

    @Option(help: ArgumentHelp("Storage of data and ERR: -32 or -64.", valueName: "-32|-64"))
    var bitpix = "-32"

    @Option(help: ArgumentHelp("DQ/MASK bits that count as good (stcal syntax).", valueName: "BITS"))
    var goodBits = "none"

    @Option(help: "Header keyword of the exposure time in seconds.")
    var exptimeKey = "EXPTIME"

    @Flag(help: "Reproduce ccdproc 2.5.1's combine exactly, quirks included (see above).")
    var ccdprocCompat = false

    @Option(help: ArgumentHelp("Keep only inputs whose header matches KEY=VALUE (repeatable).", valueName: "KEY=VALUE"))
    var `where`: [String] = []

    @Option(help: ArgumentHelp("Offsets between the frames: a file of 'dx dy' per input (out(x,y) = in(x-dx, y-dy)); frames are resampled onto their union.", valueName: "FILE"))
    var shifts: String?
    @Option(help: "Interpolation of fractional --shifts: 0 nearest, 1 bilinear, 3 cubic B-spline.")
    var shiftOrder = 3
    @Flag(help: "With --shifts, keep only the region every shifted frame covers.")
    var trimOverlap = false
    @Option(help: ArgumentHelp("Interpolation of fractional --shifts by the shared name: nearest|linear|cubic (overrides --shift-order).", valueName: "METHOD"))
    var interp: String?
    @Option(help: "Value written where no value survives (default NaN; MASK marks the pixel either way).")
    var fillval: Float?
    @Option(help: "IRAF rejection: also reject each rejected value's neighbours within this radius in pixels (its own image).")
    var grow = 0.0
    @Option(help: ArgumentHelp("IRAF imcombine rejection instead of ccdproc's: minmax (--nlow/--nhigh), sigclip, avsigclip, ccdclip, crreject, pclip.", valueName: "ALGORITHM"))
    var reject: String?
    @Option(help: "IRAF rejection: low threshold in sigma.")
    var lsigma = 3.0
    @Option(help: "IRAF rejection: high threshold in sigma.")
    var hsigma = 3.0
    @Option(help: "IRAF rejection: keep at least this many values (negative: reject at most this many).")
    var nkeep = 1
    @Flag(inversion: .prefixedNo, help: "IRAF sigclip: centre on the median (--no-mclip: the mean without the extremes).")
    var mclip = true
    @Option(help: "IRAF pclip: places (or, below 1, fraction of half the stack) from the median to the width's end; negative is below.")
    var pclip = -0.5
    @Option(help: ArgumentHelp("ccdclip/crreject read noise in e-, or a header keyword.", valueName: "R|KEYWORD"))
    var rdnoise = "0"
    @Option(help: ArgumentHelp("ccdclip/crreject gain in e-/ADU, or a header keyword (electron data use 1).", valueName: "G|KEYWORD"))
    var gain = "1"
    @Option(help: ArgumentHelp("ccdclip/crreject sensitivity noise as a fraction of the signal, or a header keyword.", valueName: "S|KEYWORD"))
    var snoise = "0"
    @Option(help: ArgumentHelp("Additive offsets after scaling: none|mean|median|mode (to the first image's level), a file of one number per input, or a header keyword.", valueName: "ZERO"))
    var zero = "none"

    @OptionGroup(title: "Calibration steps (run on each input before combining)") var steps: CalibrationStepOptions

    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard CombineOptions.Method(rawValue: method) != nil else { throw ValidationError("--method takes average, median or sum") }
        guard CombineOptions.SigmaClip.Center(rawValue: clipCenter) != nil else { throw ValidationError("--clip-center takes mean or median") }
        guard CombineOptions.SigmaClip.Deviation(rawValue: clipDev) != nil else { throw ValidationError("--clip-dev takes std or mad_std") }
        guard ["-32", "-64"].contains(bitpix) else { throw ValidationError("--bitpix takes -32 or -64") }
        if noUncertainty && propagateErr { throw ValidationError("--no-uncertainty and --propagate-err exclude each other") }
        if nlow < 0 || nhigh < 0 { throw ValidationError("--nlow and --nhigh must be 0 or more") }
        if clipIters < 1 { throw ValidationError("--clip-iters must be at least 1") }
        if !(sigmaLow > 0 && sigmaHigh > 0) { throw ValidationError("--sigma-low and --sigma-high must be positive") }
        guard [0, 1, 3].contains(shiftOrder) else { throw ValidationError("--shift-order takes 0, 1 or 3") }
        if let interp, Self.interpOrder[interp] == nil {
            throw ValidationError("--interp takes nearest, linear or cubic here (poly5 and lanczos3 are resample's)")
        }
        if grow < 0 { throw ValidationError("--grow must be 0 or more") }
        if grow > 0 && reject == nil { throw ValidationError("--grow goes with --reject") }
        if let reject {
            guard CombineOptions.Rejection.Algorithm(rawValue: reject) != nil else {
                throw ValidationError("--reject takes minmax, sigclip, avsigclip, ccdclip, crreject or pclip")
            }
            if sigmaClip || clipExtrema { throw ValidationError("--reject replaces --sigma-clip and --clip-extrema; give one kind") }
            if ccdprocCompat { throw ValidationError("--reject is IRAF's; it has no --ccdproc-compat form") }
            if !(lsigma > 0 && hsigma > 0) { throw ValidationError("--lsigma and --hsigma must be positive") }
            if pclip == 0 { throw ValidationError("--pclip may not be 0") }
        }
        if byteCount(memLimit) == nil { throw ValidationError("--mem-limit takes a size such as 512M or 2G, not '\(memLimit)'") }
    }

    /// A file of numbers, one per input, or nil when no such file exists.
    static func numberFile(_ path: String, count: Int, what: String) throws -> [Double]? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw AstroError(.noInput, file: path, operation: "reading \(what)", reason: "cannot read the file")
        }
        let values = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }.map { Double($0.split(separator: " ").first.map(String.init) ?? "") }
        guard values.allSatisfy({ $0 != nil }), values.count == count else {
            throw AstroError(.badData, file: path, operation: "reading \(what)", reason: "expected \(count) numbers, one per line")
        }
        return values.map { $0! }
    }

    func run() throws {
        common.apply()
        let files = try HeaderFilter.select(inputs, where: `where`)
        try OutputPlan.checkDistinct(inputs: files + steps.masters, outputs: [output])
        var o = CombineOptions()
        o.method = .init(rawValue: method)!
        if sigmaClip {
            var c = CombineOptions.SigmaClip()
            c.low = sigmaLow; c.high = sigmaHigh
            c.center = .init(rawValue: clipCenter)!
            c.deviation = .init(rawValue: clipDev)!
            c.iterations = clipIters
            o.sigmaClip = c
        }
        if let minmax {
            let p = minmax.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard p.count == 2, let lo = p[0], let hi = p[1], lo <= hi else {
                throw AstroError(.usage, operation: "parsing --minmax", reason: "'\(minmax)' is not LO,HI with LO <= HI")
            }
            o.minmax = lo...hi
        }
        if clipExtrema { o.extrema = (nlow, nhigh) }
        o.exptimeKey = exptimeKey.uppercased()
        o.scale = try parseScale(count: files.count)
        o.zero = try parseZero(count: files.count)
        o.fillValue = fillval
        if let shifts {
            guard let text = try? String(contentsOfFile: shifts, encoding: .utf8) else {
                throw AstroError(.noInput, file: shifts, operation: "reading shifts", reason: "cannot read the file")
            }
            let pairs = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty && !$0.hasPrefix("#") }
                .map { $0.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" }).compactMap { Double($0) } }
            guard pairs.count == files.count, pairs.allSatisfy({ $0.count >= 2 && $0[0].isFinite && $0[1].isFinite }) else {
                throw AstroError(.badData, file: shifts, operation: "reading shifts", reason: "expected \(files.count) lines of 'dx dy'")
            }
            var so = ShiftOptions(shifts: pairs.map { (dx: $0[0], dy: $0[1]) })
            so.order = interp.flatMap { Self.interpOrder[$0] } ?? shiftOrder
            so.overlap = trimOverlap
            o.shifts = so
        }
        if let reject {
            var r = CombineOptions.Rejection(algorithm: .init(rawValue: reject)!)
            r.lsigma = lsigma; r.hsigma = hsigma; r.nkeep = nkeep; r.mclip = mclip; r.pclip = pclip
            r.nlow = Double(nlow); r.nhigh = Double(nhigh)
            r.readNoise = .parse(rdnoise); r.gain = .parse(gain); r.snoise = .parse(snoise)
            r.grow = grow
            o.reject = r
        }
        o.statsec = statsec
        if let weights {
            if let values = try Self.numberFile(weights, count: files.count, what: "weights") { o.weights = values }
            else {
                let key = weights.uppercased()
                o.weights = try files.map { f in
                    guard let w = try FITS.readHeader(f).double(key) else {
                        throw AstroError(.badData, file: f, operation: "reading weights", reason: "no numeric \(key) keyword (and no file '\(weights)')")
                    }
                    return w
                }
            }
        }
        o.uncertainty = noUncertainty ? .none : (propagateErr ? .propagate : .scatter)
        o.memLimit = byteCount(memLimit)!
        o.goodBits = try GoodBits.parse(goodBits)
        o.ccdprocCompat = ccdprocCompat
        o.pixelType = bitpix == "-64" ? .float64 : .float32
        var process = ProcessOptions()
        try steps.apply(to: &process)
        process.software = "astrotool \(AstroTool.version)"
        let progress = { (done: Int, total: Int) in common.progress("combine: line \(done)/\(total)") }
        let report = process.steps.isEmpty
            ? try Combine.run(files, options: o, output: output, overwrite: common.overwrite, progress: progress)
            : try Combine.run(files, calibratedBy: process, options: o, output: output, overwrite: common.overwrite, progress: progress)
        Console.endProgress()
        if common.json { try printJSON(report) } else {
            common.note("astrotool ccdproc combine: \(files.count) frames -> \(output) (\(method), \(report.rejected) values rejected, \(report.empty) empty pixels)")
        }
    }

    static let interpOrder = ["nearest": 0, "linear": 1, "cubic": 3]

    func parseZero(count: Int) throws -> CombineOptions.Zero {
        switch zero {
        case "none": return .none
        case "mean", "median", "mode": return .toFirst(.init(rawValue: zero)!)
        default:
            if let values = try Self.numberFile(zero, count: count, what: "zero offsets") { return .values(values) }
            return .keyword(zero.uppercased())
        }
    }

    func parseScale(count: Int) throws -> CombineOptions.Scale {
        switch scale {
        case "none": return .none
        case "exposure": return .exposure
        case "mean", "median", "mode": return .toFirst(.init(rawValue: scale)!)
        case "inverse-mean", "inverse-median", "inverse-mode": return .inverse(.init(rawValue: String(scale.dropFirst(8)))!)
        default:
            if let values = try Self.numberFile(scale, count: count, what: "scale factors") { return .values(values) }
            return .keyword(scale.uppercased())
        }
    }
}
