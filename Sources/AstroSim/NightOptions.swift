import AstroImage

/// Everything `astrotool simulate night` can vary. Defaults match the command line's.
/// Units: pixels for sizes and offsets, ADU for levels in the image (flat-fielded units for
/// sky, stars and galaxy), electrons for read noise and dark rate, seconds for times.
public struct NightOptions: Sendable, Codable, Equatable {
    public enum Distortion: String, Sendable, Codable, CaseIterable { case none, sip }

    public var outdir: String
    public var overwrite = false
    public var seed: UInt64 = 1
    /// Trimmed (science) area of one chip, in pixels.
    public var nx = 1024, ny = 1024
    /// Overscan columns on the right of each raw frame (0 = none).
    public var overscan = 32
    public var nbias = 11, ndark = 5, nflat = 7, nsci = 6
    public var exptime = 60.0, darkExptime = 300.0, flatExptime = 5.0
    public var filter = "R"
    /// e⁻/ADU.
    public var gain = 1.5
    /// e⁻ rms.
    public var readnoise = 5.0
    /// e⁻/s/pixel.
    public var darkRate = 0.05
    /// ADU; raw values are clipped here (and at 65535), without bleeding.
    public var saturation = 60000.0
    /// Mean dome-flat signal before vignetting, ADU.
    public var flatLevel = 25000.0
    public var stars = 800
    /// Moffat FWHM in pixels and its β.
    public var fwhm = 3.0, beta = 4.765
    public var galaxy = false
    /// Sersic index of the galaxy (1 exponential, 4 de Vaucouleurs).
    public var galaxyN = 1.0
    /// Galaxy surface brightness one FWHM from its centre, ADU/pixel; nil: 3 × sky (300 if sky is 0).
    public var galaxyPeak: Double? = nil
    /// Sky level ADU, ± uniform jitter ADU per exposure, gradient as a fraction of the level per 1000 px.
    public var sky = 200.0, skyJitter = 30.0, skyGradient = 0.02
    /// Cosmic-ray events per 10⁶ pixels per minute of exposure.
    public var crRate = 5.0
    /// Largest dither offset (px), rotation (deg) and fractional scale change per exposure.
    public var dither = 40.0, rotation = 0.5, scaleJitter = 0.001
    public var distortion = Distortion.none
    public var chips = 1
    /// Field centre (deg) and nominal pixel scale (arcsec/px).
    public var ra = 10.68, dec = 41.27, pixelScale = 0.4
    /// No photon or read noise and no cosmic rays (the frames are the exact model, rounded).
    public var noiseless = false
    /// How far each science frame's header WCS is off from the true one, as a telescope's
    /// header is: the pointing by up to this many arcsec (uniform over a disc, random
    /// direction) and the roll by up to ± this many degrees (uniform). 0: the header is the truth.
    public var pointingError = 0.0, rollError = 0.0

    public init(outdir: String) { self.outdir = outdir }

