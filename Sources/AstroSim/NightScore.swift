import AstroFITS
import AstroImage
import AstroWCS
import Foundation

/// What `simulate score` takes: the mosaic, the truth folder and the cuts (docs/simulate.md).
public struct ScoreOptions: Sendable {
    public var mosaic: String
    /// A `truth/` folder written by `simulate night`.
    public var truth: String
    /// Mosaic units per truth ADU per exposure; nil: from the mosaic's BUNIT, GAIN and the
    /// frames' exposure time.
    public var scale: Double?
    /// Faintest star measured, ADU per exposure (the reference catalogue's limit).
    public var minFlux = 1000.0
    /// Largest expected relative noise of a star's flux (from ERR) for it to be used.
    public var maxNoise = 0.005
    /// Aperture radius and annulus radii, in FWHM.
    public var aperture = 3.0
    public var annulus = (4.0, 6.0)
    /// Largest share of a star's flux that other stars may add to its aperture or to its
    /// background (their truth is taken off; this bounds what the chain's error on them can do).
    public var isolation = 0.01
    /// Tiles per side for the background's spread.
    public var grid = 8
    /// Cosmic-ray residue threshold, in ERR.
    public var crSigma = 5.0

    public init(mosaic: String, truth: String) {
        self.mosaic = mosaic
        self.truth = truth
    }
}

/// `astrotool simulate score`: a reduced mosaic measured against the truth of the night it
/// came from — photometry, astrometry, background, cosmic-ray residue and coverage — so the
/// whole chain is judged by numbers rather than by eye.
///
/// The truth (stars, galaxy) is rendered onto the mosaic's own grid in the mosaic's units
/// (`TruthModel`); each measurement then compares the mosaic with that model.
public enum NightScore {
    /// The mosaic as the score reads it: SCI (the first image HDU), WHT, ERR if present.
    struct Mosaic {
        let width: Int, height: Int
        let data: [Float]
        let weight: [Float]
        let error: [Float]?
        let header: Header
        let wcs: WCS

        func covered(_ k: Int) -> Bool { weight[k] > 0 && data[k].isFinite }
    }

    /// - Throws: `.noInput` for a missing mosaic or truth file, `.badData` for a mosaic without
    ///   WCS or WHT (or of another shape) and for a truth folder that lacks what is needed,
    ///   `.usage` for bad options.
    public static func run(_ o: ScoreOptions) throws -> ScoreReport {
        try validate(o)
        let truth = try NightTruth.load(o.truth)
        let mosaic = try read(o.mosaic)
        let units = self.units(mosaic.header, truth: truth, override: o.scale)
        let model = TruthModel(truth, wcs: mosaic.wcs, width: mosaic.width, height: mosaic.height, scale: units.scale)

        let (photometry, astrometry, stars) = measureStars(mosaic, model, truth, o)
        let (background, map, block) = background(mosaic, model, o)
        let cosmicRays = try cosmicRays(mosaic, model, truth, o, bias: background.bias)
        let covered = (0..<mosaic.data.count).reduce(0) { $0 + (mosaic.covered($1) ? 1 : 0) }
        var starsOn = 0
        for i in truth.stars.indices {
            let px = model.x[i].rounded(), py = model.y[i].rounded()
            guard px.isFinite, py.isFinite, px >= 0, py >= 0, px < Double(mosaic.width), py < Double(mosaic.height) else { continue }
            if mosaic.covered(Int(py) * mosaic.width + Int(px)) { starsOn += 1 }
        }
        let coverage = ScoreReport.Coverage(pixels: Double(covered) / Double(mosaic.data.count),
                                            stars: truth.stars.isEmpty ? .nan : Double(starsOn) / Double(truth.stars.count),
                                            catalogue: truth.stars.count)
        return ScoreReport(mosaic: o.mosaic, truth: o.truth, units: units, photometry: photometry, astrometry: astrometry,
                           background: background, cosmicRays: cosmicRays, coverage: coverage, stars: stars,
                           residualMap: map, residualBlock: block)
    }

