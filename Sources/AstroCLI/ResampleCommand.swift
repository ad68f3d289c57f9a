import ArgumentParser
import AstroDrizzle
import AstroFITS
import AstroImage
import Foundation

/// `astrotool resample`: drizzle frames onto one output WCS (the default), or blot one back.
struct ResampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resample",
        abstract: "Drizzle frames onto one output WCS, or blot a mosaic back onto a frame's grid.",
        discussion: "Without a subcommand the inputs are drizzled: `astrotool resample a.fits b.fits -o mosaic.fits`.",
        subcommands: [ResampleDrizzleCommand.self, ResampleBlotCommand.self],
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
    @Option(help: "Output grid: this image's WCS and shape.") var ref: String?
    @Option(help: "Output grid: a text header (NAXIS1/NAXIS2 or --shape).") var wcs: String?
    @Option(parsing: .upToNextOption, help: ArgumentHelp("Output size.", valueName: "NX NY")) var shape: [Int] = []
    @Option(help: "Output pixel scale in arcsec (default: the first input's).") var pixelScale: Double?
    @Option(help: "Output pixel scale as a multiple of the first input's.") var pixelScaleRatio = 1.0
    @Option(help: "Output rotation, degrees east of north (0: north up).") var rotation = 0.0
    @Option(parsing: .upToNextOption, help: ArgumentHelp("Output centre (default: the inputs').", valueName: "RA DEC")) var crval: [Double] = []
    @Option(help: "square|point|turbo|gaussian|lanczos2|lanczos3.") var kernel = "square"
    @Option(help: "Drop size relative to an input pixel.") var pixfrac = 1.0
    @Option(help: "Where no input lands: NaN, INDEF (leave) or a number.") var fillval = "NaN"
    @Option(help: "ivm|exptime|none.") var weightType = "ivm"
    @Option(help: ArgumentHelp("DQ/MASK bits that count as good.", valueName: "BITS")) var goodBits = "none"
    @Option(help: ArgumentHelp("Names for --good-bits, e.g. JUMP_DET=4,DROPOUT=8.", valueName: "NAME=BIT,...")) var dqFlags = ""
    @Flag(help: "Write no context (CON).") var noContext = false
    @Option(help: "Header keyword of the exposure time.") var exptimeKey = "EXPTIME"
    @Option(help: "Input units: rate (as they are) or counts (divided by the exposure time).") var units = "rate"
    @Option(help: "Header keyword of each chip's sky level ('' to subtract none).") var skyKey = "SKYVALUE"
    @Option(help: "Exact WCS every N pixels, bilinear between (1: exact at every pixel).") var pixmapStep = 1
    @Flag(help: "Do not resample VAR_RNOISE, VAR_POISSON, VAR_FLAT.") var noVariance = false
    @Option(help: "Output ERR from: auto (from_var when variances are resampled, else driz_err), from_var, driz_err, none.") var computeErr = "auto"
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard DrizzleOptions.Kernel(rawValue: kernel) != nil else { throw ValidationError("--kernel takes square, point, turbo, gaussian, lanczos2 or lanczos3") }
        guard ResampleOptions.WeightType(rawValue: weightType) != nil else { throw ValidationError("--weight-type takes ivm, exptime or none") }
        guard ResampleOptions.Units(rawValue: units) != nil else { throw ValidationError("--units takes rate or counts") }
        guard ResampleOptions.ErrorSource(rawValue: computeErr) != nil else { throw ValidationError("--compute-err takes auto, from_var, driz_err or none") }
        guard pixmapStep >= 1 else { throw ValidationError("--pixmap-step must be at least 1") }
        guard pixfrac > 0, pixfrac <= 1 else { throw ValidationError("--pixfrac must be in (0, 1]") }
        if ref != nil && wcs != nil { throw ValidationError("give --ref or --wcs, not both") }
        if !shape.isEmpty && (shape.count != 2 || shape.contains { $0 <= 0 }) { throw ValidationError("--shape takes NX NY, both positive") }
        if !crval.isEmpty && crval.count != 2 { throw ValidationError("--crval takes RA DEC") }
        if let s = pixelScale, !(s > 0) { throw ValidationError("--pixel-scale must be positive") }
        guard pixelScaleRatio > 0 else { throw ValidationError("--pixel-scale-ratio must be positive") }
        guard ["nan", "indef"].contains(fillval.lowercased()) || Float(fillval) != nil else {
            throw ValidationError("--fillval takes NaN, INDEF or a number")
        }
    }

    func run() throws {
        common.apply()
        let files = try expandListArguments(inputs)
        try OutputPlan.checkDistinct(inputs: files + [ref].compactMap { $0 }, outputs: [output])
        var o = ResampleOptions()
        let size = shape.isEmpty ? nil : (shape[0], shape[1])
        if let ref { o.grid = .reference(ref) }
        else if let wcs { o.grid = .header(wcs, shape: size) }
        else {
            o.grid = .cover(pixelScale: pixelScale, ratio: pixelScaleRatio, rotation: rotation,
                            centre: crval.isEmpty ? nil : (crval[0], crval[1]), shape: size)
        }
        o.drizzle.kernel = .init(rawValue: kernel)!
        o.drizzle.pixfrac = pixfrac
        o.drizzle.fill = switch fillval.lowercased() { case "nan": .nan; case "indef": .indef; default: .value(Float(fillval)!) }
        o.weightType = .init(rawValue: weightType)!
        o.goodBits = try GoodBits.parse(goodBits, names: dqFlags.isEmpty ? [] : GoodBits.names(dqFlags))
        o.context = !noContext
        o.exptimeKey = exptimeKey.uppercased()
        o.units = .init(rawValue: units)!
        o.skyKey = skyKey.isEmpty ? nil : skyKey.uppercased()
        o.pixmapStep = pixmapStep
        o.variance = !noVariance
        o.errorSource = .init(rawValue: computeErr)!
        let r = try Resample.run(files, options: o, output: output, overwrite: common.overwrite)
        common.detail("resample: kernel \(kernel) on \(files.count) inputs in \(String(format: "%.3f", r.kernelSeconds)) s")
        if common.json { try printJSON(r) } else {
            common.note("astrotool resample: \(files.count) inputs -> \(output) (\(r.width)x\(r.height), \(r.kernel), weights \(Set(r.weights).sorted().joined(separator: "/")))")
        }
    }
}

