import AstroImage
import Foundation

extension NightScore {
    /// Photometry and astrometry of the truth stars that can be measured cleanly: at least
    /// `minFlux`, aperture and annulus on covered pixels, unsaturated in every raw frame,
    /// expected noise (of a perfect reduction, from the truth: not the mosaic's ERR, which is
    /// the chain's claim) below `maxNoise`, other stars' light below the isolation limit; a
    /// star left out counts under the first of these it fails.
    ///
    /// Flux: the aperture sum of mosaic − truth galaxy − the other truth stars, less the
    /// annulus's clipped mean per pixel, over the true flux times the aperture fraction — the
    /// same measurement made on the star's own truth model on the mosaic grid. That fraction
    /// holds the PSF's wings beyond the aperture, their light in the annulus and the rendering
    /// window, so a perfect chain gives 1 up to the mosaic's slightly broader PSF (drizzle's
    /// pixel convolution, ~10⁻⁴ at 3 FWHM). Taking the truth galaxy off first keeps its
    /// curvature out of the annulus; taking the neighbours' truth off leaves of them only the
    /// chain's error on their light, a small part of at most `isolation` of the flux.
    static func measureStars(_ m: Mosaic, _ model: TruthModel, _ truth: NightTruth, _ o: ScoreOptions)
        -> (ScoreReport.Photometry, ScoreReport.Astrometry, [ScoreReport.StarScore]) {
        let fwhm = model.psf.fwhm
        let r = o.aperture * fwhm, r1 = o.annulus.0 * fwhm, r2 = o.annulus.1 * fwhm
        let half = Int(r2.rounded(.up)) + 1, size = 2 * half + 1
        var candidates = 0, uncovered = 0, crowded = 0, saturated = 0, noisy = 0
        var used: [ScoreReport.StarScore] = []
        var fractions: [Double] = []
        for (i, star) in truth.stars.enumerated() where star.flux >= o.minFlux {
            let x = model.x[i], y = model.y[i]
            guard x.isFinite, y.isFinite, x >= -0.5, y >= -0.5, x < Double(m.width) - 0.5, y < Double(m.height) - 0.5 else { continue }
            candidates += 1
            // A square patch about the star: the mosaic less the truth galaxy and the other
            // truth stars, the star's own model, the other stars' model.
            let px0 = Int(x.rounded()) - half, py0 = Int(y.rounded()) - half
            let lx = x - Double(px0), ly = y - Double(py0)
            guard px0 >= 0, py0 >= 0, px0 + size <= m.width, py0 + size <= m.height,
                  let stamp = model.stamp(i, flux: star.flux),
                  let ap = Aperture.ring(x: lx, y: ly, r1: 0, r2: r, width: size, height: size),
                  let ann = Aperture.ring(x: lx, y: ly, r1: r1, r2: r2, width: size, height: size),
                  let disc = Aperture.ring(x: lx, y: ly, r1: 0, r2: r2, width: size, height: size),
                  disc.allSatisfy({ m.covered((py0 + $0 / size) * m.width + px0 + $0 % size) }) else { uncovered += 1; continue }
            var clean = [Float](repeating: 0, count: size * size), own = clean, others = clean
            for j in 0..<size {
                for k in 0..<size {
                    let g = (py0 + j) * m.width + px0 + k, p = j * size + k
                    own[p] = stamp.value(px0 + k, py0 + j)
                    others[p] = model.stars[g] - own[p]
                    clean[p] = m.data[g] - model.galaxy[g] - others[p]
                }
            }
            let flux = star.flux * model.scale
            let nap = Double(ap.count), nann = Double(ann.count)
            let fraction = (Aperture.sum(own, ap) - nap * Aperture.sum(own, ann) / nann) / flux
            let area = (model.pixelScale / truth.pixelScale) * (model.pixelScale / truth.pixelScale)
            let raw = rawFrames(star, fraction: fraction, pixels: nap * area, annulus: nann * area, truth)
            guard !raw.saturated else { saturated += 1; continue }
            guard raw.noise <= o.maxNoise else { noisy += 1; continue }
            let otherAp = Aperture.sum(others, ap), otherBack = Aperture.sum(others, ann) / nann * nap
            guard max(abs(otherAp), abs(otherBack)) <= o.isolation * flux else { crowded += 1; continue }
            let background = Aperture.clippedMean(clean, ann)
            let measured = Aperture.sum(clean, ap) - nap * background
            let centre = Aperture.windowedCentroid(clean, width: size, height: size, x: lx, y: ly,
                                                   sigma: fwhm / (8 * log(2)).squareRoot(), background: background)
            used.append(.init(id: star.id, mag: 25 - 2.5 * log10(star.flux), x: x, y: y, ratio: measured / (flux * fraction),
                              dx: (centre?.x ?? .nan) - lx, dy: (centre?.y ?? .nan) - ly, noise: raw.noise))
            fractions.append(fraction)
        }
        let ratio = robust(used.map(\.ratio))
        let photometry = ScoreReport.Photometry(
            stars: used.count, candidates: candidates, uncovered: uncovered, saturated: saturated, noisy: noisy, crowded: crowded,
            medianRatio: ratio.median, robustScatter: ratio.scatter, expectedScatter: robust(used.map(\.noise)).median,
            aperture: r, annulus: [r1, r2], apertureFraction: robust(fractions).median)
        let placed = used.filter { $0.dx.isFinite && $0.dy.isFinite }
        let rms = placed.isEmpty ? Double.nan
            : (placed.reduce(0.0) { $0 + $1.dx * $1.dx + $1.dy * $1.dy } / Double(placed.count)).squareRoot()
        let astrometry = ScoreReport.Astrometry(stars: placed.count, rmsPixels: rms, rmsArcsec: rms * model.pixelScale,
                                                medianDx: robust(placed.map(\.dx)).median, medianDy: robust(placed.map(\.dy)).median)
        return (photometry, astrometry, used)
    }