    static func validate(_ o: ScoreOptions) throws {
        func bad(_ reason: String) -> AstroError { AstroError(.usage, operation: "simulate score", reason: reason) }
        if let s = o.scale, !(s.isFinite && s > 0) { throw bad("--scale must be a positive number") }
        guard o.minFlux.isFinite, o.minFlux >= 0 else { throw bad("--min-flux must be >= 0") }
        guard o.maxNoise > 0 else { throw bad("--max-noise must be > 0") }
        guard o.aperture > 0, o.annulus.0 >= o.aperture, o.annulus.1 > o.annulus.0 else {
            throw bad("need 0 < aperture <= inner annulus < outer annulus (FWHM)")
        }
        guard o.grid >= 1 && o.grid <= 256 else { throw bad("--grid takes 1...256 tiles per side") }
        guard o.crSigma > 0 else { throw bad("--cr-sigma must be > 0") }
    }

    static func read(_ path: String) throws -> Mosaic {
        let sci = try FITS.readImage(path)
        let wcs = try WCS.read(path: path)
        let base = FITS.basePath(path)
        let extnames = Set(try FITS.listHDUs(base).compactMap { $0.extname?.uppercased() })
        func plane(_ name: String) throws -> [Float]? {
            guard extnames.contains(name) else { return nil }
            let image = try FITS.readImage("\(base)[\(name)]")
            guard image.width == sci.width, image.height == sci.height else {
                throw AstroError(.badData, file: "\(base)[\(name)]", operation: "reading the mosaic",
                                 reason: "\(image.width)x\(image.height), the SCI image is \(sci.width)x\(sci.height)")
            }
            return image.pixels
        }
        guard let weight = try plane("WHT") else {
            throw AstroError(.badData, file: path, operation: "reading the mosaic", reason: "no WHT extension (is it a resample output?)")
        }
        return Mosaic(width: sci.width, height: sci.height, data: sci.pixels, weight: weight,
                      error: try plane("ERR"), header: sci.header, wcs: wcs)
    }

    /// The scale from truth ADU per exposure to the mosaic's unit: × GAIN for electrons,
    /// ÷ the frame exposure time for a rate. A drizzled mosaic is a weighted mean of the frames,
    /// so a rate is per frame's exposure time, not the mosaic's total EXPTIME. A BUNIT that
    /// says neither electrons nor ADU (older resample output said only 'per second') is taken
    /// as electrons, the chain's unit (ccdproc --gain), and said.
    static func units(_ header: Header, truth: NightTruth, override: Double?) -> ScoreReport.Units {
        let bunit = header.string("BUNIT") ?? ""
        let t = bunit.lowercased().trimmingCharacters(in: .whitespaces)
        let perSecond = t.contains("/s") || t.contains("per second") || t.contains("s-1") || t.contains("s**-1")
        let electron = t.contains("electron") || t.hasPrefix("e-") || t == "e" || t.hasPrefix("e/")
        let adu = t.contains("adu") || t.contains("count") || t.hasPrefix("dn")
        if let s = override {
            return .init(bunit: bunit, label: bunit.isEmpty ? "mosaic units" : bunit, scale: s, gain: truth.gain,
                         exptime: truth.exptime, assumption: "scale given by --scale")
        }
        var assumption: String?
        if !electron && !adu {
            assumption = "BUNIT does not say electrons or ADU: taken as electrons (the chain's ccdproc --gain), --scale overrides"
        }
        let inElectrons = !adu || electron
        let scale = (inElectrons ? truth.gain : 1) / (perSecond ? truth.exptime : 1)
        return .init(bunit: bunit, label: (inElectrons ? "e-" : "ADU") + (perSecond ? "/s" : ""), scale: scale,
                     gain: truth.gain, exptime: truth.exptime, assumption: assumption)
    }

    /// Median and 1.4826·MAD of the finite values (NaN for none).
    static func robust(_ values: [Double]) -> (median: Double, scatter: Double) {
        let v = values.filter(\.isFinite)
        guard !v.isEmpty else { return (.nan, .nan) }
        let m = median(sorted: v.sorted())
        return (m, 1.4826 * median(sorted: v.map { abs($0 - m) }.sorted()))
    }

    /// The same for many Float values (a mosaic's pixels).
    static func robust(_ values: [Float]) -> (median: Double, scatter: Double) {
        let m = Statistics.median(values)
        return (m, 1.4826 * Statistics.median(values.map { abs($0 - Float(m)) }))
    }

    static func median(sorted v: [Double]) -> Double {
        guard !v.isEmpty else { return .nan }
        let n = v.count
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2
    }
}