/// `astrotool resample blot`: a mosaic sampled back onto an input's grid.
struct ResampleBlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blot",
        abstract: "Sample a mosaic onto another image's grid (drizzle's blot: the inverse map, not flux conserving).",
        discussion: """
        The output has the reference's shape and header (its WCS); each pixel is the mosaic interpolated where \
        that pixel's centre falls, times --scale; pixels falling outside the mosaic get --fillval.
        Example: astrotool resample blot mosaic.fits --ref sci_001.fits -o blot_001.fits --interp poly5
        """
    )

    @Argument(help: "The image to sample (its primary HDU or an extension, with a celestial WCS).") var mosaic: String
    @Option(help: "The grid to sample onto: this image's WCS and shape.") var ref: String
    @Option(name: .shortAndLong, help: "Output file.") var output: String
    @Option(help: "nearest|linear|poly3|poly5|lanczos3|lanczos5.") var interp = "poly5"
    @Option(help: "Multiplies every value (1/r^2 undoes drizzle's count scaling).") var scale: Float = 1
    @Option(help: "Value of pixels that fall outside the mosaic.") var fillval: Float = 0
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard Blot.Interpolation(rawValue: interp) != nil else {
            throw ValidationError("--interp takes nearest, linear, poly3, poly5, lanczos3 or lanczos5")
        }
    }

    func run() throws {
        common.apply()
        try OutputPlan.checkDistinct(inputs: [mosaic, ref], outputs: [output])
        let missed = try Blot.run(mosaic: mosaic, reference: ref, output: output, interpolation: .init(rawValue: interp)!,
                                  scale: scale, fill: fillval, overwrite: common.overwrite)
        struct Report: Encodable { let output: String; let interp: String; let filled: Int }
        if common.json { try printJSON(Report(output: output, interp: interp, filled: missed)) } else {
            common.note("astrotool resample blot: \(mosaic) -> \(output) (\(interp), \(missed) pixels outside the mosaic)")
        }
    }
}
