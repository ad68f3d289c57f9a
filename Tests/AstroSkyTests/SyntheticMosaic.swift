import AstroFITS
import AstroImage
import AstroTestSupport
import AstroWCS
import Foundation

/// Seeded synthetic exposures with known sky levels, written as FITS for skymatch to read.
struct SyntheticMosaic {
    /// One exposure: where it points, how it is turned, and its true sky level.
    struct Frame {
        var ra: Double, dec: Double
        var rotation = 0.0
        var sky: Double
        /// The sky's slopes along the frame's x and y per pixel, about its centre.
        var slopeX = 0.0, slopeY = 0.0
    }

    /// An exponential disc on the sky, so every frame sees the same emission where they overlap.
    struct Galaxy {
        var ra: Double, dec: Double
        var peak: Double
        var scaleArcsec: Double
    }

    var size = 300
    var scale = 1.0
    var noise = 1.0
    var galaxy: Galaxy?
    var seed: UInt64 = 12345

    /// A frame offset by (ξ, η) arcsec on the tangent plane at (ra, dec), for laying out mosaics.
    static func frame(around ra: Double, _ dec: Double, xi: Double, eta: Double, rotation: Double = 0, sky: Double) -> Frame {
        Frame(ra: ra + xi / 3600 / cos(dec * .pi / 180), dec: dec + eta / 3600, rotation: rotation, sky: sky)
    }

    /// The frame's pixels: sky + galaxy + Gaussian noise, with its TAN WCS in the header.
    func image(_ f: Frame, index: Int) throws -> Image {
        let wcs = try WCS.tan(ra: f.ra, dec: f.dec, pixelScale: scale, rotation: f.rotation, width: size, height: size)
        var xs: [Double] = [], ys: [Double] = []
        for y in 0..<size { for x in 0..<size { xs.append(Double(x)); ys.append(Double(y)) } }
        let world = wcs.pixelToWorld(x: xs, y: ys)
        var rng = SeededGenerator(seed: seed &+ UInt64(index) &* 7919)
        var pixels = [Float](repeating: 0, count: size * size)
        let centre = Double(size - 1) / 2
        for k in pixels.indices {
            var v = f.sky + noise * rng.gaussian()
                + f.slopeX * (Double(k % size) - centre) + f.slopeY * (Double(k / size) - centre)
            if let g = galaxy {
                let dx = (world.ra[k] - g.ra) * cos(g.dec * .pi / 180) * 3600, dy = (world.dec[k] - g.dec) * 3600
                v += g.peak * exp(-(dx * dx + dy * dy).squareRoot() / g.scaleArcsec)
            }
            pixels[k] = Float(v)
        }
        var header = wcs.header
        header.set("BUNIT", "ELECTRONS/S")
        return Image(width: size, height: size, pixels: pixels, header: header)
    }

    /// Writes one single-image FITS per frame into `folder`; returns the paths in order.
    func write(_ frames: [Frame], into folder: URL, prefix: String = "img") throws -> [String] {
        try frames.enumerated().map { k, f in
            let path = folder.appendingPathComponent("\(prefix)\(k + 1).fits").path
            try FITSWriter.write([OutputHDU(try image(f, index: k))], to: path, overwrite: false)
            return path
        }
    }

    /// The largest deviation of the found levels from the truth once both are taken relative
    /// to their mean: what "relative sky levels" means for matching.
    static func relativeError(_ found: [Double], truth: [Double]) -> Double {
        let e = zip(found, truth).map { $0 - $1 }
        let mean = e.reduce(0, +) / Double(e.count)
        return e.map { abs($0 - mean) }.max()!
    }
}
