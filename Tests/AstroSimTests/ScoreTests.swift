import Testing
import Foundation
import AstroImage
import AstroFITS
import AstroWCS
import AstroTestSupport
@testable import AstroSim

/// `simulate score` on synthetic mosaics made from a tiny night's own truth: the truth model
/// rendered onto a rotated TAN grid, with a known flux scale, shift, background offset, noise
/// and cosmic-ray residue, each of which the score must give back.
@Suite(.serialized) struct ScoreTests {
    static let width = 256, height = 256

    /// A tiny night with a galaxy and plenty of cosmic rays (only its truth is used).
    static func night(_ dir: URL) throws -> NightTruth {
        var o = SimTest.tinyOptions(dir.path + "/night")
        o.nx = 160; o.ny = 160
        o.nbias = 1; o.ndark = 1; o.nflat = 1; o.nsci = 2
        o.stars = 120
        o.galaxy = true
        o.crRate = 2000
        _ = try NightSimulator.run(o)
        return try NightTruth.load(o.outdir + "/truth")
    }

    /// The grid: TAN about the field centre, 5° rotated, the frames' nominal scale.
    static func grid() throws -> WCS {
        try WCS.tan(ra: 10.68, dec: 41.27, pixelScale: 0.4, rotation: 5, width: width, height: height)
    }

    /// Writes a mosaic in e⁻/s: the truth galaxy, the truth stars × `flux` shifted by `shift`
    /// px, plus `offset`, Gaussian noise of σ `noise` (ERR = σ, or 0.01 without noise),
    /// `residue` added on the pixels listed; WHT = 1.
    static func mosaic(_ truth: NightTruth, _ path: String, flux: Double = 1, shift: (Double, Double) = (0, 0),
                       offset: Double = 0, noise: Double = 0, residue: [Int] = [], bunit: String = "electron/s") throws {
        let scale = truth.gain / truth.exptime
        let wcs = try grid()
        var shifted = wcs.header
        shifted.set("CRPIX1", shifted.double("CRPIX1")! + shift.0)
        shifted.set("CRPIX2", shifted.double("CRPIX2")! + shift.1)
        let base = TruthModel(truth, wcs: wcs, width: width, height: height, scale: scale)
        let moved = TruthModel(truth, wcs: try WCS(header: shifted), width: width, height: height, scale: scale * flux)
        var rng = SimRandom(seed: 7)
        var pixels = (0..<width * height).map { Float(Double(base.galaxy[$0]) + Double(moved.stars[$0]) + offset + noise * rng.gaussian()) }
        for k in residue { pixels[k] += 1000 * Float(max(noise, 0.01)) }
        var header = wcs.header
        header.set("BUNIT", bunit)
        let ones = Image(width: width, height: height, value: 1)
        let err = Image(width: width, height: height, value: Float(noise > 0 ? noise : 0.01))
        try FITSWriter.write([OutputHDU(Image(width: width, height: height, pixels: pixels, header: header)),
                              OutputHDU(ones, extname: "WHT"), OutputHDU(err, extname: "ERR")], to: path, overwrite: true)
    }

    static func options(_ mosaic: String, _ truth: NightTruth) -> ScoreOptions {
        var o = ScoreOptions(mosaic: mosaic, truth: truth.folder)
        o.maxNoise = 1   // two short frames: the noise cut would leave too few stars
        o.isolation = 0.1   // a crowded little field; the neighbours' truth is taken off
        return o
    }

    @Test func perfectMosaicScoresPerfectly() throws {
        let dir = TestSupport.scratch("sim-score-perfect"); defer { TestSupport.cleanup(dir) }
        let truth = try Self.night(dir)
        let path = dir.path + "/mosaic.fits"
        try Self.mosaic(truth, path)
        let r = try NightScore.run(Self.options(path, truth))
        #expect(r.units.label == "e-/s" && r.units.assumption == nil)
        #expect(abs(r.units.scale - 1.5 / 60) < 1e-12)
        #expect(r.photometry.stars >= 8 && r.photometry.candidates > 20, "\(r.photometry)")
        #expect(abs(r.photometry.medianRatio - 1) < 2e-4, "\(r.photometry)")
        #expect(r.photometry.robustScatter < 2e-4)
        #expect(r.photometry.apertureFraction > 0.99 && r.photometry.apertureFraction < 1)
        #expect(r.astrometry.rmsPixels < 2e-3, "\(r.astrometry)")
        #expect(abs(r.background.bias) < 1e-5 && r.background.tileRange < 1e-3, "\(r.background)")
        #expect(r.background.tiles == 64)
        #expect(r.coverage.pixels == 1)
        #expect(r.coverage.stars > 0.5)
        #expect(r.cosmicRays == nil)   // no noise: ERR cannot be checked against it
        #expect(r.lines.count == 10)
    }

