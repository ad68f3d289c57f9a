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

    @OptionGroup(title: "Calibration steps") var steps: CalibrationStepOptions

    @Option(help: ArgumentHelp("Gain in e-/ADU, or the header keyword holding it. Data become electrons.", valueName: "G|KEYWORD"))
    var gain: String?

    @Option(help: ArgumentHelp("Read noise in e-, or the header keyword holding it.", valueName: "R|KEYWORD"))
    var readnoise: String?

    @Flag(help: "Attach ERR = sqrt(g*D + R^2)/g after overscan and trim (needs --readnoise, and --gain for ADU data).")
    var error = false

    @Option(help: ArgumentHelp("Where g*D < 0: clamp (sigma = R/g) or nan (ccdproc's create_deviation).", valueName: "clamp|nan"))
    var negative = "clamp"

    @Option(help: "Bad-pixel mask (non-zero = bad), e.g. from 'ccdproc ccdmask'.")
    var bpm: String?

    @Option(help: "Header keyword of the exposure time in seconds.")
    var exptimeKey = "EXPTIME"

    @Option(help: ArgumentHelp("DQ/MASK bits that count as good: 4, 4,8, 4+8, ~4, names, none (default: every set bit is bad).", valueName: "BITS"))
    var goodBits = "none"

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
        guard Calibrate.Negative(rawValue: negative) != nil else { throw ValidationError("--negative takes clamp or nan") }
        guard ["iraf", "ccdproc"].contains(logStyle) else { throw ValidationError("--log-style takes iraf or ccdproc") }
        guard ["-32", "-64"].contains(bitpix) else { throw ValidationError("--bitpix takes -32 or -64") }
        if error && readnoise == nil { throw ValidationError("--error needs --readnoise") }
        for k in addKeyword where !k.contains("=") { throw ValidationError("--add-keyword takes KEY=VALUE, not '\(k)'") }
    }

    func options() throws -> ProcessOptions {
        var o = ProcessOptions()
        try steps.apply(to: &o)
        o.gain = gain.map(ProcessOptions.Quantity.parse)
        o.readNoise = readnoise.map(ProcessOptions.Quantity.parse)
        o.error = error
        o.negative = Calibrate.Negative(rawValue: negative)!
        o.bpm = bpm
        o.exptimeKey = exptimeKey.uppercased()
        o.goodBits = try GoodBits.parse(goodBits)
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
            let list = opts.steps.isEmpty ? "nothing to do" : opts.steps.joined(separator: ", ")
            for f in files { Console.out("\(f): \(list)") }
            return
        }
        let outputs = try OutputPlan.outputs(for: files, output: output, outdir: outdir)
        try OutputPlan.checkDistinct(inputs: files + steps.masters + [bpm].compactMap { $0 }, outputs: outputs)
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
