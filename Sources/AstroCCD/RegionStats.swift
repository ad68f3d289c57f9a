import AstroImage
import Foundation

/// `astrotool ccdproc stats`: astropysics' getStats and IRAF imstatistics for a region of a
/// frame — or of its difference with, or ratio to, another frame (a master against the
/// simulation's truth, say).
public struct RegionStatsOptions: Sendable {
    public enum Region: Sendable, Equatable {
        case whole
        /// A FITS section, 1-based inclusive.
        case section(String)
        /// Centre (FITS 1-based pixel coordinates) and radius in pixels.
        case circle(x: Double, y: Double, radius: Double)
    }
    public enum Compare: Sendable { case minus(Image), divide(Image) }

    public var region = Region.whole
    /// Leave MASK's non-zero pixels out.
    public var useMask = true
    public var clipSigma = 3.0
    public var clipIterations = 5
    public var compare: Compare?
    public init() {}
}

public struct RegionStats: Sendable, Encodable {
    public var npix: Int
    public var nmasked: Int
    public var nonFinite: Int
    public var mean: Double
    public var median: Double
    /// IRAF's histogram median and mode.
    public var midpt: Double
    public var mode: Double
    /// Population σ (astropysics, numpy); IRAF's stddev is the sample one.
    public var std: Double
    public var stddev: Double
    public var madStd: Double
    public var min: Double
    public var max: Double
    public var clippedMean: Double
    public var clippedMedian: Double
    public var clippedStd: Double
    public var clippedN: Int

    public static func compute(_ image: Image, file: String, options o: RegionStatsOptions) throws -> RegionStats {
        var values = image.pixels
        if let compare = o.compare {
            let other: Image
            switch compare { case .minus(let i), .divide(let i): other = i }
            guard other.width == image.width, other.height == image.height else {
                throw AstroError(.badData, file: file, operation: "comparing frames",
                                 reason: "it is \(image.width)x\(image.height), the other is \(other.width)x\(other.height)")
            }
            switch compare {
            case .minus: for i in values.indices { values[i] -= other.pixels[i] }
            case .divide: for i in values.indices { values[i] /= other.pixels[i] }
            }
        }
        // Excluded: outside the region, or masked.
        var excluded = [UInt8](repeating: 0, count: values.count)
        let w = image.width, h = image.height
        switch o.region {
        case .whole: break
        case .section(let text):
            let r = try Section.parseFITS(text, width: w, height: h)
            for y in 0..<h { for x in 0..<w where !(r.x.contains(x) && r.y.contains(y)) { excluded[y * w + x] = 1 } }
        case .circle(let cx, let cy, let radius):
            guard radius > 0, cx >= 0.5, cx <= Double(w) + 0.5, cy >= 0.5, cy <= Double(h) + 0.5 else {
                throw AstroError(.usage, file: file, operation: "selecting a circle",
                                 reason: "the centre must lie inside the \(w)x\(h) image and the radius be positive")
            }
            for y in 0..<h {
                for x in 0..<w {
                    let dx = Double(x + 1) - cx, dy = Double(y + 1) - cy
                    if dx * dx + dy * dy > radius * radius { excluded[y * w + x] = 1 }
                }
            }
        }
        var nmasked = 0
        if o.useMask, let m = image.mask {
            for i in m.indices where m[i] != 0 && excluded[i] == 0 { excluded[i] = 1; nmasked += 1 }
        }
        return values.withUnsafeBufferPointer { v in
            excluded.withUnsafeBufferPointer { m in
                let s = Statistics.summary(v, mask: m, sigma: o.clipSigma, maxIters: o.clipIterations)
                let imstat = Statistics.imstat(v, mask: m)
                return RegionStats(npix: s.basic.count, nmasked: nmasked, nonFinite: s.basic.nanCount,
                                   mean: s.basic.mean, median: s.median, midpt: imstat.midpt, mode: imstat.mode,
                                   std: s.basic.std, stddev: imstat.stddev, madStd: Statistics.madStd(v, mask: m),
                                   min: s.basic.min, max: s.basic.max, clippedMean: s.clipped.mean,
                                   clippedMedian: s.clipped.median, clippedStd: s.clipped.std, clippedN: s.clipped.count)
            }
        }
    }
}
