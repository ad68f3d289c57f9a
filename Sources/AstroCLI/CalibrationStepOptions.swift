import ArgumentParser
import AstroCCD
import AstroImage

/// The calibration steps `ccdproc process` runs and `ccdproc combine` can run on each raw input
/// before combining (overscan, trim, bias, dark, flat, rate): one set of names for both.
struct CalibrationStepOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Overscan strip: a FITS section or a header keyword.", valueName: "SECTION|BIASSEC"))
    var oscan: String?

    @Option(help: ArgumentHelp("numpy axis collapsed: 1 = one value per line (columns of overscan), 0 = one per column, auto = ccdproc's rule.", valueName: "0|1|auto"))
    var oscanAxis = "1"

    @Option(help: "Overscan statistic per line: mean|median (ccd_process's default is median).")
    var oscanStat = "median"

    @Option(help: ArgumentHelp("Model of the overscan profile: none|chebyshev:N|legendre:N|poly:N (linear least squares).", valueName: "MODEL"))
    var oscanModel = "none"

    @Option(help: ArgumentHelp("Reject outliers from the overscan model fit (IRAF low_reject,high_reject,niterate), e.g. 3,3,5.", valueName: "LO,HI,N"))
    var oscanReject: String?

    @Option(help: ArgumentHelp("Data section to keep: a FITS section or a header keyword.", valueName: "SECTION|TRIMSEC"))
    var trim: String?

    @Option(help: "Master bias to subtract.")
    var bias: String?

    @Option(help: "Master dark to subtract (scaled by the exposure ratio unless --no-dark-scale).")
    var dark: String?

    @Flag(name: .customLong("no-dark-scale"), help: "Subtract the dark unscaled (ccdproc's dark_scale=False).")
    var noDarkScale = false

    @Option(help: "Master flat to divide by (normalised by its mean).")
    var flat: String?

    @Option(help: "Raise flat pixels below this value to it, before normalisation (ccdproc's min_value).")
    var flatMin: Double?

    @Option(help: "Normalise the flat by this value instead of its mean.")
    var normValue: Double?

    @Flag(help: "Divide by the exposure time at the end; BUNIT becomes a per-second unit.")
    var toRate = false

    /// The masters these steps read (no output may overwrite them).
    var masters: [String] { [bias, dark, flat].compactMap { $0 } }

    func validate() throws {
        guard ["0", "1", "auto"].contains(oscanAxis) else { throw ValidationError("--oscan-axis takes 0, 1 or auto") }
        guard OverscanOptions.Statistic(rawValue: oscanStat) != nil else { throw ValidationError("--oscan-stat takes mean or median") }
        if let normValue, !(normValue > 0) { throw ValidationError("--norm-value must be positive") }
    }

    /// Sets these steps in `o`.
    func apply(to o: inout ProcessOptions) throws {
        o.oscan = oscan.map(ProcessOptions.SectionSource.parse)
        o.oscanAxis = oscanAxis == "auto" ? nil : Int(oscanAxis)
        o.oscanStatistic = OverscanOptions.Statistic(rawValue: oscanStat)!
        o.oscanModel = try OverscanOptions.Model.parse(oscanModel)
        if let oscanReject {
            let p = oscanReject.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard p.count == 3, let lo = p[0], let hi = p[1], let n = p[2], lo > 0, hi > 0, n >= 0, n == n.rounded() else {
                throw AstroError(.usage, operation: "parsing --oscan-reject", reason: "'\(oscanReject)' is not LO,HI,N (e.g. 3,3,5)")
            }
            o.oscanRejection = Polyfit.Rejection(low: lo, high: hi, iterations: Int(n))
        }
        o.trim = trim.map(ProcessOptions.SectionSource.parse)
        o.bias = bias; o.dark = dark; o.flat = flat
        o.darkScale = !noDarkScale
        o.flatMin = flatMin
        o.normValue = normValue
        o.toRate = toRate
    }
}
