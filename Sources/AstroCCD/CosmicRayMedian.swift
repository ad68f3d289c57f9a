import AstroImage

/// ccdproc's `cosmicray_median` (IRAF crutil.crmedian): a pixel is a cosmic ray when it stands
/// more than `thresh` σ above the mbox×mbox median of the image.
public struct CosmicRayMedianOptions: Sendable, Equatable {
    public var thresh: Float = 5
    public var mbox = 11
    /// Grow flags with a gbox×gbox box (0 or 1: no growth).
    public var gbox = 0
    /// Replace flagged pixels by an rbox×rbox median; 0 replaces nothing (ccdproc's default).
    /// nil: the same box as mbox (astrotool's default: flagging without cleaning is rarely wanted).
    public var rbox: Int? = nil
    /// Replace from all box pixels, flagged ones included, as ccdproc does (scipy's
    /// median_filter); by default flagged and masked pixels are left out of the median.
    public var unmaskedReplacement = false
    public init() {}
}

public enum CosmicRayMedian {
    /// Flags (1 = cosmic ray) and the data with them replaced. `sigma` is the per-pixel error;
    /// `bad` (non-zero) pixels are never flagged and never used for replacement.
    public static func detect(_ data: [Float], width: Int, height: Int, sigma: [Float], bad: [UInt8]?,
                              options o: CosmicRayMedianOptions) -> (mask: [UInt8], cleaned: [Float]) {
        let image = Plane<Float>(width: width, height: height, repeating: 0)
        data.withUnsafeBufferPointer { image.base.update(from: $0.baseAddress!, count: data.count) }
        let median = MedianFilter.reflected(image, size: o.mbox)
        var flags = [UInt8](repeating: 0, count: data.count)
        for i in flags.indices where bad?[i] ?? 0 == 0 {
            if (data[i] - median.base[i]) / sigma[i] > o.thresh { flags[i] = 1 }
        }
        if o.gbox > 1 { flags = grow(flags, width: width, height: height, box: o.gbox) }
        var cleaned = data
        let rbox = o.rbox ?? o.mbox
        guard rbox > 0 else { return (flags, cleaned) }
        let replacement = o.unmaskedReplacement ? (rbox == o.mbox ? median : MedianFilter.reflected(image, size: rbox)) : nil
        for y in 0..<height {
            for x in 0..<width where flags[y * width + x] != 0 {
                let i = y * width + x
                if let replacement { cleaned[i] = replacement.base[i]; continue }
                // The median of the box's unflagged, unmasked pixels (upper middle, as scipy).
                var values: [Float] = []
                let lo = rbox / 2, hi = rbox - 1 - rbox / 2
                for yy in max(0, y - lo)...min(height - 1, y + hi) {
                    for xx in max(0, x - lo)...min(width - 1, x + hi) {
                        let j = yy * width + xx
                        if flags[j] == 0 && bad?[j] ?? 0 == 0 && data[j].isFinite { values.append(data[j]) }
                    }
                }
                // Nothing usable (a cluster of flags): the detection median.
                if values.isEmpty { cleaned[i] = median.base[i] } else {
                    values.sort()
                    cleaned[i] = values[values.count / 2]
                }
            }
        }
        return (flags, cleaned)
    }

    /// Maximum filter of a 0/1 mask (scipy's maximum_filter, window origin as its median's).
    static func grow(_ m: [UInt8], width: Int, height: Int, box: Int) -> [UInt8] {
        var out = m
        let lo = box / 2, hi = box - 1 - box / 2
        for y in 0..<height {
            for x in 0..<width where m[y * width + x] != 0 {
                // A flagged pixel marks every pixel whose window contains it.
                for yy in max(0, y - hi)...min(height - 1, y + lo) {
                    for xx in max(0, x - hi)...min(width - 1, x + lo) { out[yy * width + xx] = 1 }
                }
            }
        }
        return out
    }
}
