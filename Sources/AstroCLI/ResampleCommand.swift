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
        subcommands: [ResampleDrizzleCommand.self, ResampleBlotCommand.self, ResampleOutliersCommand.self, ResamplePlanCommand.self,
                      ResampleCombineCommand.self],
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
        One tile of a plan (`resample plan`): astrotool resample --plan plan.json --tile 3 -o part_3.fits
        """
    )

    @Argument(help: "Input frames or extensions (FITS; @list files accepted); with --plan, optional (then the plan's).") var inputs: [String] = []
    @Option(name: .shortAndLong, help: "Output file.") var output: String
    @Option(help: ArgumentHelp("Working memory; a larger mosaic is drizzled in bands of rows (default: half the machine's memory).", valueName: "SIZE")) var memLimit: String?
    @Option(help: ArgumentHelp("Drizzle one tile of this plan (`resample plan`): its grid, options and inputs.", valueName: "PLAN")) var plan: String?
    @Option(help: ArgumentHelp("With --plan: the tile to drizzle (1…NX·NY).", valueName: "K")) var tile: Int?
    @OptionGroup var drizzle: ResampleOutputOptions
    @OptionGroup var grid: ResampleGridOptions
    @OptionGroup var common: CommonOptions

    func validate() throws {
        if let memLimit, byteCount(memLimit) == nil { throw ValidationError("--mem-limit takes a size such as 512M or 2G, not '\(memLimit)'") }
        guard plan != nil else {
            if tile != nil { throw ValidationError("--tile needs --plan") }
            if inputs.isEmpty { throw ValidationError("Missing expected argument '<inputs> ...'") }
            return
        }
        guard tile != nil else { throw ValidationError("--plan needs --tile K") }
        // Looked up on the command line: an option given at its default value is refused too.
        let names = ResampleGridOptions.names + ResampleOutputOptions.names + ["--mem-limit"]
        let given = names.filter { name in CommandLine.arguments.dropFirst().contains { $0 == name || $0.hasPrefix(name + "=") } }
        if !given.isEmpty { throw ValidationError("--plan fixes the grid and the drizzle options; \(given.joined(separator: ", ")) cannot be given with it") }
    }

    func run() throws {
        common.apply()
        let files = try expandListArguments(inputs)
        if let plan, let tile {
            let p = try ResamplePlan.read(plan)
            try OutputPlan.checkDistinct(inputs: (files.isEmpty ? p.inputs.map { p.resolved($0.path) } : files) + [plan], outputs: [output])
            let r = try Resample.runTile(p, planPath: plan, paths: files.isEmpty ? nil : files, tile: tile, output: output, overwrite: common.overwrite)
            common.detail("resample: tile \(tile) read inputs \(r.read.map(String.init).joined(separator: ",")); kernels \(String(format: "%.3f", r.kernelSeconds)) s")
            if common.json { try printJSON(r) } else {
                common.note("astrotool resample: tile \(tile) of plan \(r.plan) (columns \(r.x0)..<\(r.x1), rows \(r.y0)..<\(r.y1), \(r.read.count) inputs read) -> \(output)")
            }
            return
        }
        try OutputPlan.checkDistinct(inputs: files + [grid.ref].compactMap { $0 }, outputs: [output])
        var o = try grid.options()
        drizzle.apply(to: &o)
        o.memoryLimit = memLimit.flatMap(byteCount)
        let r = try Resample.run(files, options: o, output: output, overwrite: common.overwrite)
        for u in r.unused { common.warn("\(u.input)[\(u.hdu)]: drizzling: \(u.reason); left out") }
        common.detail("resample: kernel \(grid.kernel) on \(files.count) inputs in \(String(format: "%.3f", r.kernelSeconds)) s (pixmap step \(r.pixmapSteps.map(String.init).joined(separator: ","))\(r.passes > 1 ? ", \(r.passes) bands of rows" : ""))")
        if common.json { try printJSON(r) } else {
            common.note("astrotool resample: \(files.count) inputs -> \(output) (\(r.width)x\(r.height), \(r.kernel), weights \(Set(r.weights).sorted().joined(separator: "/")))")
        }
    }
}
