import ArgumentParser
import AstroDrizzle
import AstroFITS
import AstroImage
import Foundation

/// `astrotool resample`: drizzle frames onto one output WCS (the default), or blot one back.
struct ResampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resample",
        abstract: "Drizzle frames onto one output WCS, blot a mosaic back onto a frame's grid, or flag outliers between dithers.",
        discussion: "Without a subcommand the inputs are drizzled: `astrotool resample a.fits b.fits -o mosaic.fits`.",
        subcommands: [ResampleDrizzleCommand.self, ResampleBlotCommand.self, ResampleOutliersCommand.self],
        defaultSubcommand: ResampleDrizzleCommand.self
    )
}

/// `astrotool resample [drizzle]`: drizzle frames onto one output WCS.
struct ResampleDrizzleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drizzle",
        abstract: "Drizzle frames onto one output WCS (spacetelescope drizzle's kernels and weighting).",
        discussion: """
        Each input is a FITS file or extension with a celestial WCS; ERR/UNCERT, DQ/MASK and VAR_RNOISE beside \
        it (same EXTVER) are used. Weights: ivm = 1/VAR_RNOISE, else 1/ERR^2, else 1; exptime; none; times \
        the DQ mask (--good-bits forgives bits); pixels with non-finite data weigh 0. The sky keyword's level \
        is subtracted unless SKYSUB = T. Output: SCI (primary), WHT, CON (int32, one bit per input, a plane \
        per 32 inputs), DQ (the OR of the inputs' DQ bits that landed, 32 = no data), ERR and VAR_* when the inputs \
        have them; EXPTIME (total), EXPSTART/EXPEND, NDRIZIM, KERNEL, PIXFRAC, FILLVAL, WTSCL and one HISTORY line per input.
        Example: astrotool resample sky/sci_*.fits -o mosaic.fits --pixel-scale-ratio 0.8 --kernel square --pixfrac 0.8
        """
    )

    @Argument(help: "Input frames or extensions (FITS; @list files accepted).") var inputs: [String]
    @Option(name: .shortAndLong, help: "Output file.") var output: String
    @Option(help: "Where no input lands: NaN, INDEF (leave) or a number.") var fillval = "NaN"
    @Flag(help: "Write no context (CON).") var noContext = false
    @Flag(help: "Do not resample VAR_RNOISE, VAR_POISSON, VAR_FLAT.") var noVariance = false
    @Option(help: "Output ERR from: auto (from_var when variances are resampled, else driz_err), from_var, driz_err, none.") var computeErr = "auto"
    @Option(help: ArgumentHelp("Working memory; a larger mosaic is drizzled in bands of rows (default: half the machine's memory).", valueName: "SIZE")) var memLimit: String?
    @OptionGroup var grid: ResampleGridOptions
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard ResampleOptions.ErrorSource(rawValue: computeErr) != nil else { throw ValidationError("--compute-err takes auto, from_var, driz_err or none") }
        if let memLimit, byteCount(memLimit) == nil { throw ValidationError("--mem-limit takes a size such as 512M or 2G, not '\(memLimit)'") }
        guard ["nan", "indef"].contains(fillval.lowercased()) || Float(fillval) != nil else {
            throw ValidationError("--fillval takes NaN, INDEF or a number")
        }
    }

    func run() throws {
        common.apply()
        let files = try expandListArguments(inputs)
        try OutputPlan.checkDistinct(inputs: files + [grid.ref].compactMap { $0 }, outputs: [output])
        var o = try grid.options()
        o.drizzle.fill = switch fillval.lowercased() { case "nan": .nan; case "indef": .indef; default: .value(Float(fillval)!) }
        o.context = !noContext
        o.variance = !noVariance
        o.errorSource = .init(rawValue: computeErr)!
        o.memoryLimit = memLimit.flatMap(byteCount)
        let r = try Resample.run(files, options: o, output: output, overwrite: common.overwrite)
        for u in r.unused { common.warn("\(u.input)[\(u.hdu)]: drizzling: \(u.reason); left out") }
        common.detail("resample: kernel \(grid.kernel) on \(files.count) inputs in \(String(format: "%.3f", r.kernelSeconds)) s (pixmap step \(r.pixmapSteps.map(String.init).joined(separator: ","))\(r.passes > 1 ? ", \(r.passes) bands of rows" : ""))")
        if common.json { try printJSON(r) } else {
            common.note("astrotool resample: \(files.count) inputs -> \(output) (\(r.width)x\(r.height), \(r.kernel), weights \(Set(r.weights).sorted().joined(separator: "/")))")
        }
    }
}
