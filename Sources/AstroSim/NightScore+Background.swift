import AstroFITS
import AstroImage
import Foundation

extension NightScore {
    /// A pixel counts as "away from stars" where the truth stars add at most this many ADU per
    /// exposure: 5× below the rendering window's own cut, far below any bias that matters.
    static let starFreeLimit = 0.1

    /// The background bias: the median of mosaic − truth galaxy over covered pixels away from
    /// the truth stars, its median in each tile of a `grid × grid` split (tiles with less than
    /// a quarter of their pixels usable are left out), and a coarser block-median map of the
    /// same residual for the plot.
    static func background(_ m: Mosaic, _ model: TruthModel, _ o: ScoreOptions) -> (ScoreReport.Background, Image, Int) {
        let limit = Float(starFreeLimit * model.scale)
        func usable(_ k: Int) -> Bool { m.covered(k) && model.stars[k] <= limit }
        var all: [Float] = []
        all.reserveCapacity(m.data.count)
        for k in 0..<m.data.count where usable(k) { all.append(m.data[k] - model.galaxy[k]) }

        /// Medians of the usable residual in blocks of columns xs × rows ys; NaN for a block
        /// less than a quarter usable.
        func blockMedian(_ xs: Range<Int>, _ ys: Range<Int>) -> Double {
            var v: [Float] = []
            for y in ys { for x in xs where usable(y * m.width + x) { v.append(m.data[y * m.width + x] - model.galaxy[y * m.width + x]) } }
            return v.count * 4 >= max(1, xs.count * ys.count) ? Statistics.median(v) : .nan
        }
        func span(_ t: Int, _ n: Int, _ parts: Int) -> Range<Int> { (t * n / parts)..<((t + 1) * n / parts) }
        var tiles: [Double] = []
        for ty in 0..<o.grid {
            for tx in 0..<o.grid {
                let v = blockMedian(span(tx, m.width, o.grid), span(ty, m.height, o.grid))
                if v.isFinite { tiles.append(v) }
            }
        }
        let mean = tiles.reduce(0, +) / Double(max(1, tiles.count))
        let std = tiles.isEmpty ? Double.nan : (tiles.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(tiles.count)).squareRoot()
        let report = ScoreReport.Background(bias: Statistics.median(all), pixels: all.count, grid: o.grid,
                                            tiles: tiles.count, tileStd: std,
                                            tileRange: tiles.isEmpty ? .nan : tiles.max()! - tiles.min()!)

        let block = max(1, (max(m.width, m.height) + 159) / 160)
        let mw = (m.width + block - 1) / block, mh = (m.height + block - 1) / block
        var map = [Float](repeating: .nan, count: mw * mh)
        for by in 0..<mh {
            for bx in 0..<mw {
                let xs = (bx * block)..<min(m.width, (bx + 1) * block), ys = (by * block)..<min(m.height, (by + 1) * block)
                map[by * mw + bx] = Float(blockMedian(xs, ys))
            }
        }
        return (report, Image(width: mw, height: mh, pixels: map), block)
    }

    /// Cosmic-ray residue: every frame's truth hits mapped through its true WCS to the nearest
    /// mosaic pixel; those covered, with an ERR, where mosaic − truth model (galaxy + stars) −
    /// the background bias exceeds `crSigma` × ERR × the ERR's scale. That scale is what ERR misses of the
    /// residual's real scatter: 1.4826·MAD of (mosaic − truth galaxy)/ERR over the covered
    /// pixels away from stars (somewhat below 1 for a right ERR, since drizzling smooths the
    /// noise); it keeps the test at `crSigma` of the real noise even when a chain's ERR is off.
    /// The same test on every other covered pixel tells how often it fires without a cosmic
    /// ray (model mismatch at bright stars, noise). Nil without ERR.
    static func cosmicRays(_ m: Mosaic, _ model: TruthModel, _ truth: NightTruth, _ o: ScoreOptions, bias: Double) throws -> ScoreReport.CosmicRays? {
        guard let err = m.error else { return nil }
        let limit = Float(starFreeLimit * model.scale)
        var z: [Float] = []
        for k in 0..<m.data.count where m.covered(k) && model.stars[k] <= limit && err[k].isFinite && err[k] > 0 {
            z.append((m.data[k] - model.galaxy[k]) / err[k])
        }
        let errScale = robust(z).scatter
        guard errScale.isFinite, errScale > 0 else { return nil }

        var hit = [Bool](repeating: false, count: m.data.count)
        for f in truth.frames {
            let mask = try FITS.readImage(f.cosmicRays)
            var xs: [Double] = [], ys: [Double] = []
            for k in 0..<mask.pixels.count where mask.pixels[k] > 0 {
                xs.append(Double(k % mask.width))
                ys.append(Double(k / mask.width))
            }
            guard !xs.isEmpty else { continue }
            let sky = f.wcs.pixelToWorld(x: xs, y: ys)
            let p = m.wcs.worldToPixel(ra: sky.ra, dec: sky.dec)
            for k in xs.indices {
                let px = p.x[k].rounded(), py = p.y[k].rounded()
                guard px.isFinite, py.isFinite, px >= 0, py >= 0, px < Double(m.width), py < Double(m.height) else { continue }
                hit[Int(py) * m.width + Int(px)] = true
            }
        }
        var pixels = 0, residue = 0, others = 0, othersFlagged = 0
        let sigma = Float(o.crSigma * errScale), offset = Float(bias.isFinite ? bias : 0)
        for k in 0..<m.data.count where m.covered(k) && err[k].isFinite && err[k] > 0 {
            let flagged = m.data[k] - model.galaxy[k] - model.stars[k] - offset > sigma * err[k]
            if hit[k] {
                pixels += 1
                if flagged { residue += 1 }
            } else {
                others += 1
                if flagged { othersFlagged += 1 }
            }
        }
        return .init(sigma: o.crSigma, errScale: errScale, pixels: pixels, residue: residue,
                     fraction: pixels > 0 ? Double(residue) / Double(pixels) : .nan,
                     otherFraction: others > 0 ? Double(othersFlagged) / Double(others) : .nan)
    }
}
