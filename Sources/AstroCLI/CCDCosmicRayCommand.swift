import ArgumentParser
import AstroCCD
import AstroFITS
import AstroImage
import Foundation

/// `astrotool ccdproc cosmicray`: L.A.Cosmic (astroscrappy's algorithm) or ccdproc's median method.
struct CCDCosmicRayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cosmicray",
        abstract: "Find and replace cosmic rays: L.A.Cosmic (astroscrappy) or a median filter (ccdproc).",
        discussion: """
        Cosmic-ray pixels get MASK bit COSMIC_RAY (4) and are replaced (L.A.Cosmic: --cleantype; \
        median: the --rbox median of the box's other pixels). Detection works in electrons: ADU data \
        are multiplied by the gain (--gain, else the header's GAIN, else 1) and the result comes back \
        in the input's unit unless --gain-apply, which scales data and ERR alike and sets BUNIT \
        (ccdproc relabels the unit without scaling ERR). The frame's MASK (after --good-bits) and \
        non-finite pixels are kept out of detection and cleaning; --ignore-mask leaves MASK out. \
        The data must still contain the sky (or pass it as --inbkg).
        Example: astrotool ccdproc cosmicray red/sci_*.fits --outdir clean --readnoise RDNOISE --satlevel 60000adu
        """
    )

    @Argument(help: "Calibrated frames (FITS; @list files accepted).")
    var inputs: [String]
    @Option(name: .shortAndLong, help: "Output file (one input only).")
    var output: String?
    @Option(help: "Output folder; each product keeps its input's file name.")
    var outdir: String?
    @Option(help: "lacosmic|median.")
    var method = "lacosmic"

    @Option(help: "L.A.Cosmic: Laplacian-to-noise threshold.")
    var sigclip: Float = 4.5
    @Option(help: "L.A.Cosmic: neighbours need sigfrac*sigclip.")
    var sigfrac: Float = 0.3
    @Option(help: "L.A.Cosmic: minimum contrast over the fine-structure image (raise if star cores are flagged).")
    var objlim: Float = 5
    @Option(help: "L.A.Cosmic: iterations at most (it stops when one finds nothing).")
    var niter = 4
    @Flag(inversion: .prefixedNo, help: "L.A.Cosmic: separable medians (faster); --no-sepmed for true box medians.")
    var sepmed = true
    @Option(help: "L.A.Cosmic replacement: meanmask|medmask|idw|median (5x5 box; median = all 25 pixels).")
    var cleantype = "meanmask"
    @Option(help: "L.A.Cosmic fine structure: median|convolve (with --psfmodel).")
    var fsmode = "median"
    @Option(help: "PSF for --fsmode convolve: gauss|gaussx|gaussy|moffat.")
    var psfmodel = "gauss"
    @Option(help: "PSF FWHM in pixels.")
    var psffwhm: Float = 2.5
    @Option(help: "PSF kernel side (odd).")
    var psfsize = 7
    @Option(help: "Moffat beta.")
    var psfbeta: Float = 4.765
    @Option(help: ArgumentHelp("Saturation: electrons (65535, 65535e), ADU (65535adu) or a header keyword in ADU; default the header's SATURATE, else 65535 ADU, times the gain.", valueName: "LEVEL"))
    var satlevel: String?
    @Option(help: "Background image (same units as the data) removed during detection only (astroscrappy's inbkg).")
    var inbkg: String?
    @Option(help: "Variance image (data units squared) replacing the noise model (astroscrappy's invar).")
    var invar: String?

    @Option(help: "Median method: threshold in sigma above the median.")
    var thresh: Float = 5
    @Option(help: "Median method: side of the median box.")
    var mbox = 11
    @Option(help: "Median method: grow flags by a gbox x gbox box (0: no growth).")
    var gbox = 0
    @Option(help: "Median method: replace flags by an rbox x rbox median (default: mbox; 0: flag only, ccdproc's default).")
    var rbox: Int?

    @Option(help: ArgumentHelp("Gain in e-/ADU or a header keyword (default: GAIN, else 1). Ignored for electron data.", valueName: "G|KEYWORD"))
    var gain: String?
    @Option(help: ArgumentHelp("Read noise in e- or a header keyword (default: RDNOISE, else 6.5).", valueName: "R|KEYWORD"))
    var readnoise: String?
    @Flag(help: "Return ADU data in electrons (data and ERR times the gain, BUNIT electron).")
    var gainApply = false
    @Option(help: "Extra bad-pixel mask (non-zero = bad) kept out of detection, e.g. from 'ccdproc ccdmask'.")
    var inmask: String?
    @Flag(help: "Do not keep the frame's MASK pixels out of detection.")
    var ignoreMask = false
    @Option(help: ArgumentHelp("MASK/DQ bits that count as good: 4, 4,8, ~4, names, none.", valueName: "BITS"))
    var goodBits = "none"
    @Flag(help: "Median method: replace from every box pixel, cosmic rays included, as ccdproc does.")
    var ccdprocCompat = false
    @Option(help: ArgumentHelp("Header cards: iraf (CRCOR + HISTORY) or ccdproc.", valueName: "iraf|ccdproc"))
    var logStyle = "iraf"
    @Flag(help: "Write no step cards or HISTORY.")
    var noLog = false
    @Option(help: ArgumentHelp("Storage of the data and ERR: -32 or -64.", valueName: "-32|-64"))
    var bitpix = "-32"
    @OptionGroup var common: CommonOptions

    func validate() throws {
        if output != nil && outdir != nil { throw ValidationError("give -o or --outdir, not both") }
        if output == nil && outdir == nil { throw ValidationError("give -o OUT or --outdir DIR") }
        guard CosmicRayOptions.Method(rawValue: method) != nil else { throw ValidationError("--method takes lacosmic or median") }
        guard LACosmicOptions.CleanType(rawValue: cleantype) != nil else { throw ValidationError("--cleantype takes meanmask, medmask, idw or median") }
        guard LACosmicOptions.FineStructure(rawValue: fsmode) != nil else { throw ValidationError("--fsmode takes median or convolve") }
        guard LACosmicOptions.PSFModel(rawValue: psfmodel) != nil else { throw ValidationError("--psfmodel takes gauss, gaussx, gaussy or moffat") }
        guard psfsize > 0 && psfsize % 2 == 1 else { throw ValidationError("--psfsize must be odd and positive") }
        guard niter >= 1 else { throw ValidationError("--niter must be at least 1") }
        guard sigclip > 0, sigfrac > 0, objlim > 0, psffwhm > 0, thresh > 0 else {
            throw ValidationError("--sigclip, --sigfrac, --objlim, --psffwhm and --thresh must be positive")
        }
        guard mbox >= 1, gbox >= 0, (rbox ?? 0) >= 0 else { throw ValidationError("--mbox must be at least 1, --gbox and --rbox not negative") }
        guard ["iraf", "ccdproc"].contains(logStyle) else { throw ValidationError("--log-style takes iraf or ccdproc") }
        guard ["-32", "-64"].contains(bitpix) else { throw ValidationError("--bitpix takes -32 or -64") }
    }

    func options() throws -> CosmicRayOptions {
        var o = CosmicRayOptions()
        o.method = CosmicRayOptions.Method(rawValue: method)!
        var l = LACosmicOptions()
        l.sigclip = sigclip; l.sigfrac = sigfrac; l.objlim = objlim; l.niter = niter; l.sepmed = sepmed
        l.cleantype = .init(rawValue: cleantype)!; l.fsmode = .init(rawValue: fsmode)!; l.psfmodel = .init(rawValue: psfmodel)!
        l.psffwhm = psffwhm; l.psfsize = psfsize; l.psfbeta = psfbeta
        o.lacosmic = l
        var m = CosmicRayMedianOptions()
        m.thresh = thresh; m.mbox = mbox; m.gbox = gbox; m.rbox = rbox; m.unmaskedReplacement = ccdprocCompat
        o.median = m
        o.gain = gain.map(ProcessOptions.Quantity.parse)
        o.readNoise = readnoise.map(ProcessOptions.Quantity.parse)
        o.saturation = satlevel.map(CosmicRayOptions.Saturation.parse)
        o.gainApply = gainApply
        o.ignoreMask = ignoreMask
        o.logStyle = noLog ? .none : StepLog.Style(rawValue: logStyle)!
        o.software = "astrotool \(AstroTool.version)"
        return o
    }

    func run() throws {
        common.apply()
        var opts = try options()
        let goodBits = try GoodBits.parse(goodBits)
        let files = try expandListArguments(inputs)
        guard !files.isEmpty else { throw AstroError(.noInput, operation: "selecting inputs", reason: "no input files") }
        let outputs = try OutputPlan.outputs(for: files, output: output, outdir: outdir)
        try OutputPlan.checkDistinct(inputs: files + [inmask, inbkg, invar].compactMap { $0 }, outputs: outputs)
        // Non-zero (NaN included) is bad.
        if let inmask { opts.inmask = try FITS.readImage(inmask).pixels.map { $0 != 0 ? 1 : 0 } }
        if let inbkg { opts.background = try FITS.readImage(inbkg).pixels }
        if let invar { opts.variance = try FITS.readImage(invar).pixels }
        var reports: [FileSummary] = []
        for (i, (input, out)) in zip(files, outputs).enumerated() {
            common.progress("cosmicray \(i + 1)/\(files.count) \(input)")
            let frame = try CCDFile.read(input, goodBits: goodBits)
            let (result, chips) = try CosmicRay.run(frame, options: opts)
            try result.write(to: out, overwrite: common.overwrite, bitpix: bitpix == "-64" ? .float64 : .float32)
            reports.append(FileSummary(input: input, output: out, chips: chips))
            if !common.json {
                let counts = chips.map { "\($0.flagged)" }.joined(separator: ", ")
                common.note("astrotool ccdproc cosmicray: \(input) -> \(out) [\(counts) cosmic-ray pixels]")
            }
        }
        Console.endProgress()
        if common.json { try printJSON(Summary(files: reports)) }
    }

    struct FileSummary: Encodable { var input, output: String; var chips: [CosmicRayReport] }
    struct Summary: Encodable { var files: [FileSummary] }
}
