import ArgumentParser
import AstroDrizzle
import Foundation

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
