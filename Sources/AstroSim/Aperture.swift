import AstroImage
import Foundation

/// Circular apertures and the windowed centroid on row-major images, as `simulate score`
/// measures its stars. Whole pixels only (a pixel belongs when its centre does): the score
/// measures the truth model through the very same pixels, so no partial-pixel weights are
/// needed for the aperture correction to be exact.
enum Aperture {
    /// Indices of the pixels whose centres lie at r1 ≤ r ≤ r2 from (x, y); nil when part of
    /// that ring falls off the `width × height` image.
    static func ring(x: Double, y: Double, r1: Double, r2: Double, width: Int, height: Int) -> [Int]? {
        let xa = Int((x - r2).rounded(.up)), xb = Int((x + r2).rounded(.down))
        let ya = Int((y - r2).rounded(.up)), yb = Int((y + r2).rounded(.down))
        guard xa >= 0, ya >= 0, xb < width, yb < height, xa <= xb, ya <= yb else { return nil }
        var out: [Int] = []
        out.reserveCapacity((xb - xa + 1) * (yb - ya + 1))
        let lo = r1 * r1, hi = r2 * r2
        for py in ya...yb {
            let dy = Double(py) - y
            for px in xa...xb {
                let dx = Double(px) - x
                let r2 = dx * dx + dy * dy
                if r2 >= lo && r2 <= hi { out.append(py * width + px) }
            }
        }
        return out
    }

    static func sum(_ v: [Float], _ pixels: [Int]) -> Double {
        pixels.reduce(0) { $0 + Double(v[$1]) }
    }

    /// Mean of the values at `pixels` after 3σ clipping about the median (what a local
    /// background from an annulus should be: faint stars and cosmic-ray residue clipped).
    static func clippedMean(_ v: [Float], _ pixels: [Int]) -> Double {
        let values = pixels.map { v[$0] }
        return values.withUnsafeBufferPointer { Statistics.sigmaClipped($0, sigma: 3, maxIters: 10).mean }
    }

    /// SExtractor's windowed centroid (XWIN_IMAGE): weights exp(−r²/2σ²) about the current
    /// estimate, x ← x + 2·Σw·I·(xᵢ − x)/Σw·I, iterated from (x, y) until it moves less
    /// than 10⁻⁶ px. `background` is taken off every pixel first. Nil when it does not
    /// converge, leaves the image or the weighted flux is not positive.
    static func windowedCentroid(_ v: [Float], width: Int, height: Int, x: Double, y: Double,
                                 sigma: Double, background: Double) -> (x: Double, y: Double)? {
        var cx = x, cy = y
        let reach = 4 * sigma, inv = 1 / (2 * sigma * sigma)
        for _ in 0..<50 {
            let xa = Int((cx - reach).rounded(.up)), xb = Int((cx + reach).rounded(.down))
            let ya = Int((cy - reach).rounded(.up)), yb = Int((cy + reach).rounded(.down))
            guard xa >= 0, ya >= 0, xb < width, yb < height else { return nil }
            var sw = 0.0, sx = 0.0, sy = 0.0
            for py in ya...yb {
                let dy = Double(py) - cy
                for px in xa...xb {
                    let dx = Double(px) - cx
                    let r2 = dx * dx + dy * dy
                    guard r2 <= reach * reach else { continue }
                    let value = Double(v[py * width + px]) - background
                    guard value.isFinite else { return nil }
                    let w = exp(-r2 * inv) * value
                    sw += w; sx += w * dx; sy += w * dy
                }
            }
            guard sw > 0 else { return nil }
            let mx = 2 * sx / sw, my = 2 * sy / sw
            cx += mx; cy += my
            guard abs(cx - x) < reach, abs(cy - y) < reach else { return nil }
            if mx * mx + my * my < 1e-12 { return (cx, cy) }
        }
        return nil
    }
}
