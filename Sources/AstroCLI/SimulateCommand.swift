import ArgumentParser
import AstroImage
import AstroSim

/// `astrotool simulate`: synthetic data with known answers. Thin: parse, check, call AstroSim.
public struct SimulateCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Make synthetic data with known answers: noise on an image, or a night of raw CCD frames.",
        subcommands: [Noise.self, Night.self, Score.self]
    )

    public init() {}
}

extension SimulateCommand {
    /// `astrotool simulate noise IN -o OUT --model …`
    public struct Noise: ParsableCommand {
        public static let configuration = CommandConfiguration(
            commandName: "noise",
            abstract: "Add noise from a model to an image, or write the model's variance.",
            discussion: """
            Models (astropysics' noise models, as intended), for a true value d:
              poisson   Poisson(d); variance d. Negative d counts as 0.
              gaussian  d + N(0, sigma); variance sigma^2. Needs --sigma.
              uniform   d + U(lower, upper); variance (upper - lower)^2 / 12.
                        With --frac the bounds, and so the noise, scale with d:
                        variance times d^2. Needs --lower and --upper.
              ccd       Poisson(d*gain)/gain + N(0, readnoise/gain)
                        + N(0, snoise*d); variance, in ADU^2,
                        (readnoise/gain)^2 + d/gain + (snoise*d)^2 (IRAF ccdclip).

            --floor and --ceiling clamp the noisy result; the variance is that of the unclamped model. The output is 32-bit float with the input's header cards. The same --seed gives the same bytes on every machine and for any --threads.
            """
        )

        @Argument(help: "Input FITS image (cfitsio extended syntax selects an HDU: f.fits[SCI,2]).")
        var input: String

        @Option(name: .shortAndLong, help: "Output FITS file.")
        var output: String

        @Option(help: "Noise model: poisson, gaussian, ccd or uniform.")
        var model: String

        @Option(parsing: .unconditional, help: "gaussian: sigma, in image units (required, >= 0).")
        var sigma: Double?

        @Option(parsing: .unconditional, help: "uniform: lower bound (required).")
        var lower: Double?

        @Option(parsing: .unconditional, help: "uniform: upper bound (required, >= lower).")
        var upper: Double?

        @Flag(help: "uniform: the bounds are fractions of the pixel value.")
        var frac = false

        @Option(parsing: .unconditional, help: "ccd: gain in e-/ADU (default: 1).")
        var gain: Double?

        @Option(parsing: .unconditional, help: "ccd: read noise in electrons (default: 0).")
        var readnoise: Double?

        @Option(parsing: .unconditional, help: "ccd: fractional sensitivity noise (default: 0).")
        var snoise: Double?

        @Option(parsing: .unconditional, help: "Raise results below this value to it (default: none).")
        var floor: Double?

        @Option(parsing: .unconditional, help: "Lower results above this value to it (default: none).")
        var ceiling: Double?

        @Option(help: "Random seed.")
        var seed: UInt64 = 1

        @Flag(help: "Write the model's variance instead of a noisy image.")
        var variance = false

        @OptionGroup var common: CommonOptions

        public init() {}

        public func run() throws {
            common.apply()
            let noise = try NoiseModel.named(model, sigma: sigma, lower: lower, upper: upper, fractional: frac,
                                             gain: gain, readNoise: readnoise, sNoise: snoise,
                                             floor: floor, ceiling: ceiling)
            let summary = try NoiseSimulator.run(input: input, output: output, model: noise, seed: seed,
                                                 variance: variance, overwrite: common.overwrite)
            if common.json {
                try printJSON(summary)
            } else {
                common.note("astrotool simulate noise: done: \(input) -> \(output) (\(summary.product), "
                            + "\(noise.summary)) in \(String(format: "%.2f", summary.seconds)) s")
            }
        }
    }

