import ArgumentParser
import AstroCCD
import AstroFITS
import AstroImage
import Foundation

/// `astrotool ccdproc process`: ccdproc's `ccd_process`, every step a switch, in its order.
struct CCDProcessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "process",
        abstract: "Calibrate raw frames: overscan, trim, deviation, mask, gain, bias, dark, flat (ccdproc's order).",
        discussion: """
        Steps run in ccd_process's order; each is off unless asked for. Sections are FITS-style \
        ([x1:x2,y1:y2], 1-based, inclusive) or a header keyword (BIASSEC, TRIMSEC); a keyword whose \
        section lies outside the frame is refused (ccdproc silently clips). Masters in ADU are \
        multiplied by the gain when the frame is in electrons. The dark is scaled by \
        EXPTIME(frame)/EXPTIME(dark) unless --no-dark-scale (ccdproc's default is not to scale); \
        a dark in a per-second unit is multiplied by the frame's exposure time. Flat pixels <= 0 or \
        not finite are masked BAD_FLAT (8) and left unflattened. --bpm pixels are OR-ed into MASK \
        as BAD (1) (ccdproc replaces the mask).
        Example: astrotool ccdproc process raw/sci_*.fits --outdir red --oscan BIASSEC --trim TRIMSEC \
        --gain GAIN --readnoise RDNOISE --error --bias master_bias.fits --dark master_dark.fits \
        --flat master_flat.fits
        """
    )

    @Argument(help: "Raw frames (FITS; @list files accepted).")
    var inputs: [String]

    @Option(name: .shortAndLong, help: "Output file (one input only).")
    var output: String?

    @Option(help: "Output folder; each product keeps its input's file name.")
    var outdir: String?

    @Option(help: ArgumentHelp("Overscan strip: a FITS section or a header keyword.", valueName: "SECTION|BIASSEC"))
    var oscan: String?

    @Option(help: ArgumentHelp("numpy axis collapsed: 1 = one value per line (columns of overscan), 0 = one per column, auto = ccdproc's rule.", valueName: "0|1|auto"))
    var oscanAxis = "1"

    @Option(help: "Overscan statistic per line: mean|median (ccd_process's default is median).")
    var oscanStat = "median"

    @Option(help: ArgumentHelp("Model of the overscan profile: none|chebyshev:N|legendre:N|poly:N (linear least squares).", valueName: "MODEL"))
    var oscanModel = "none"

    @Option(help: ArgumentHelp("Reject outliers from the overscan model fit (IRAF low_reject,high_reject,niterate), e.g. 3,3,5.", valueName: "LO,HI,N"))
    var oscanReject: String?

    @Option(help: ArgumentHelp("Data section to keep: a FITS section or a header keyword.", valueName: "SECTION|TRIMSEC"))
    var trim: String?

    @Option(help: ArgumentHelp("Gain in e-/ADU, or the header keyword holding it. Data become electrons.", valueName: "G|KEYWORD"))
    var gain: String?

    @Option(help: ArgumentHelp("Read noise in e-, or the header keyword holding it.", valueName: "R|KEYWORD"))
    var readnoise: String?

    @Flag(help: "Attach ERR = sqrt(g*D + R^2)/g after overscan and trim (needs --readnoise, and --gain for ADU data).")
    var error = false

    @Option(help: ArgumentHelp("Where g*D < 0: clamp (sigma = R/g) or nan (ccdproc's create_deviation).", valueName: "clamp|nan"))
    var negative = "clamp"

    @Option(help: "Master bias to subtract.")
    var bias: String?

    @Option(help: "Master dark to subtract (scaled by the exposure ratio unless --no-dark-scale).")
    var dark: String?

    @Flag(name: .customLong("no-dark-scale"), help: "Subtract the dark unscaled (ccdproc's dark_scale=False).")
    var noDarkScale = false

    @Option(help: "Header keyword of the exposure time in seconds.")
    var exptimeKey = "EXPTIME"

    @Option(help: "Master flat to divide by (normalised by its mean).")
    var flat: String?

    @Option(help: "Raise flat pixels below this value to it, before normalisation (ccdproc's min_value).")
    var flatMin: Double?

    @Option(help: "Normalise the flat by this value instead of its mean.")
    var normValue: Double?

    @Option(help: "Bad-pixel mask (non-zero = bad), e.g. from 'ccdproc ccdmask'.")
    var bpm: String?

    @Option(help: ArgumentHelp("DQ/MASK bits that count as good: 4, 4,8, 4+8, ~4, names, none (default: every set bit is bad).", valueName: "BITS"))
    var goodBits = "none"

    @Flag(help: "Divide by the exposure time at the end; BUNIT becomes a per-second unit.")
    var toRate = false

    @Flag(help: "Reproduce ccdproc where astrotool differs on purpose (flat normalised by the plain mean of all pixels).")
    var ccdprocCompat = false

    @Option(help: ArgumentHelp("Header cards per step: iraf (OVERSCAN, TRIM, ZEROCOR, DARKCOR, FLATCOR, CCDPROC + HISTORY) or ccdproc (its two cards per step).", valueName: "iraf|ccdproc"))
    var logStyle = "iraf"

    @Option(help: ArgumentHelp("Add a header card (repeatable).", valueName: "KEY=VALUE"))
    var addKeyword: [String] = []

    @Flag(help: "Write no step cards or HISTORY.")
    var noLog = false

    @Flag(help: "List the steps each file would get, write nothing (IRAF's noproc).")
    var dryRun = false

    @Option(help: ArgumentHelp("Keep only inputs whose header matches KEY=VALUE (repeatable).", valueName: "KEY=VALUE"))
    var `where`: [String] = []

    @Option(help: ArgumentHelp("Storage of the data and ERR: -32 (float32) or -64 (float64).", valueName: "-32|-64"))
    var bitpix = "-32"

    @OptionGroup var common: CommonOptions

    func validate() throws {
        if output != nil && outdir != nil { throw ValidationError("give -o or --outdir, not both") }
        if !dryRun && output == nil && outdir == nil { throw ValidationError("give -o OUT or --outdir DIR") }
        guard ["0", "1", "auto"].contains(oscanAxis) else { throw ValidationError("--oscan-axis takes 0, 1 or auto") }
        guard OverscanOptions.Statistic(rawValue: oscanStat) != nil else { throw ValidationError("--oscan-stat takes mean or median") }
        guard Calibrate.Negative(rawValue: negative) != nil else { throw ValidationError("--negative takes clamp or nan") }
        guard ["iraf", "ccdproc"].contains(logStyle) else { throw ValidationError("--log-style takes iraf or ccdproc") }
        guard ["-32", "-64"].contains(bitpix) else { throw ValidationError("--bitpix takes -32 or -64") }
        if let normValue, !(normValue > 0) { throw ValidationError("--norm-value must be positive") }
        if error && readnoise == nil { throw ValidationError("--error needs --readnoise") }
        for k in addKeyword where !k.contains("=") { throw ValidationError("--add-keyword takes KEY=VALUE, not '\(k)'") }
    }

    func options() throws -> ProcessOptions {
        var o = ProcessOptions()
        o.oscan = oscan.map(ProcessOptions.SectionSource.parse)
        o.oscanAxis = oscanAxis == "auto" ? nil : Int(oscanAxis)
        o.oscanStatistic = OverscanOptions.Statistic(rawValue: oscanStat)!
        o.oscanModel = try OverscanOptions.Model.parse(oscanModel)
        if let oscanReject {
            let p = oscanReject.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard p.count == 3, let lo = p[0], let hi = p[1], let n = p[2], lo > 0, hi > 0, n >= 0, n == n.rounded() else {
                throw AstroError(.usage, operation: "parsing --oscan-reject", reason: "'\(oscanReject)' is not LO,HI,N (e.g. 3,3,5)")
            }
            o.oscanRejection = Polyfit.Rejection(low: lo, high: hi, iterations: Int(n))
        }
        o.trim = trim.map(ProcessOptions.SectionSource.parse)
        o.gain = gain.map(ProcessOptions.Quantity.parse)
        o.readNoise = readnoise.map(ProcessOptions.Quantity.parse)
        o.error = error
        o.negative = Calibrate.Negative(rawValue: negative)!
        o.bias = bias; o.dark = dark; o.flat = flat; o.bpm = bpm
        o.darkScale = !noDarkScale
        o.exptimeKey = exptimeKey.uppercased()
        o.flatMin = flatMin
        o.normValue = normValue
        o.goodBits = try GoodBits.parse(goodBits)
        o.toRate = toRate
        o.ccdprocCompat = ccdprocCompat
        o.logStyle = noLog ? .none : StepLog.Style(rawValue: logStyle)!
        o.addKeywords = addKeyword.map { kv in
            let eq = kv.firstIndex(of: "=")!
            return (String(kv[..<eq]).trimmingCharacters(in: .whitespaces).uppercased(),
                    String(kv[kv.index(after: eq)...]).trimmingCharacters(in: .whitespaces))
        }
        o.software = "astrotool \(AstroTool.version)"
        return o
    }

    func run() throws {
        common.apply()
        let opts = try options()
        let files = try HeaderFilter.select(inputs, where: `where`)
        if dryRun {
            let steps = opts.steps.isEmpty ? "nothing to do" : opts.steps.joined(separator: ", ")
            for f in files { Console.out("\(f): \(steps)") }
            return
        }
        let outputs = try OutputPlan.outputs(for: files, output: output, outdir: outdir)
        try OutputPlan.checkDistinct(inputs: files + [bias, dark, flat, bpm].compactMap { $0 }, outputs: outputs)
        try Self.runFiles(files, outputs: outputs, options: opts, common: common, bitpix: bitpix, verb: "process")
    }

    /// Runs `options` on each file: shared by `process`, `deviation` and `gain`.
    static func runFiles(_ files: [String], outputs: [String], options opts: ProcessOptions, common: CommonOptions,
                         bitpix: String, verb: String) throws {
        let masters = try Masters(options: opts)
        var reports: [FileSummary] = []
        for (i, (input, out)) in zip(files, outputs).enumerated() {
            common.progress("\(verb) \(i + 1)/\(files.count) \(input)")
            let frame = try CCDFile.read(input, goodBits: opts.goodBits)
            let (result, chips) = try CCDProcess.run(frame, masters: masters, options: opts)
            try result.write(to: out, overwrite: common.overwrite, bitpix: bitpix == "-64" ? .float64 : .float32)
            reports.append(FileSummary(input: input, output: out, chips: chips))
            if !common.json {
                let c = chips.map { c in
                    var s = c.steps.joined(separator: ",")
                    if let n = c.badFlat, n > 0 { s += " (\(n) bad-flat pixels)" }
                    return s
                }.joined(separator: "; ")
                common.note("astrotool ccdproc \(verb): \(input) -> \(out) [\(c)]")
            }
        }
        Console.endProgress()
        if common.json { try printJSON(ProcessSummary(files: reports)) }
    }

    struct FileSummary: Encodable { var input, output: String; var chips: [ChipReport] }
    struct ProcessSummary: Encodable { var files: [FileSummary] }
}
