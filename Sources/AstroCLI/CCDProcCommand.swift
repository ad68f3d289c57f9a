import ArgumentParser

/// `astrotool ccdproc`: the CCD reduction toolbox (AstroCCD), one subcommand per ccdproc function.
struct CCDProcCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ccdproc",
        abstract: "CCD calibration: overscan, trim, gain, deviation, bias/dark/flat, masks, combination.",
        discussion: """
        Products: primary HDU = data (BUNIT set), ERR = 1-sigma uncertainty, MASK = uint8 bit flags \
        (non-zero = bad; bits in docs/conventions.md). Multi-extension inputs are processed chip by chip.
        """,
        subcommands: [CCDProcessCommand.self, CCDCombineCommand.self, CCDCosmicRayCommand.self, CCDMaskCommand.self,
                      CCDBitmaskCommand.self, CCDStatsCommand.self, CCDDeviationCommand.self, CCDGainCommand.self,
                      CCDMedianFilterCommand.self, CCDClipCommand.self, CCDOffsetCommand.self, CCDHistogramCommand.self,
                      CCDMosaicCommand.self]
    )
}
