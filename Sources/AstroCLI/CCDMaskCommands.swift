import ArgumentParser
import AstroCCD
import AstroFITS
import AstroImage
import Foundation

/// `astrotool ccdproc ccdmask`: bad pixels from a flat (or a ratio of two flats).
struct CCDMaskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ccdmask",
        abstract: "Find bad pixels in a flat or flat ratio (ccdproc's ccdmask; 1 = bad).",
        discussion: """
        Residuals from a moving nlmed x ncmed median are compared with lsigma/hsigma times a \
        percentile sigma (P69.1 - P30.9)/2 from running nlsig x ncsig boxes (ccdproc), or from \
        blocks with --byblocks (IRAF). Defaults are ccdproc's: lsigma = hsigma = 9; IRAF's ccdmask \
        uses 6 and 6. --findbadcolumns fills column gaps of up to ngood lines between bad pixels (and \
        with --byblocks tests column sums against sigma*sqrt(n), as IRAF does). Writes a uint8 image, \
        1 = bad, usable as 'process --bpm' or 'cosmicray --inmask'.
        Example: astrotool ccdproc ccdmask master_flat.fits -o bpm.fits
        """
    )

    @Argument(help: "The flat or flat ratio (FITS; extended names accepted).")
    var input: String
    @Option(name: .shortAndLong, help: "Output mask.")
    var output: String
    @Flag(help: "Also flag short gaps along columns between bad pixels.")
    var findbadcolumns = false
    @Flag(help: "Sigma per block (IRAF) instead of running boxes (ccdproc's default).")
    var byblocks = false
    @Option(help: "Median box columns.") var ncmed = 7
    @Option(help: "Median box lines.") var nlmed = 7
    @Option(help: "Sigma box columns.") var ncsig = 15
    @Option(help: "Sigma box lines.") var nlsig = 15
    @Option(help: "Low threshold in sigma (IRAF: 6).") var lsigma: Float = 9
    @Option(help: "High threshold in sigma (IRAF: 6).") var hsigma: Float = 9
    @Option(help: "Longest column gap filled by --findbadcolumns.") var ngood = 5
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard ncmed >= 1, nlmed >= 1, ncsig >= 1, nlsig >= 1 else { throw ValidationError("box sizes must be at least 1") }
        guard lsigma > 0, hsigma > 0 else { throw ValidationError("--lsigma and --hsigma must be positive") }
    }

    func run() throws {
        common.apply()
        try OutputPlan.checkDistinct(inputs: [input], outputs: [output])
        let image = try FITS.readImage(input)
        var o = CCDMaskOptions()
        o.findBadColumns = findbadcolumns; o.byBlocks = byblocks
        o.ncmed = ncmed; o.nlmed = nlmed; o.ncsig = ncsig; o.nlsig = nlsig
        o.lsigma = lsigma; o.hsigma = hsigma; o.ngood = ngood
        let mask = CCDMask.find(image, options: o)
        let bad = mask.reduce(0) { $0 + Int($1) }
        var h = Header()
        h.set("BPMSRC", URL(fileURLWithPath: input).lastPathComponent, comment: "flat the mask was found in")
        h.addHistory("astrotool ccdproc ccdmask: \(byblocks ? "blocks" : "running boxes") \(nlsig)x\(ncsig), median \(nlmed)x\(ncmed), "
            + "lsigma \(lsigma) hsigma \(hsigma)\(findbadcolumns ? ", bad columns (ngood \(ngood))" : ""): \(bad) bad pixels")
        try FITSWriter.write([OutputHDU(bytes: mask, width: image.width, height: image.height, header: h)],
                             to: output, overwrite: common.overwrite)
        if common.json { try printJSON(Summary(input: input, output: output, bad: bad, pixels: mask.count)) }
        else { common.note("astrotool ccdproc ccdmask: \(input) -> \(output) [\(bad) bad pixels]") }
    }

    struct Summary: Encodable { var input, output: String; var bad, pixels: Int }
}

/// `astrotool ccdproc bitmask`: a DQ bitfield to a 0/1 mask (ccdproc's bitfield_to_boolean_mask).
struct CCDBitmaskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bitmask",
        abstract: "Turn a DQ bitfield into a 0/1 mask (1 = a bit is set that is not ignored).",
        discussion: """
        --ignore-bits follows astropy's ignore_flags: 4, 4,8, 1+2, bit names, ~4 or ~(1,8,32) for \
        the only bits that count, 'all' to ignore every bit; default 0 (every bit counts). \
        --flip-bits makes an integer --ignore-bits the only bits that count.
        Example: astrotool ccdproc bitmask 'frame.fits[DQ]' -o mask.fits --ignore-bits 4,8
        """
    )

    @Argument(help: "The DQ image (e.g. 'frame.fits[DQ]').")
    var input: String
    @Option(name: .shortAndLong, help: "Output mask.")
    var output: String
    @Option(help: ArgumentHelp("Bits to ignore.", valueName: "BITS"))
    var ignoreBits: String?
    @Flag(help: "The --ignore-bits integer lists the only bits that count.")
    var flipBits = false
    @OptionGroup var common: CommonOptions

    func run() throws {
        common.apply()
        try OutputPlan.checkDistinct(inputs: [input], outputs: [output])
        let good = try BitMask.parse(ignore: ignoreBits, flip: flipBits)
        let dq = try FITS.readImage(input)
        let mask = BitMask.apply(dq.pixels, good: good)
        let bad = mask.reduce(0) { $0 + Int($1) }
        var h = Header()
        h.addHistory("astrotool ccdproc bitmask: \(input), ignored bits \(ignoreBits ?? "0")\(flipBits ? " (flipped)" : ""): \(bad) bad pixels")
        try FITSWriter.write([OutputHDU(bytes: mask, width: dq.width, height: dq.height, header: h)],
                             to: output, overwrite: common.overwrite)
        if common.json { try printJSON(CCDMaskCommand.Summary(input: input, output: output, bad: bad, pixels: mask.count)) }
        else { common.note("astrotool ccdproc bitmask: \(input) -> \(output) [\(bad) bad pixels]") }
    }
}
