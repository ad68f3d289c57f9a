import AstroImage
import Foundation

/// What `simulate score` measured: a reduced mosaic against the truth of its night. Every
/// number is in the mosaic's units (`units.label`) or pixels/arcsec; NaN where nothing could be
/// measured (e.g. no star passed the cuts).
public struct ScoreReport: Sendable, Encodable {
    /// How the truth's ADU per exposure became the mosaic's units.
    public struct Units: Sendable, Encodable {
        /// The mosaic's BUNIT, as written.
        public var bunit: String
        /// The unit the score reports levels in, e.g. `e-/s`.
        public var label: String
        /// Mosaic units per truth ADU per exposure.
        public var scale: Double
        public var gain: Double
        /// Exposure time of one frame, s (the truth fluxes are per frame).
        public var exptime: Double
        /// What was assumed, when BUNIT did not say it all (nil otherwise).
        public var assumption: String?
    }

    /// Aperture photometry of the isolated, bright, unsaturated, covered truth stars.
    public struct Photometry: Sendable, Encodable {
        /// Stars used, and the truth stars of at least `minFlux` on the mosaic they came from.
        public var stars: Int
        public var candidates: Int
        /// Candidates left out, each under the first cut it fails: aperture or annulus not
        /// fully covered (WHT > 0), saturated in a raw frame, expected noise above the limit,
        /// other stars' light above the isolation limit.
        public var uncovered: Int, saturated: Int, noisy: Int, crowded: Int
        /// Median of measured / true flux, and 1.4826·MAD of that ratio.
        public var medianRatio: Double
        public var robustScatter: Double
        /// Median of the stars' expected relative noise (photon and read noise from the truth):
        /// about the scatter a perfect reduction would show.
        public var expectedScatter: Double
        /// Aperture radius and annulus, mosaic pixels.
        public var aperture: Double
        public var annulus: [Double]
        /// Fraction of a star's flux the aperture (less its annulus background) holds for the
        /// truth PSF on the mosaic grid, median over the stars used: the correction applied.
        public var apertureFraction: Double
    }

    /// Windowed centroids of the photometry stars against their truth RA/Dec through the
    /// mosaic's WCS.
    public struct Astrometry: Sendable, Encodable {
        public var stars: Int
        /// RMS of the offset's length, px and arcsec.
        public var rmsPixels: Double
        public var rmsArcsec: Double
        /// Median offset along x and y, px (measured − true).
        public var medianDx: Double
        public var medianDy: Double
    }

    /// Mosaic minus the truth galaxy, where the truth stars are negligible and WHT > 0.
    public struct Background: Sendable, Encodable {
        /// The median: the background bias, mosaic units.
        public var bias: Double
        public var pixels: Int
        /// The tiles' medians (a `grid × grid` split of the mosaic; tiles with too few
        /// usable pixels are left out): their standard deviation and max − min.
        public var grid: Int
        public var tiles: Int
        public var tileStd: Double
        public var tileRange: Double
    }

    /// Pixels hit by a truth cosmic ray (every frame's, mapped through its true WCS to the
    /// nearest mosaic pixel) where mosaic − truth model > `sigma` × ERR × `errScale`.
    public struct CosmicRays: Sendable, Encodable {
        public var sigma: Double
        /// 1.4826·MAD of (mosaic − truth)/ERR away from stars: near 1 (a little less, drizzle
        /// smooths) when ERR describes the mosaic's noise.
        public var errScale: Double
        /// Covered mosaic pixels under a cosmic ray, and those with residue.
        public var pixels: Int
        public var residue: Int
        public var fraction: Double
        /// The same test on the covered pixels no cosmic ray hit: how often it fires anyway.
        public var otherFraction: Double
    }

    public struct Coverage: Sendable, Encodable {
        /// Fraction of the mosaic's pixels with WHT > 0.
        public var pixels: Double
        /// Fraction of the truth stars that fall on such a pixel, out of `catalogue`.
        public var stars: Double
        public var catalogue: Int
    }

