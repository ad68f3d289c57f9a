/// The result of `Statistics.imstat`, as IRAF `imstatistics` (and `stsci.imagestats`) report it.
public struct IMStats: Sendable, Equatable {
    /// Values in the final clipped sample; 0 means "no value" and every other field is NaN.
    public var npix: Int
    public var mean: Double
    /// Histogram estimate of the median (IRAF `midpt`); NaN when the histogram is degenerate.
    public var midpt: Double
    /// Histogram estimate of the mode (IRAF `mode`); NaN when the histogram is degenerate.
    public var mode: Double
    /// Sample standard deviation (n − 1); NaN for a single value.
    public var stddev: Double
    public var min: Double
    public var max: Double

    public init(npix: Int, mean: Double, midpt: Double, mode: Double, stddev: Double,
                min: Double, max: Double) {
        self.npix = npix
        self.mean = mean
        self.midpt = midpt
        self.mode = mode
        self.stddev = stddev
        self.min = min
        self.max = max
    }

    static let none = IMStats(npix: 0, mean: .nan, midpt: .nan, mode: .nan, stddev: .nan, min: .nan, max: .nan)
}

extension Statistics {
    /// IRAF `imstatistics`-style statistics with the histogram `midpt` and `mode` estimators,
    /// in the corrected form recommended in docs/skymatch.md §4 (not the `imagestats` quirks):
    ///
    /// 1. The sample is the finite, unmasked values in `[lower, upper]` (nil: unbounded).
    /// 2. Clipping, `nclip` times: from the current sample's mean and σ (n − 1),
    ///    `lo = max(lower, mean − lsigma·σ)`, `hi = min(upper, mean + usigma·σ)`, and the
    ///    sample becomes the values in `[lo, hi]`. It stops early once npix stops changing
    ///    (as IRAF does). Min and max are the true extremes of the clipped sample (no
    ///    first-pixel seeding), and sums are in Double throughout (imagestats stores the mean
    ///    as float).
    /// 3. The histogram covers `[min, max]` of the clipped sample with bins of exactly
    ///    `hwidth = binwidth·σ` (not IRAF's stretched `dz`); `nbins = ⌊(max − min)/hwidth⌋ + 1`,
    ///    and only the clipped sample is binned.
    /// 4. `mode`: parabolic interpolation about the first fullest bin (IRAF `ist_hmode`);
    ///    `midpt`: linear interpolation in the first bin where the normalised cumulative
    ///    histogram reaches 0.5 (IRAF `ist_hmedian` as imagestats does it).
    /// 5. Degenerate data give NaN for `midpt` and `mode` ("no value") instead of a bin count:
    ///    σ not positive or not finite, `max − min` within 10 float32 ulps of the data's
    ///    magnitude, or `hwidth > max − min`. So does a histogram of more than 2²⁴ bins
    ///    (which needs a `binwidth` far below the default: σ bounds the range for real data).
    ///
    /// IRAF's defaults are `nclip = 0`, `lsigma = usigma = 3`, `binwidth = 0.1`; the skymatch
    /// ones are `nclip = 5`, `lsigma = usigma = 4`.
    ///
    /// Samples of 32 Ki values or more are grouped by radix bucket first
    /// (`StatisticsBucketed.swift`): the same clipped sample and histogram, moments equal to
    /// round-off, from two passes over the data instead of up to `nclip + 2`.
    /// - Complexity: O(n): two passes and a pass over the usable values, or, for small samples,
    ///   at most `nclip + 1` passes plus one for the histogram.
    public static func imstat(_ values: UnsafeBufferPointer<Float>,
                              mask: UnsafeBufferPointer<UInt8>? = nil,
                              lower: Double? = nil, upper: Double? = nil,
                              nclip: Int = 0, lsigma: Double = 3, usigma: Double = 3,
                              binwidth: Double = 0.1) -> IMStats {
        imstat(SampleHandle(values, mask: mask), lower: lower, upper: upper, nclip: nclip, lsigma: lsigma,
               usigma: usigma, binwidth: binwidth, histogram: true, median: false).stats
    }

