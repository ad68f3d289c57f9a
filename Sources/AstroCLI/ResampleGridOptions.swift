import ArgumentParser
import AstroDrizzle
import AstroImage

/// The options `resample drizzle` and `resample outliers` share: the output grid, the kernel,
/// the weights and DQ, units, sky and the pixel map.
struct ResampleGridOptions: ParsableArguments {
    @Option(help: "Output grid: this image's WCS and shape.") var ref: String?
    @Option(help: "Output grid: a text header (NAXIS1/NAXIS2 or --shape).") var wcs: String?
    @Option(parsing: .upToNextOption, help: ArgumentHelp("Output size.", valueName: "NX NY")) var shape: [Int] = []
    @Option(help: "Output pixel scale in arcsec (default: the first input's).") var pixelScale: Double?
    @Option(help: "Output pixel scale as a multiple of the first input's.") var pixelScaleRatio = 1.0
    @Option(help: "Output rotation, degrees east of north (0: north up).") var rotation = 0.0
    @Option(parsing: .upToNextOption, help: ArgumentHelp("Output centre (default: the inputs').", valueName: "RA DEC")) var crval: [Double] = []
    @Option(help: "square|point|turbo|gaussian|lanczos2|lanczos3.") var kernel = "square"
    @Option(help: "Drop size relative to an input pixel.") var pixfrac = 1.0
    @Option(help: "ivm|exptime|none.") var weightType = "ivm"
    @Option(help: ArgumentHelp("DQ/MASK bits that count as good.", valueName: "BITS")) var goodBits = "none"
    @Option(help: ArgumentHelp("Names for --good-bits, e.g. JUMP_DET=4,DROPOUT=8.", valueName: "NAME=BIT,...")) var dqFlags = ""
    @Option(help: "Header keyword of the exposure time.") var exptimeKey = "EXPTIME"
    @Option(help: "Input units: rate (as they are) or counts (divided by the exposure time).") var units = "rate"
    @Option(help: "Header keyword of each chip's sky level ('' to subtract none).") var skyKey = "SKYVALUE"
    @Option(help: ArgumentHelp("Exact WCS every N pixels, bilinear between (1: exact at every pixel); auto: the largest step within --pixmap-tolerance.", valueName: "N|auto")) var pixmapStep = "auto"
    @Option(help: ArgumentHelp("For --pixmap-step auto: the largest error of the interpolated map, in output pixels.", valueName: "PX")) var pixmapTolerance = 1e-5

    func validate() throws {
        guard DrizzleOptions.Kernel(rawValue: kernel) != nil else { throw ValidationError("--kernel takes square, point, turbo, gaussian, lanczos2 or lanczos3") }
        guard ResampleOptions.WeightType(rawValue: weightType) != nil else { throw ValidationError("--weight-type takes ivm, exptime or none") }
        guard ResampleOptions.Units(rawValue: units) != nil else { throw ValidationError("--units takes rate or counts") }
        guard pixmapStep == "auto" || (Int(pixmapStep) ?? 0) >= 1 else { throw ValidationError("--pixmap-step takes auto or a whole number of pixels, at least 1") }
        guard pixmapTolerance > 0 else { throw ValidationError("--pixmap-tolerance must be positive") }
        guard pixfrac > 0, pixfrac <= 1 else { throw ValidationError("--pixfrac must be in (0, 1]") }
        if ref != nil && wcs != nil { throw ValidationError("give --ref or --wcs, not both") }
        if !shape.isEmpty && (shape.count != 2 || shape.contains { $0 <= 0 }) { throw ValidationError("--shape takes NX NY, both positive") }
        if !crval.isEmpty && crval.count != 2 { throw ValidationError("--crval takes RA DEC") }
        if let s = pixelScale, !(s > 0) { throw ValidationError("--pixel-scale must be positive") }
        guard pixelScaleRatio > 0 else { throw ValidationError("--pixel-scale-ratio must be positive") }
    }

    /// Every option of this group, by name (a tile job takes them from its plan and refuses them).
    static let names = ["--ref", "--wcs", "--shape", "--pixel-scale", "--pixel-scale-ratio", "--rotation", "--crval", "--kernel", "--pixfrac",
                        "--weight-type", "--good-bits", "--dq-flags", "--exptime-key", "--units", "--sky-key", "--pixmap-step", "--pixmap-tolerance"]

    /// The engine's options from these (the rest at their defaults).
    func options() throws -> ResampleOptions {
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
        o.weightType = .init(rawValue: weightType)!
        o.goodBits = try GoodBits.parse(goodBits, names: dqFlags.isEmpty ? [] : GoodBits.names(dqFlags))
        o.exptimeKey = exptimeKey.uppercased()
        o.units = .init(rawValue: units)!
        o.skyKey = skyKey.isEmpty ? nil : skyKey.uppercased()
        if let n = Int(pixmapStep) { o.pixmapSampling = n > 1 ? .step(n) : .exact } else { o.pixmapSampling = .auto(tolerance: pixmapTolerance) }
        return o
    }
}