    @Test func recoversScaleShiftOffsetAndNoise() throws {
        let dir = TestSupport.scratch("sim-score-known"); defer { TestSupport.cleanup(dir) }
        let truth = try Self.night(dir)
        let path = dir.path + "/mosaic.fits"
        try Self.mosaic(truth, path, flux: 1.03, shift: (0.3, -0.2), offset: 0.05, noise: 0.002)
        let r = try NightScore.run(Self.options(path, truth))
        #expect(abs(r.photometry.medianRatio - 1.03) < 2e-3, "\(r.photometry)")
        #expect(abs(r.astrometry.medianDx - 0.3) < 0.01 && abs(r.astrometry.medianDy + 0.2) < 0.01, "\(r.astrometry)")
        #expect(abs(r.astrometry.rmsPixels - (0.13).squareRoot()) < 0.01)
        #expect(abs(r.astrometry.rmsArcsec - 0.4 * r.astrometry.rmsPixels) < 1e-3)
        #expect(abs(r.background.bias - 0.05) < 5e-4, "\(r.background)")
        #expect(r.background.tileStd < 1e-3)
    }

    @Test func cosmicRayResidueIsFound() throws {
        let dir = TestSupport.scratch("sim-score-cr"); defer { TestSupport.cleanup(dir) }
        let truth = try Self.night(dir)
        let wcs = try Self.grid()
        // Every truth hit, mapped to the nearest mosaic pixel on its own.
        var hits = Set<Int>()
        for f in truth.frames {
            let mask = try FITS.readImage(f.cosmicRays)
            for k in 0..<mask.pixels.count where mask.pixels[k] > 0 {
                guard let s = f.wcs.pixelToWorld(x: Double(k % mask.width), y: Double(k / mask.width)),
                      let p = wcs.worldToPixel(ra: s.ra, dec: s.dec) else { continue }
                let x = Int(p.x.rounded()), y = Int(p.y.rounded())
                if x >= 0, y >= 0, x < Self.width, y < Self.height { hits.insert(y * Self.width + x) }
            }
        }
        #expect(hits.count > 100)
        let path = dir.path + "/mosaic.fits"
        let left = Array(hits.sorted().prefix(hits.count / 2))
        try Self.mosaic(truth, path, noise: 0.002, residue: left)
        let cr = try #require(try NightScore.run(Self.options(path, truth)).cosmicRays)
        #expect(abs(cr.errScale - 1) < 0.05, "\(cr)")
        #expect(cr.pixels == hits.count && cr.residue == left.count, "\(cr)")
        #expect(cr.otherFraction < 1e-4)
        #expect(abs(cr.fraction - Double(left.count) / Double(hits.count)) < 1e-12)
    }

    @Test func unitsFollowBUNITOrTheScaleGiven() throws {
        let dir = TestSupport.scratch("sim-score-units"); defer { TestSupport.cleanup(dir) }
        let truth = try Self.night(dir)
        let path = dir.path + "/mosaic.fits"
        // resample --units counts writes 'per second' alone: electrons are assumed, and said.
        try Self.mosaic(truth, path, bunit: "per second")
        let assumed = try NightScore.run(Self.options(path, truth))
        #expect(assumed.units.scale == 1.5 / 60 && assumed.units.assumption != nil)
        #expect(abs(assumed.photometry.medianRatio - 1) < 2e-4)
        // The same pixels said to be ADU/s are 1.5 times too bright for the truth.
        try Self.mosaic(truth, path, bunit: "adu/s")
        let adu = try NightScore.run(Self.options(path, truth))
        #expect(adu.units.scale == 1.0 / 60 && adu.units.label == "ADU/s")
        #expect(abs(adu.photometry.medianRatio - 1.5) < 0.1)   // the neighbours' truth taken off is 1.5 times too faint too
        var o = Self.options(path, truth)
        o.scale = 1.5 / 60
        let given = try NightScore.run(o)
        #expect(abs(given.photometry.medianRatio - 1) < 2e-4)
        o.scale = -1
        #expect(throws: AstroError.self) { try NightScore.run(o) }
    }

    @Test func missingTruthIsReported() throws {
        let dir = TestSupport.scratch("sim-score-missing"); defer { TestSupport.cleanup(dir) }
        do {
            _ = try NightScore.run(ScoreOptions(mosaic: dir.path + "/m.fits", truth: dir.path + "/nothing"))
            Issue.record("no error")
        } catch let e as AstroError {
            #expect(e.kind == .noInput && e.description.contains("scene.fits"), "\(e)")
        }
    }
}