    /// `imstat` and the exact median of the final clipped sample (numpy's: the mean of the two
    /// middle values for an even count; NaN when npix is 0). With `histogram: false` midpt and
    /// mode are left NaN and their pass is saved.
    public static func imstatWithMedian(_ values: UnsafeBufferPointer<Float>,
                                        mask: UnsafeBufferPointer<UInt8>? = nil,
                                        lower: Double? = nil, upper: Double? = nil,
                                        nclip: Int = 0, lsigma: Double = 3, usigma: Double = 3,
                                        binwidth: Double = 0.1, histogram: Bool = true) -> (stats: IMStats, median: Double) {
        imstat(SampleHandle(values, mask: mask), lower: lower, upper: upper, nclip: nclip, lsigma: lsigma,
               usigma: usigma, binwidth: binwidth, histogram: histogram, median: true)
    }

    /// Both forms behind one door; `bucketed` nil chooses by size (tests force either form).
    static func imstat(_ sample: SampleHandle, lower: Double?, upper: Double?, nclip: Int, lsigma: Double,
                       usigma: Double, binwidth: Double, histogram wantHistogram: Bool, median wantMedian: Bool,
                       bucketed: Bool? = nil) -> (stats: IMStats, median: Double) {
        let lowerLimit = lower ?? -.infinity, upperLimit = upper ?? .infinity
        // The clipped sample's moments, and the keys admitting exactly its values.
        let stats: Moments
        let kept: KeyRange
        var grouped: BucketedSample?
        if bucketed ?? (sample.count >= BucketedSample.minCount) {
            let all = SortKey.range(lowerLimit, upperLimit)
            if all.isEmpty { return (.none, .nan) }
            let g = BucketedSample(sample, range: all)
            guard let found = clip({ lo, hi in
                let r = SortKey.range(lo, hi)
                return r.isEmpty ? nil : (g.moments(in: r), r)
            }, lowerLimit, upperLimit, nclip, lsigma, usigma) else { return (.none, .nan) }
            (stats, kept) = found
            grouped = g
        } else {
            guard let found = clip({ lo, hi in
                guard let (l, h) = floatBounds(lo, hi) else { return nil }
                return (moments(sample, lower: l, upper: h), SortKey.range(lo, hi))
            }, lowerLimit, upperLimit, nclip, lsigma, usigma) else { return (.none, .nan) }
            (stats, kept) = found
        }
        let n = stats.n
        let sd = n > 1 ? (stats.m2 / Double(n - 1)).squareRoot() : .nan
        let mn = Double(stats.min), mx = Double(stats.max)
        var result = IMStats(npix: n, mean: stats.mean, midpt: .nan, mode: .nan, stddev: sd, min: mn, max: mx)
        var median = Double.nan
        if wantMedian {
            if let grouped {
                median = grouped.median(in: kept, count: n)
            } else {
                median = Self.median(SortKey.value(kept.lo), SortKey.value(kept.hi), sample)
            }
        }
        guard wantHistogram else { return (result, median) }

        let hwidth = binwidth * sd
        let range = mx - mn
        let tiny = 10 * Double(Float.ulpOfOne) * Swift.max(abs(mn), abs(mx))
        guard hwidth.isFinite, hwidth > 0, range > tiny, hwidth <= range else { return (result, median) }
        let bins = (range / hwidth).rounded(.down) + 1
        guard bins <= Double(1 << 24) else { return (result, median) }
        let h = grouped?.histogram(in: kept, origin: mn, width: hwidth, bins: Int(bins))
            ?? histogram(sample, lower: stats.min, upper: stats.max, origin: mn, width: hwidth, bins: Int(bins))
        result.mode = histogramMode(h, origin: mn, width: hwidth)
        result.midpt = histogramMidpoint(h, total: n, origin: mn, width: hwidth)
        return (result, median)
    }

    /// The clipping loop: `measure(lo, hi)` gives the moments of the values in `[lo, hi]` and
    /// the keys admitting them (nil: no Float lies between). Nil when the sample is empty.
    private static func clip(_ measure: (Double, Double) -> (Moments, KeyRange)?, _ lowerLimit: Double,
                             _ upperLimit: Double, _ nclip: Int, _ lsigma: Double, _ usigma: Double)
        -> (Moments, KeyRange)? {
        var lo = lowerLimit, hi = upperLimit
        var found: (Moments, KeyRange)?
        var previous = -1
        for pass in 0...max(0, nclip) {
            guard let (stats, keys) = measure(lo, hi), stats.n > 0 else { return nil }
            found = (stats, keys)
            if stats.n == previous || pass == nclip { break }
            previous = stats.n
            let sd = stats.n > 1 ? (stats.m2 / Double(stats.n - 1)).squareRoot() : .nan
            if !sd.isFinite { break }
            lo = max(lowerLimit, stats.mean - lsigma * sd)
            hi = min(upperLimit, stats.mean + usigma * sd)
        }
        return found
    }

