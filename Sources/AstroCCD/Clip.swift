import AstroImage

/// astropysics' clipping (CCDImage.clipSigma/clipOutliers/clipThreshold/clipInvalids) as
/// documented, not as coded: counts are totals, and sigma clipping uses the full image's mean
/// and σ as its default says.
public struct ClipOptions: Sendable {
    public enum Comparison: String, Sendable, CaseIterable { case lt = "<", gt = ">", le = "<=", ge = ">=" }
    public enum Condition: Sendable {
        /// |v − mean| > sigma·σ, mean and σ of the whole image.
        case sigma(Double)
        /// Outside [min + lo·range/100, min + hi·range/100] of the region (percent of the range,
        /// not percentiles), or outside [lo, hi] as values.
        case outliers(lo: Double, hi: Double, percent: Bool)
        case threshold(Double, Comparison)
        /// NaN and ±inf.
        case invalid
    }
    public enum Action: Sendable {
        /// Set MASK bit OUTLIER (16), leave the value.
        case mask
        /// The median or mean of the region, clipped values included.
        case median, mean
        /// … of the region's values that were not clipped.
        case noclipMedian, noclipMean
        /// … of the whole image.
        case fullMedian, fullMean
        case value(Double)
    }
    public var condition: Condition
    public var action = Action.mask
    /// A FITS section; nil: the whole image.
    public var section: String?
    public init(condition: Condition) { self.condition = condition }
}

public enum Clip {
    /// Applies the clip in place; returns how many pixels it hit.
    public static func apply(_ image: inout Image, _ o: ClipOptions, file: String) throws -> Int {
        let w = image.width, h = image.height
        let region = try o.section.map { try Section.parseFITS($0, width: w, height: h) } ?? .whole(width: w, height: h)
        let indices = region.y.flatMap { y in region.x.map { y * w + $0 } }
        let regionValues = indices.map { image.pixels[$0] }.filter(\.isFinite)
        let all = image.pixels.filter(\.isFinite)
        func mean(_ v: [Float]) -> Double { v.isEmpty ? .nan : v.reduce(0.0) { $0 + Double($1) } / Double(v.count) }
        func median(_ v: [Float]) -> Double { Statistics.median(v) }
        let hit: (Double) -> Bool
        switch o.condition {
        case .sigma(let k):
            let mu = mean(all)
            let sd = (all.reduce(0.0) { $0 + (Double($1) - mu) * (Double($1) - mu) } / Double(max(1, all.count))).squareRoot()
            hit = { $0.isFinite && abs($0 - mu) > k * sd }
        case .outliers(let lo, let hi, let percent):
            var a = lo, b = hi
            if percent, let mn = regionValues.min().map(Double.init), let mx = regionValues.max().map(Double.init) {
                a = mn + lo * (mx - mn) / 100; b = mn + hi * (mx - mn) / 100
            }
            hit = { $0.isFinite && ($0 < a || $0 > b) }
        case .threshold(let t, let c):
            switch c {
            case .lt: hit = { $0 < t }
            case .gt: hit = { $0 > t }
            case .le: hit = { $0 <= t }
            case .ge: hit = { $0 >= t }
            }
        case .invalid:
            hit = { !$0.isFinite }
        }
        let clipped = indices.filter { hit(Double(image.pixels[$0])) }
        guard !clipped.isEmpty else { return 0 }
        let clippedSet = Set(clipped)
        let replacement: Double?
        switch o.action {
        case .mask: replacement = nil
        case .median: replacement = median(regionValues)
        case .mean: replacement = mean(regionValues)
        case .noclipMedian, .noclipMean:
            let kept = indices.filter { !clippedSet.contains($0) }.map { image.pixels[$0] }.filter(\.isFinite)
            if case .noclipMedian = o.action { replacement = median(kept) } else { replacement = mean(kept) }
        case .fullMedian: replacement = median(all)
        case .fullMean: replacement = mean(all)
        case .value(let v): replacement = v
        }
        if let replacement {
            guard replacement.isFinite else {
                throw AstroError(.badData, file: file, operation: "clipping", reason: "no usable value to replace the clipped pixels with")
            }
            for i in clipped { image.pixels[i] = Float(replacement) }
        } else {
            var mask = image.mask ?? [UInt8](repeating: 0, count: image.pixels.count)
            for i in clipped { mask[i] |= MaskBits.outlier.rawValue }
            image.mask = mask
        }
        return clipped.count
    }

    /// astropysics' offsetData as documented: subtract a number, or the minimum of the region
    /// (`min`, leaving it at 0) or of the whole image (`gmin`); the `p1` forms leave the minimum
    /// at 1 (the code left it at −1). Returns the offset subtracted from every pixel.
    public static func offset(_ image: inout Image, _ spec: String, section: String?, file: String) throws -> Double {
        let w = image.width, h = image.height
        let value: Double
        if let v = Double(spec) { value = v } else {
            let global = spec.hasPrefix("g")
            let region = global ? .whole(width: w, height: h)
                : try section.map { try Section.parseFITS($0, width: w, height: h) } ?? .whole(width: w, height: h)
            var mn = Double.infinity
            for y in region.y { for x in region.x { let v = Double(image.pixels[y * w + x]); if v.isFinite { mn = min(mn, v) } } }
            guard mn.isFinite else { throw AstroError(.badData, file: file, operation: "offsetting", reason: "no finite pixel") }
            switch spec {
            case "min", "gmin": value = mn
            case "minp1", "gminp1": value = mn - 1
            default: throw AstroError(.usage, operation: "parsing --by", reason: "'\(spec)' is not a number, min, minp1, gmin or gminp1")
            }
        }
        for i in image.pixels.indices { image.pixels[i] -= Float(value) }
        return value
    }
}
