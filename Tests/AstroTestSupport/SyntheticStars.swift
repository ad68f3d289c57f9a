import Foundation

/// Seeded star fields for registration tests: stars on a template frame, the same stars seen
/// by a source frame through a known map, rendered as pixel-integrated Gaussians on a sky with
/// a gradient and Poisson-like noise.
public enum SyntheticStars {
    public struct Star: Sendable {
        public var x: Double
        public var y: Double
        public var flux: Double

        public init(x: Double, y: Double, flux: Double) {
            self.x = x; self.y = y; self.flux = flux
        }
    }

    /// `count` stars uniformly over the frame grown by `pad` pixels on each side, fluxes
    /// log-uniform over [fluxMin, fluxMax] (most faint, a few bright).
    public static func field(count: Int, width: Int, height: Int, pad: Double = 20, fluxMin: Double = 400,
                             fluxMax: Double = 200_000, seed: UInt64) -> [Star] {
        var rng = SeededGenerator(seed: seed)
        return (0..<count).map { _ in
            Star(x: Double.random(in: -pad..<(Double(width) + pad), using: &rng),
                 y: Double.random(in: -pad..<(Double(height) + pad), using: &rng),
                 flux: fluxMin * pow(fluxMax / fluxMin, Double.random(in: 0..<1, using: &rng)))
        }
    }

    /// The stars drawn at `fwhm` on `sky` (plus a gradient of `gradient` per pixel in x and y)
    /// with Gaussian noise of variance sky + signal + readNoise² (gain 1). Stars whose centre
    /// is off the frame still spill their wings onto it.
    public static func render(_ stars: [Star], width: Int, height: Int, fwhm: Double, sky: Double = 200,
                              gradient: Double = 0.05, readNoise: Double = 5, seed: UInt64) -> [Float] {
        var signal = [Double](repeating: 0, count: width * height)
        let sigma = fwhm / 2.3548, r = Int((5 * sigma).rounded(.up)) + 1
        func cdf(_ v: Double) -> Double { 0.5 * erfc(-v / (sigma * 2.0.squareRoot())) }
        for s in stars {
            let cx = Int(s.x.rounded()), cy = Int(s.y.rounded())
            let x0 = max(0, cx - r), x1 = min(width - 1, cx + r), y0 = max(0, cy - r), y1 = min(height - 1, cy + r)
            guard x0 <= x1, y0 <= y1 else { continue }
            let xs = x0...x1, ys = y0...y1
            let wx = xs.map { cdf(Double($0) + 0.5 - s.x) - cdf(Double($0) - 0.5 - s.x) }
            let wy = ys.map { cdf(Double($0) + 0.5 - s.y) - cdf(Double($0) - 0.5 - s.y) }
            for (j, y) in ys.enumerated() {
                for (i, x) in xs.enumerated() { signal[y * width + x] += s.flux * wx[i] * wy[j] }
            }
        }
        var rng = SeededGenerator(seed: seed)
        var out = [Float](repeating: 0, count: width * height)
        for y in 0..<height {
            for x in 0..<width {
                let k = y * width + x
                let level = sky + gradient * Double(x + y) + signal[k]
                out[k] = Float(level + (level + readNoise * readNoise).squareRoot() * rng.gaussian())
            }
        }
        return out
    }

    /// A template frame and a source frame of the same stars: a source star sits at
    /// `pull(template position)`. The source PSF is wider and its stars 0.8× as bright.
    public static func pair(width: Int = 400, height: Int = 400, stars count: Int = 150, seed: UInt64 = 1,
                            pull: (Double, Double) -> (Double, Double))
        -> (template: [Float], source: [Float], stars: [Star]) {
        let stars = field(count: count, width: width, height: height, pad: 0.15 * Double(width), seed: seed)
        let moved = stars.map { s -> Star in
            let p = pull(s.x, s.y)
            return Star(x: p.0, y: p.1, flux: 0.8 * s.flux)
        }
        return (render(stars, width: width, height: height, fwhm: 3.0, seed: seed &+ 101),
                render(moved, width: width, height: height, fwhm: 3.6, sky: 300, seed: seed &+ 202),
                stars)
    }
}