    /// `astrotool simulate night --outdir DIR …`
    public struct Night: ParsableCommand {
        public static let configuration = CommandConfiguration(
            commandName: "night",
            abstract: "Write a night of raw frames (bias, dark, flat, science) and the truth they were made from.",
            discussion: """
            Raw frames are uint16 (BITPIX 16, BZERO 32768), NX+overscan columns by NY rows with the overscan strip on the right: DIR/bias_001.fits, dark_001.fits, flat_<FILTER>_001.fits, sci_<FILTER>_001.fits, ... BIASSEC leaves out the first overscan columns (up to 3), which carry a charge-transfer tail. Science frames carry a TAN (or TAN-SIP) WCS. With --chips 2 every frame is a MEF: an empty primary and extensions SCI,1 and SCI,2, side by side on the sky with a small gap.

            Levels of sky, stars and galaxy are ADU of a flat-fielded frame per science exposure; the flat response (vignetting to 85% in the corners times a 1% pixel response, mean 1 per chip) multiplies all of them. Bias: about 1000 ADU, a column pattern, and a per-frame offset and row drift that are identical in the overscan. Dark: --dark-rate plus 0.1% hot pixels and one hot column. Flats: --flat-exptime at --flat-level (+-2% lamp changes). Each exposure's sky is --sky plus a uniform jitter of up to --sky-jitter either way, with a gradient of --sky-gradient times the level per 1000 px in a random direction. --cr-rate counts events per 10^6 pixels per minute of exposure. Stars are Moffat profiles with N(>F) ~ F^-0.6 from 100 to 5e6 ADU. --galaxy adds a Sersic galaxy (--galaxy-n 1 exponential, 4 de Vaucouleurs) with an effective radius of 1/4 of the chip and --galaxy-peak ADU/px one FWHM from its centre (default 3 x sky, or 300 if the sky is 0).

            --pointing-error and --roll-error put a seeded error into each science frame's header WCS, as a telescope's header has; the truth stays in truth/wcs_NNN.hdr.

            Truth goes to DIR/truth/: stars.csv (x/y are 0-based pixels of the trimmed area), refcat.csv (a Gaia-like catalogue: ra, dec, mag of the stars of at least 1000 ADU, 3 mas noise), sky.csv, exposures.csv, galaxy.csv, cr_001.fits, wcs_001.hdr, scene.fits, bias.fits, dark.fits (ADU/s) and flat.fits. See docs/simulate.md.
            """
        )

        @Option(help: "Output folder (must be empty or new unless --overwrite).")
        var outdir: String

        @Option(help: "Random seed; the same seed gives the same bytes.")
        var seed: UInt64 = 1

        @Option(parsing: .upToNextOption, help: ArgumentHelp("Trimmed (science) area of one chip, NX NY pixels.", valueName: "nx ny"))
        var shape: [Int] = [1024, 1024]

        @Option(parsing: .unconditional, help: "Overscan columns on the right of each raw frame (0 = none, else >= 4).")
        var overscan = 32

        @Option(parsing: .unconditional, help: "Number of bias frames.")
        var nbias = 11

        @Option(parsing: .unconditional, help: "Number of dark frames.")
        var ndark = 5

        @Option(parsing: .unconditional, help: "Number of dome flats.")
        var nflat = 7

        @Option(parsing: .unconditional, help: "Number of science exposures.")
        var nsci = 6

        @Option(parsing: .unconditional, help: "Science exposure time, s.")
        var exptime = 60.0

        @Option(name: .customLong("dark-exptime"), parsing: .unconditional, help: "Dark exposure time, s.")
        var darkExptime = 300.0

        @Option(name: .customLong("flat-exptime"), parsing: .unconditional, help: "Flat exposure time, s.")
        var flatExptime = 5.0

        @Option(name: .customLong("flat-level"), parsing: .unconditional, help: "Mean dome-flat signal before vignetting, ADU.")
        var flatLevel = 25000.0

        @Option(help: "Filter name (FILTER keyword and file names).")
        var filter = "R"

        @Option(parsing: .unconditional, help: "Gain, e-/ADU.")
        var gain = 1.5

        @Option(parsing: .unconditional, help: "Read noise, e- rms.")
        var readnoise = 5.0

        @Option(name: .customLong("dark-rate"), parsing: .unconditional, help: "Dark current, e-/s/pixel.")
        var darkRate = 0.05

        @Option(parsing: .unconditional, help: "Clipping level of raw values, ADU (no bleeding; also clipped at 65535).")
        var saturation = 60000.0

        @Option(parsing: .unconditional, help: "Number of catalogue stars.")
        var stars = 800

        @Option(parsing: .unconditional, help: "Moffat FWHM, pixels.")
        var fwhm = 3.0

        @Option(parsing: .unconditional, help: "Moffat beta (4.765, or 2.5 for broad wings).")
        var beta = 4.765

        @Flag(help: "Add a large Sersic galaxy near the field centre.")
        var galaxy = false

        @Option(name: .customLong("galaxy-n"), parsing: .unconditional, help: "Sersic index of the galaxy (1 exponential, 4 de Vaucouleurs).")
        var galaxyN = 1.0

        @Option(name: .customLong("galaxy-peak"), parsing: .unconditional, help: "Galaxy brightness 1 FWHM from its centre, ADU/px (default: 3 x sky).")
        var galaxyPeak: Double?

        @Option(parsing: .unconditional, help: "Mean sky level, ADU.")
        var sky = 200.0