    /// One star of the photometry sample.
    public struct StarScore: Sendable, Encodable {
        public var id: Int
        /// 25 − 2.5·log₁₀(flux in ADU per exposure), as truth/refcat.csv.
        public var mag: Double
        /// Position on the mosaic (truth), 0-based px.
        public var x: Double, y: Double
        public var ratio: Double
        /// Measured − true position, px (NaN when the centroid failed).
        public var dx: Double, dy: Double
        /// Expected relative noise of the flux (a perfect reduction's).
        public var noise: Double
    }

    public var mosaic: String
    public var truth: String
    public var units: Units
    public var photometry: Photometry
    public var astrometry: Astrometry
    public var background: Background
    /// Nil when the mosaic has no ERR.
    public var cosmicRays: CosmicRays?
    public var coverage: Coverage
    public var stars: [StarScore]
    /// Median of mosaic − truth galaxy in blocks of `residualBlock` px (stars masked; NaN
    /// where nothing is usable), for a plot; not part of the JSON.
    public var residualMap: Image
    public var residualBlock: Int

    enum CodingKeys: String, CodingKey {
        case mosaic, truth, units, photometry, astrometry, background, cosmicRays, coverage, stars
    }

    /// The report as text, one line per quantity with its unit.
    public var lines: [String] {
        let u = units.label, p = photometry, a = astrometry, b = background
        func f(_ v: Double, _ digits: Int = 4) -> String { v.isFinite ? String(format: "%.\(digits)f", v) : "n/a" }
        func s(_ v: Double, _ digits: Int = 4) -> String { v.isFinite ? String(format: "%+.\(digits)f", v) : "n/a" }
        func pct(_ v: Double) -> String { v.isFinite ? String(format: "%.2f %%", 100 * v) : "n/a" }
        var out = [
            "units: truth ADU per exposure x \(String(format: "%.6g", units.scale)) = mosaic \(u) (BUNIT '\(units.bunit)', gain \(String(format: "%g", units.gain)) e-/ADU, \(String(format: "%g", units.exptime)) s per frame)"
                + (units.assumption.map { "; \($0)" } ?? ""),
            "flux ratio, median: \(f(p.medianRatio, 5)) (\(p.stars) stars of \(p.candidates); aperture \(f(p.aperture, 2)) px holds \(f(p.apertureFraction, 5)) of the flux)",
            "flux ratio, robust scatter: \(f(p.robustScatter, 5)) (1.4826 MAD; expected from noise \(f(p.expectedScatter, 5)))",
            "stars left out: \(p.uncovered) not fully covered, \(p.saturated) saturated, \(p.noisy) too noisy, \(p.crowded) crowded",
            "astrometric RMS: \(f(a.rmsPixels)) px = \(f(a.rmsArcsec)) arcsec (\(a.stars) stars)",
            "astrometric median offset: dx \(s(a.medianDx)) px, dy \(s(a.medianDy)) px",
            "background bias: \(s(b.bias)) \(u) (median of mosaic - truth galaxy over \(b.pixels) px away from stars)",
            "background tile spread: std \(f(b.tileStd)) \(u), max-min \(f(b.tileRange)) \(u) (\(b.tiles) tiles of a \(b.grid)x\(b.grid) grid)",
        ]
        if let c = cosmicRays {
            out.append("cosmic-ray residue: \(c.residue) of \(c.pixels) hit pixels (\(pct(c.fraction))) above \(String(format: "%g", c.sigma)) sigma; other pixels \(pct(c.otherFraction))")
            out.append("ERR check: residual scatter / ERR = \(f(c.errScale)) away from stars (about 1 when ERR describes the noise; sigma = ERR x this)")
        } else {
            out.append("cosmic-ray residue: n/a (the mosaic has no usable ERR)")
        }
        out.append("coverage: \(pct(coverage.pixels)) of the pixels have WHT > 0; \(pct(coverage.stars)) of \(coverage.catalogue) truth stars fall on them")
        return out
    }
}
