import AstroImage
import AstroWCS

/// The truth of a night rendered onto another grid (a mosaic's), in that grid's units: what a
/// perfect reduction would have produced there, sky removed. Stars and galaxy are kept apart,
/// since the score looks at the background with the stars masked and at the stars with the
/// galaxy removed.
struct TruthModel {
    let width: Int, height: Int
    /// Grid units per truth unit (ADU per exposure).
    let scale: Double
    /// The galaxy, per grid pixel (its surface brightness times each pixel's own area).
    let galaxy: [Float]
    /// All truth stars.
    let stars: [Float]
    /// Each truth star's position on the grid, 0-based (NaN where the WCS cannot place it).
    let x: [Double], y: [Double]
    /// The frames' PSF in grid pixels.
    let psf: MoffatPSF
    /// Grid pixel scale at its centre, arcsec/px.
    let pixelScale: Double

    init(_ truth: NightTruth, wcs: WCS, width: Int, height: Int, scale: Double) {
        self.width = width
        self.height = height
        self.scale = scale
        pixelScale = wcs.pixelScale(x: Double(width - 1) / 2, y: Double(height - 1) / 2)
        psf = MoffatPSF(fwhm: truth.psf.fwhm * truth.pixelScale / pixelScale, beta: truth.psf.beta)
        let p = wcs.worldToPixel(ra: truth.stars.map(\.ra), dec: truth.stars.map(\.dec))
        x = p.x
        y = p.y
        stars = psf.render(x: p.x, y: p.y, flux: truth.stars.map { $0.flux * scale }, width: width, height: height)
        var g = [Float](repeating: 0, count: width * height)
        if let galaxy = truth.galaxy, width >= 2, height >= 2 {
            galaxy.render(into: &g, width: width, height: height, wcs: wcs)
            let s = Float(scale)
            for k in g.indices { g[k] *= s }
        }
        self.galaxy = g
    }

    /// One star alone, as `stars` holds it (nil when its window misses the grid).
    func stamp(_ i: Int, flux: Double) -> MoffatPSF.Stamp? {
        psf.stamp(x: x[i], y: y[i], flux: flux * scale, width: width, height: height)
    }
}

extension MoffatPSF.Stamp {
    /// The stamp's value at an image pixel (0 outside it).
    func value(_ px: Int, _ py: Int) -> Float {
        let i = px - x0, j = py - y0
        guard i >= 0, j >= 0, i < size, j < size else { return 0 }
        return values[j * size + i]
    }
}