        @Option(name: .customLong("sky-jitter"), parsing: .unconditional, help: "Per-exposure sky change, +- ADU (uniform).")
        var skyJitter = 30.0

        @Option(name: .customLong("sky-gradient"), parsing: .unconditional, help: "Sky gradient, fraction of the level per 1000 px.")
        var skyGradient = 0.02

        @Option(name: .customLong("cr-rate"), parsing: .unconditional, help: "Cosmic rays per 10^6 pixels per minute of exposure.")
        var crRate = 5.0

        @Option(parsing: .unconditional, help: "Largest dither offset, +- pixels.")
        var dither = 40.0

        @Option(parsing: .unconditional, help: "Largest rotation, +- degrees.")
        var rotation = 0.5

        @Option(name: .customLong("scale-jitter"), parsing: .unconditional, help: "Largest fractional pixel-scale change.")
        var scaleJitter = 0.001

        @Option(help: "WCS distortion: none or sip.")
        var distortion = "none"

        @Option(parsing: .unconditional, help: "Chips per exposure: 1, or 2 (MEF, SCI,1 and SCI,2).")
        var chips = 1

        @Option(parsing: .unconditional, help: "Field centre RA, degrees.")
        var ra = 10.68

        @Option(parsing: .unconditional, help: "Field centre Dec, degrees.")
        var dec = 41.27

        @Option(name: .customLong("pixel-scale"), parsing: .unconditional, help: "Nominal pixel scale, arcsec/px.")
        var pixelScale = 0.4

        @Flag(help: "No photon or read noise and no cosmic rays (frames are the exact model, rounded).")
        var noiseless = false

        @Option(name: .customLong("pointing-error"), parsing: .unconditional, help: "Header WCS pointing off the truth by up to this many arcsec (random direction; truth/wcs_NNN.hdr keeps the truth).")
        var pointingError = 0.0

        @Option(name: .customLong("roll-error"), parsing: .unconditional, help: "Header WCS roll off the truth by up to +- this many degrees.")
        var rollError = 0.0

        @OptionGroup var common: CommonOptions

        public init() {}

        /// The options as the library takes them; one-line `.usage` errors for bad values.
        func nightOptions() throws -> NightOptions {
            func bad(_ reason: String) -> AstroError { AstroError(.usage, operation: "simulate night", reason: reason) }
            guard shape.count == 2 else { throw bad("--shape takes two values, NX NY (got \(shape.count))") }
            guard let d = NightOptions.Distortion(rawValue: distortion.lowercased()) else {
                throw bad("unknown --distortion '\(distortion)' (choose none or sip)")
            }
            var o = NightOptions(outdir: outdir)
            o.overwrite = common.overwrite
            o.seed = seed
            o.nx = shape[0]; o.ny = shape[1]
            o.overscan = overscan
            o.nbias = nbias; o.ndark = ndark; o.nflat = nflat; o.nsci = nsci
            o.exptime = exptime; o.darkExptime = darkExptime; o.flatExptime = flatExptime
            o.flatLevel = flatLevel
            o.filter = filter
            o.gain = gain; o.readnoise = readnoise; o.darkRate = darkRate
            o.saturation = saturation
            o.stars = stars; o.fwhm = fwhm; o.beta = beta
            o.galaxy = galaxy; o.galaxyN = galaxyN; o.galaxyPeak = galaxyPeak
            o.sky = sky; o.skyJitter = skyJitter; o.skyGradient = skyGradient
            o.crRate = crRate
            o.dither = dither; o.rotation = rotation; o.scaleJitter = scaleJitter
            o.distortion = d
            o.chips = chips
            o.ra = ra; o.dec = dec; o.pixelScale = pixelScale
            o.noiseless = noiseless
            o.pointingError = pointingError
            o.rollError = rollError
            try o.validate()
            return o
        }

        public func run() throws {
            common.apply()
            let options = try nightOptions()
            let summary = try NightSimulator.run(options) { line in
                common.progress("astrotool simulate night: \(line)")
                common.detail("astrotool simulate night: \(line)")
            }
            Console.endProgress()
            if common.json {
                try printJSON(summary)
            } else {
                let n = summary.files.count
                common.note("astrotool simulate night: done: \(n) frames + \(summary.truth.count) truth files -> "
                            + "\(summary.outdir) (\(options.nx)x\(options.ny) + \(options.overscan) overscan"
                            + (options.chips > 1 ? ", 2 chips" : "") + ", \(summary.stars) stars"
                            + (options.galaxy ? ", galaxy" : "") + ") in \(String(format: "%.1f", summary.seconds)) s")
            }
        }
    }
}
