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
    /// - Complexity: O(n): at most `nclip + 1` passes over the data (each eight values a step),
    ///   one more for the histogram, and for the median two (`RangeMedian.swift`).
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
    /// mode are left NaN and their pass is saved; with `median: false` the median is NaN and
    /// its two passes are saved.
    public static func imstatWithMedian(_ values: UnsafeBufferPointer<Float>,
                                        mask: UnsafeBufferPointer<UInt8>? = nil,
                                        lower: Double? = nil, upper: Double? = nil,
                                        nclip: Int = 0, lsigma: Double = 3, usigma: Double = 3,
                                        binwidth: Double = 0.1, histogram: Bool = true,
                                        median: Bool = true) -> (stats: IMStats, median: Double) {
        imstat(SampleHandle(values, mask: mask), lower: lower, upper: upper, nclip: nclip, lsigma: lsigma,
               usigma: usigma, binwidth: binwidth, histogram: histogram, median: median)
    }

    static func imstat(_ sample: SampleHandle, lower: Double?, upper: Double?, nclip: Int, lsigma: Double,
                       usigma: Double, binwidth: Double, histogram wantHistogram: Bool, median wantMedian: Bool)
        -> (stats: IMStats, median: Double) {
        let lowerLimit = lower ?? -.infinity, upperLimit = upper ?? .infinity
        // The clipped sample's moments: from a core and its tails when the sample is large
        // (`ClipCore`), else (or where an iteration cuts into the core) a pass over the data.
        let core = floatBounds(lowerLimit, upperLimit).flatMap {
            ClipCore.forIMStat(sample, lower: $0.0, upper: $0.1, nclip: nclip, lsigma: lsigma, usigma: usigma)
        }
        guard let stats = clip({ lo, hi in
            guard let (l, h) = floatBounds(lo, hi) else { return nil }
            return core?.moments(lower: l, upper: h) ?? moments(sample, lower: l, upper: h)
        }, lowerLimit, upperLimit, nclip, lsigma, usigma) else { return (.none, .nan) }
        let n = stats.n
        let sd = n > 1 ? (stats.m2 / Double(n - 1)).squareRoot() : .nan
        let mn = Double(stats.min), mx = Double(stats.max)
        var result = IMStats(npix: n, mean: stats.mean, midpt: .nan, mode: .nan, stddev: sd, min: mn, max: mx)
        // The clipped sample is exactly the values between its extremes.
        let median = !wantMedian ? .nan : core?.median(lower: stats.min, upper: stats.max, count: n)
            ?? Self.median(sample, low: stats.min, high: stats.max, count: n)
        guard wantHistogram else { return (result, median) }

        let hwidth = binwidth * sd
        let range = mx - mn
        let tiny = 10 * Double(Float.ulpOfOne) * Swift.max(abs(mn), abs(mx))
        guard hwidth.isFinite, hwidth > 0, range > tiny, hwidth <= range else { return (result, median) }
        let bins = (range / hwidth).rounded(.down) + 1
        guard bins <= Double(1 << 24) else { return (result, median) }
        let h = histogram(sample, lower: stats.min, upper: stats.max, origin: mn, width: hwidth, bins: Int(bins))
        result.mode = histogramMode(h, origin: mn, width: hwidth)
        result.midpt = histogramMidpoint(h, total: n, origin: mn, width: hwidth)
        return (result, median)
    }

    /// The clipping loop: `measure(lo, hi)` gives the moments of the values in `[lo, hi]` (nil:
    /// no Float lies between). Nil when the sample is empty.
    static func clip(_ measure: (Double, Double) -> Moments?, _ lowerLimit: Double,
                             _ upperLimit: Double, _ nclip: Int, _ lsigma: Double, _ usigma: Double) -> Moments? {
        var lo = lowerLimit, hi = upperLimit
        var found: Moments?
        var previous = -1
        for pass in 0...max(0, nclip) {
            guard let stats = measure(lo, hi), stats.n > 0 else { return nil }
            found = stats
            if stats.n == previous || pass == nclip { break }
            previous = stats.n
            let sd = stats.n > 1 ? (stats.m2 / Double(stats.n - 1)).squareRoot() : .nan
            if !sd.isFinite { break }
            lo = max(lowerLimit, stats.mean - lsigma * sd)
            hi = min(upperLimit, stats.mean + usigma * sd)
        }
        return found
    }

    /// The Float bounds admitting exactly the values `x` with `lo ≤ Double(x) ≤ hi`.
    static func floatBounds(_ lo: Double, _ hi: Double) -> (Float, Float)? {
        guard let a = SortKey.lowerKey(lo), let b = SortKey.upperKey(hi), a <= b else { return nil }
        return (SortKey.value(a), SortKey.value(b))
    }

    /// Counts of the unmasked values in `[lower, upper]` in bins `⌊(x − origin)/width⌋`
    /// (clamped to `0..<bins`), eight values a step. Up to 64 Ki bins the counts are kept four
    /// times over (lane k counts into copy k mod 4), so that the same count is less often read
    /// back right after it was written: a clipped sample's few hundred bins are hit in runs.
    static func histogram(_ s: SampleHandle, lower: Float, upper: Float, origin: Double,
                          width: Double, bins: Int) -> [Int] {
        let copies = bins <= 1 << 16 ? 4 : 1, stride = bins + 1
        let parts = s.perWorker { r -> [Int] in
            // Each copy has one more bin, where unused values go.
            var h = [UInt32](repeating: 0, count: copies * stride)
            h.withUnsafeMutableBufferPointer { hb in
                let hp = hb.baseAddress!, last = bins - 1
                let lo8 = SIMD8<Float>(repeating: lower), hi8 = SIMD8<Float>(repeating: upper)
                let origin8 = SIMD8<Double>(repeating: origin), width8 = SIMD8<Double>(repeating: width)
                let o1 = copies == 4 ? stride : 0, o2 = 2 * o1, o3 = 3 * o1
                var i = r.lowerBound
                while i &+ 8 <= r.upperBound {
                    let x = UnsafeRawPointer(s.values! + i).loadUnaligned(as: SIMD8<Float>.self)
                    let use = unsafeBitCast((x .>= lo8) .& (x .<= hi8), to: SIMD8<Int32>.self) & s.unmaskedLanes(at: i)
                    // (Converted lane by lane: `SIMD8<Double>(x)` can stay a generic call.)
                    let xd = SIMD8<Double>(Double(x[0]), Double(x[1]), Double(x[2]), Double(x[3]),
                                           Double(x[4]), Double(x[5]), Double(x[6]), Double(x[7]))
                    let t = ((xd - origin8) / width8).rounded(.down)
                    // (The clamps lane by lane: comparisons of eight Doubles build their mask
                    // through memory.)
                    @inline(__always) func at(_ k: Int) -> Int {
                        guard use[k] != 0 else { return bins }
                        let b = Int(t[k])
                        return b < 0 ? 0 : (b > last ? last : b)
                    }
                    hp[at(0)] &+= 1; hp[o1 &+ at(1)] &+= 1; hp[o2 &+ at(2)] &+= 1; hp[o3 &+ at(3)] &+= 1
                    hp[at(4)] &+= 1; hp[o1 &+ at(5)] &+= 1; hp[o2 &+ at(6)] &+= 1; hp[o3 &+ at(7)] &+= 1
                    i &+= 8
                }
                while i < r.upperBound {
                    let x = s.values![i]
                    if x >= lower && x <= upper && (s.mask == nil || s.mask![i] == 0) {
                        let k = Int(((Double(x) - origin) / width).rounded(.down))
                        hp[k < 0 ? 0 : (k > bins - 1 ? bins - 1 : k)] &+= 1
                    }
                    i &+= 1
                }
            }
            return (0..<bins).map { k in (0..<copies).reduce(0) { $0 + Int(h[$1 * stride + k]) } }
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