    /// What the raw frames say about a star: whether it reached the clipping level in any of
    /// them (its brightest rendered pixel plus the galaxy there, times 1.1 — the flat's
    /// highest response, with room —, plus the sky and the bias level), and the relative noise
    /// of its aperture flux in a perfect reduction: photon noise of star, sky and galaxy and
    /// read noise of every frame that holds it, over `pixels` frame pixels of aperture, the
    /// annulus mean (`annulus` pixels) adding its own.
    static func rawFrames(_ star: Star, fraction: Double, pixels: Double, annulus: Double, _ truth: NightTruth)
        -> (saturated: Bool, noise: Double) {
        let galaxy = (truth.galaxy?.surfaceBrightness(ra: star.ra, dec: star.dec) ?? 0) * truth.pixelScale * truth.pixelScale
        var saturated = false, variance = 0.0, frames = 0
        for f in truth.frames {
            guard let p = f.wcs.worldToPixel(ra: star.ra, dec: star.dec),
                  let stamp = truth.psf.stamp(x: p.x, y: p.y, flux: star.flux, width: f.width, height: f.height) else { continue }
            var peak: Float = 0
            for j in 0..<stamp.size {
                let py = stamp.y0 + j
                guard py >= 0, py < f.height else { continue }
                for i in 0..<stamp.size {
                    let px = stamp.x0 + i
                    if px >= 0, px < f.width { peak = max(peak, stamp.values[j * stamp.size + i]) }
                }
            }
            let sky = f.sky.value(p.x, p.y)
            if (Double(peak) + galaxy) * 1.1 + sky + f.bias >= truth.saturation { saturated = true }
            guard p.x >= 0, p.y >= 0, p.x <= Double(f.width - 1), p.y <= Double(f.height - 1) else { continue }
            frames += 1
            let back = truth.gain * max(0, sky + galaxy) + truth.readNoise * truth.readNoise
            variance += truth.gain * star.flux * fraction + pixels * (1 + pixels / annulus) * back
        }
        let noise = frames > 0 ? variance.squareRoot() / (Double(frames) * truth.gain * star.flux * fraction) : .infinity
        return (saturated, noise)
    }
}
