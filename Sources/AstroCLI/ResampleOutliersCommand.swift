import ArgumentParser
import AstroDrizzle
import Foundation

/// `astrotool resample outliers`: cosmic rays and other outliers flagged by comparing each
/// dithered exposure with the median of all of them (AstroDrizzle's and JWST's outlier step).
struct ResampleOutliersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outliers",
        abstract: "Flag outliers in dithered exposures against the blotted median of their drizzles.",
        discussion: """
        Each input is drizzled alone onto one grid (the grid options as in `resample drizzle`); at each output pixel \
        the values with weight >= maskpt x their image's median weight, less --nlow lowest and --nhigh highest, give \
        a median, which is blotted back onto every input. A pixel is flagged where |data - blot| > scale2*deriv + snr2*noise \
        and, somewhere in its 3x3 neighbourhood, > scale1*deriv + snr1*noise (deriv: the blot's largest difference to a \
        neighbour; noise: ERR, else the Poisson noise of blot + sky). Each input file is copied into --outdir with \
        --flag-bit ORed into its DQ or MASK (a uint8 MASK is added to a chip without one).
        Example: astrotool resample outliers red/sci_*.fits --outdir flagged --snr "5 4" --scale "1.2 0.7"
        """
    )

    @Argument(help: "Exposures of one field (FITS files or extensions; @list files accepted).") var inputs: [String]
    @Option(help: "Directory for the flagged copies (the inputs' file names).") var outdir: String
    @Option(help: "Lowest values dropped at each pixel before the median.") var nlow = 0
    @Option(help: "Highest values dropped at each pixel before the median.") var nhigh = 0
    @Option(help: "Minimum weight for the median, as a fraction of each image's median weight.") var maskpt = 0.7
    @Option(help: ArgumentHelp("Thresholds in noise sigma: first pass, then in the neighbourhood.", valueName: "SNR1 SNR2")) var snr = "5.0 4.0"
    @Option(help: ArgumentHelp("Multiples of the median's derivative added to each threshold.", valueName: "S1 S2")) var scale = "1.2 0.7"
    @Option(help: "A level subtracted from each difference data - blot before the test.") var backg = 0.0
    @Option(help: "Also flag pixels within grow - 1 of a flagged one (1: no growth).") var grow = 1
    @Option(help: "Blot interpolation: nearest|linear|poly3|poly5|lanczos3|lanczos5.") var interp = "linear"
    @Option(help: "The DQ/MASK bit set on a flagged pixel.") var flagBit: UInt32 = 4
    @OptionGroup var grid: ResampleGridOptions
    @OptionGroup var common: CommonOptions

    static func pair(_ text: String, _ name: String) throws -> (Double, Double) {
        let v = text.split(whereSeparator: { $0 == " " || $0 == "," }).compactMap { Double($0) }
        guard v.count == 2, v.allSatisfy({ $0 >= 0 }) else { throw ValidationError("\(name) takes two non-negative numbers, e.g. \"5.0 4.0\"") }
        return (v[0], v[1])
    }

    func validate() throws {
        _ = try Self.pair(snr, "--snr")
        _ = try Self.pair(scale, "--scale")
        guard nlow >= 0, nhigh >= 0 else { throw ValidationError("--nlow and --nhigh must be non-negative") }
        guard maskpt >= 0 else { throw ValidationError("--maskpt must be non-negative") }
        guard grow >= 1 else { throw ValidationError("--grow must be at least 1") }
        guard flagBit != 0, flagBit & (flagBit - 1) == 0 else { throw ValidationError("--flag-bit must be a single bit (1, 2, 4, ...)") }
        guard Blot.Interpolation(rawValue: interp) != nil else {
            throw ValidationError("--interp takes nearest, linear, poly3, poly5, lanczos3 or lanczos5")
        }
    }

    func run() throws {
        common.apply()
        let files = try expandListArguments(inputs)
        let outputs = try OutputPlan.outputs(for: files, output: nil, outdir: outdir)
        try OutputPlan.checkDistinct(inputs: files + [grid.ref].compactMap { $0 }, outputs: outputs)
        var o = OutlierOptions()
        o.resample = try grid.options()
        o.nlow = nlow
        o.nhigh = nhigh
        o.maskpt = maskpt
        o.snr = try Self.pair(snr, "--snr")
        o.scale = try Self.pair(scale, "--scale")
        o.backg = backg
        o.grow = grow
        o.interpolation = .init(rawValue: interp)!
        o.flagBit = flagBit
        let r = try Outliers.run(files, options: o, outdir: outdir, overwrite: common.overwrite)
        for u in r.unused { common.warn("\(u.input)[\(u.hdu)]: finding outliers: \(u.reason); not tested, copied unflagged") }
        if common.json { try printJSON(r) } else {
            for f in r.frames { common.note("astrotool resample outliers: \(f.input) -> \(f.output): \(f.flagged) pixels flagged") }
        }
    }
}