    /// The median of the unmasked values in `[lo, hi]` (finite bounds), by a copy (small samples).
    private static func median(_ lo: Float, _ hi: Float, _ s: SampleHandle) -> Double {
        guard let v = s.values else { return .nan }
        var kept: [Float] = []
        for i in 0..<s.count where s.mask == nil || s.mask![i] == 0 {
            let x = v[i]
            if x >= lo && x <= hi { kept.append(x) }
        }
        return median(kept)
    }

    /// The Float bounds admitting exactly the values `x` with `lo ≤ Double(x) ≤ hi`.
    static func floatBounds(_ lo: Double, _ hi: Double) -> (Float, Float)? {
        guard let a = SortKey.lowerKey(lo), let b = SortKey.upperKey(hi), a <= b else { return nil }
        return (SortKey.value(a), SortKey.value(b))
    }

    /// Counts of the unmasked values in `[lower, upper]` in bins `⌊(x − origin)/width⌋`.
    static func histogram(_ s: SampleHandle, lower: Float, upper: Float, origin: Double,
                          width: Double, bins: Int) -> [Int] {
        let parts = s.perWorker { r -> [Int] in
            var h = [Int](repeating: 0, count: bins)
            guard let v = s.values else { return h }
            let m = s.mask
            h.withUnsafeMutableBufferPointer { hb in
                let hp = hb.baseAddress!
                let last = bins - 1
                var i = r.lowerBound
                while i < r.upperBound {
                    let x = v[i]
                    var ok = x >= lower && x <= upper
                    if let m { ok = ok && m[i] == 0 }
                    if ok {
                        let k = Int(((Double(x) - origin) / width).rounded(.down))
                        hp[k < 0 ? 0 : (k > last ? last : k)] &+= 1
                    }
                    i &+= 1
                }
            }
            return h
        }
        var total = [Int](repeating: 0, count: bins)
        for p in parts { for j in 0..<bins { total[j] &+= p[j] } }
        return total
    }

    /// IRAF `ist_hmode`: the centre of the first fullest bin, moved by parabolic interpolation
    /// through it and its neighbours.
    static func histogramMode(_ h: [Int], origin: Double, width: Double) -> Double {
        guard !h.isEmpty else { return .nan }
        if h.count == 1 { return origin + 0.5 * width }
        if h.count == 2 {
            if h[0] == h[1] { return origin + width }
            return origin + (h[0] > h[1] ? 0.5 : 1.5) * width
        }
        var p = 0
        for i in 1..<h.count where h[i] > h[p] { p = i }
        if p == 0 || p == h.count - 1 { return origin + (Double(p) + 0.5) * width }
        let d1 = Double(h[p] - h[p - 1]), d2 = Double(h[p] - h[p + 1])
        let shift = d1 + d2 == 0 ? 0 : 0.5 * (d1 - d2) / (d1 + d2)
        return origin + (Double(p) + 0.5 + shift) * width
    }

    /// IRAF `ist_hmedian` (imagestats' reading): in the first bin where the cumulative fraction
    /// reaches 0.5, interpolate linearly between the bin's lower edge and its upper edge.
    static func histogramMidpoint(_ h: [Int], total: Int, origin: Double, width: Double) -> Double {
        guard total > 0 else { return .nan }
        let n = Double(total)
        var below = 0.0          // C[k−1]
        var cumulative = 0
        for k in h.indices {
            cumulative += h[k]
            let c = Double(cumulative) / n
            if c >= 0.5 {
                let f = c - below
                let lowerEdge = origin + Double(k) * width
                guard f > 0 else { return lowerEdge }
                return lowerEdge + (0.5 - below) / f * width
            }
            below = c
        }
        return .nan
    }
}
