import ArgumentParser
import AstroCCD
import AstroFITS
import AstroImage
import Foundation

/// `astrotool ccdproc stats`: statistics of a region, IRAF imstatistics style.
struct CCDStatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Statistics of frames or a region of them (npix mean median midpt mode stddev mad-std min max, clipped).",
        discussion: """
        One line per input (the first chip of a multi-chip file unless an HDU is named, e.g. f.fits[SCI,2]). \
        std is the population sigma (numpy, astropysics), stddev IRAF's sample sigma; midpt and mode are \
        IRAF's histogram estimates; the clipped columns are sigma_clipped_stats (median centre). MASK \
        pixels are left out unless --no-mask. --minus/--divide compare with another frame of the same \
        shape (a master against the simulation's truth: the std of the difference is its error).
        Example: astrotool ccdproc stats master_bias.fits --minus truth/bias.fits --section '[10:500,10:500]'
        """
    )

    @Argument(help: "Frames (FITS; @list files accepted).")
    var inputs: [String]
    @Option(help: ArgumentHelp("Region: a FITS section, 1-based inclusive.", valueName: "[x1:x2,y1:y2]"))
    var section: String?
    @Option(help: ArgumentHelp("Region: a circle, centre in FITS pixels (1-based), radius in pixels.", valueName: "X,Y,R"))
    var circle: String?
    @Flag(help: "Include MASK's non-zero pixels.")
    var noMask = false
    @Option(help: ArgumentHelp("Sigma clipping: sigma and maximum iterations.", valueName: "SIGMA,ITERS"))
    var clip = "3,5"
    @Option(help: "Statistics of each input minus this frame.")
    var minus: String?
    @Option(help: "Statistics of each input divided by this frame.")
    var divide: String?
    @Option(help: ArgumentHelp("DQ/MASK bits that count as good.", valueName: "BITS"))
    var goodBits = "none"
    @OptionGroup var common: CommonOptions

    func validate() throws {
        if section != nil && circle != nil { throw ValidationError("give --section or --circle, not both") }
        if minus != nil && divide != nil { throw ValidationError("give --minus or --divide, not both") }
    }

    func run() throws {
        common.apply()
        var o = RegionStatsOptions()
        o.useMask = !noMask
        let c = clip.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard c.count == 2, let sigma = c[0], let iters = c[1], sigma > 0, iters >= 1, iters == iters.rounded() else {
            throw AstroError(.usage, operation: "parsing --clip", reason: "'\(clip)' is not SIGMA,ITERS (e.g. 3,5)")
        }
        o.clipSigma = sigma; o.clipIterations = Int(iters)
        if let section { o.region = .section(section) }
        if let circle {
            let p = circle.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard p.count == 3 else { throw AstroError(.usage, operation: "parsing --circle", reason: "'\(circle)' is not X,Y,R") }
            o.region = .circle(x: p[0], y: p[1], radius: p[2])
        }
        let goodBits = try GoodBits.parse(goodBits)
        if let minus { o.compare = .minus(try CCDFile.read(minus, goodBits: goodBits).chips[0].image) }
        if let divide { o.compare = .divide(try CCDFile.read(divide, goodBits: goodBits).chips[0].image) }
        let files = try expandListArguments(inputs)
        guard !files.isEmpty else { throw AstroError(.noInput, operation: "selecting inputs", reason: "no input files") }
        var rows: [Row] = []
        if !common.json {
            Console.out("# file npix mean median midpt mode stddev mad_std min max clip_mean clip_median clip_std clip_n")
        }
        for f in files {
            let s = try RegionStats.compute(try CCDFile.read(f, goodBits: goodBits).chips[0].image, file: f, options: o)
            rows.append(Row(file: f, stats: s))
            if !common.json {
                let v = [s.mean, s.median, s.midpt, s.mode, s.stddev, s.madStd, s.min, s.max, s.clippedMean, s.clippedMedian, s.clippedStd]
                Console.out("\(f) \(s.npix) " + v.map { String(format: "%.6g", $0) }.joined(separator: " ") + " \(s.clippedN)")
            }
        }
        if common.json { try printJSON(rows) }
    }

    struct Row: Encodable { var file: String; var stats: RegionStats }
}