    /// Argument-level checks that need no file system. One-line messages; kind `.usage` (exit 64).
    public func validate() throws {
        func bad(_ reason: String) -> AstroError { AstroError(.usage, operation: "simulate night", reason: reason) }
        func finite(_ values: [(String, Double)]) throws {
            for (name, v) in values where !v.isFinite { throw bad("\(name) must be finite (got \(v))") }
        }
        try finite([("--exptime", exptime), ("--dark-exptime", darkExptime), ("--flat-exptime", flatExptime),
                    ("--gain", gain), ("--readnoise", readnoise), ("--dark-rate", darkRate),
                    ("--saturation", saturation), ("--flat-level", flatLevel), ("--fwhm", fwhm), ("--beta", beta),
                    ("--galaxy-n", galaxyN), ("--sky", sky), ("--sky-jitter", skyJitter),
                    ("--sky-gradient", skyGradient), ("--cr-rate", crRate), ("--dither", dither),
                    ("--rotation", rotation), ("--scale-jitter", scaleJitter), ("--ra", ra), ("--dec", dec),
                    ("--pixel-scale", pixelScale), ("--pointing-error", pointingError), ("--roll-error", rollError)])
        if outdir.isEmpty { throw bad("--outdir is required") }
        guard nx >= 16, ny >= 16 else { throw bad("--shape \(nx) \(ny) is too small (at least 16 16)") }
        guard nx <= 16384, ny <= 16384 else { throw bad("--shape \(nx) \(ny) is too large (at most 16384 16384)") }
        guard overscan >= 0 else { throw bad("--overscan must be ≥ 0 (got \(overscan))") }
        if overscan > 0 && overscan < 4 { throw bad("--overscan must be 0 or at least 4 columns (got \(overscan))") }
        guard nx >= 2 * overscan else {
            throw bad("--shape \(nx) \(ny) is too small for a \(overscan)-column overscan (NX must be ≥ 2 × overscan)")
        }
        for (name, n) in [("--nbias", nbias), ("--ndark", ndark), ("--nflat", nflat), ("--nsci", nsci)] {
            guard n >= 0, n <= 9999 else { throw bad("\(name) must be 0…9999 (got \(n))") }
        }
        guard nbias + ndark + nflat + nsci > 0 else { throw bad("nothing to simulate: every frame count is 0") }
        guard exptime > 0, darkExptime > 0, flatExptime > 0 else { throw bad("exposure times must be > 0 s") }
        guard gain > 0 else { throw bad("--gain must be > 0 e-/ADU (got \(gain))") }
        guard readnoise >= 0 else { throw bad("--readnoise must be ≥ 0 e- (got \(readnoise))") }
        guard darkRate >= 0 else { throw bad("--dark-rate must be ≥ 0 e-/s (got \(darkRate))") }
        guard saturation > 0, saturation <= 65535 else { throw bad("--saturation must be in (0, 65535] ADU (got \(saturation))") }
        guard flatLevel > 0, flatLevel < 65535 else { throw bad("--flat-level must be in (0, 65535) ADU (got \(flatLevel))") }
        guard stars >= 0, stars <= 1_000_000 else { throw bad("--stars must be 0…1000000 (got \(stars))") }
        guard fwhm >= 0.5, fwhm <= 50 else { throw bad("--fwhm must be 0.5…50 px (got \(fwhm))") }
        guard beta > 1, beta <= 20 else { throw bad("--beta must be in (1, 20] (got \(beta))") }
        guard galaxyN >= 0.5, galaxyN <= 8 else { throw bad("--galaxy-n must be 0.5…8 (got \(galaxyN))") }
        if let galaxyPeak, !(galaxyPeak.isFinite && galaxyPeak >= 0) {
            throw bad("--galaxy-peak must be ≥ 0 ADU (got \(galaxyPeak))")
        }
        guard sky >= 0 else { throw bad("--sky must be ≥ 0 ADU (got \(sky))") }
        guard skyJitter >= 0, skyJitter <= sky else { throw bad("--sky-jitter must be 0…sky (got \(skyJitter))") }
        guard skyGradient >= 0, skyGradient <= 0.5 else {
            throw bad("--sky-gradient must be 0…0.5 (fraction of the level per 1000 px; got \(skyGradient))")
        }
        guard crRate >= 0, crRate <= 1e5 else { throw bad("--cr-rate must be 0…100000 per 10^6 px per minute (got \(crRate))") }
        guard dither >= 0, dither <= 1e4 else { throw bad("--dither must be 0…10000 px (got \(dither))") }
        guard rotation >= 0, rotation <= 45 else { throw bad("--rotation must be 0…45 degrees (got \(rotation))") }
        guard scaleJitter >= 0, scaleJitter < 0.1 else { throw bad("--scale-jitter must be in [0, 0.1) (got \(scaleJitter))") }
        guard chips == 1 || chips == 2 else { throw bad("--chips must be 1 or 2 (got \(chips))") }
        guard ra >= 0, ra < 360 else { throw bad("--ra must be in [0, 360) degrees (got \(ra))") }
        guard abs(dec) <= 85 else { throw bad("--dec must be within ±85 degrees (got \(dec))") }
        guard pointingError >= 0, pointingError <= 3600 else {
            throw bad("--pointing-error must be 0…3600 arcsec (got \(pointingError))")
        }
        guard rollError >= 0, rollError <= 45 else { throw bad("--roll-error must be 0…45 degrees (got \(rollError))") }
        guard pixelScale > 0, pixelScale <= 60 else { throw bad("--pixel-scale must be in (0, 60] arcsec/px (got \(pixelScale))") }
        guard !filter.isEmpty, filter.count <= 16,
              filter.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "_-+.".unicodeScalars.contains($0)) })
        else { throw bad("--filter must be 1–16 characters of A–Z, 0–9, _ - + . (got '\(filter)')") }
    }

    /// The galaxy's surface brightness one FWHM from its centre, ADU per pixel.
    var effectiveGalaxyPeak: Double { galaxyPeak ?? (sky > 0 ? 3 * sky : 300) }
}
