/// Count, mean, spread and range of the usable values of a sample.
public struct BasicStats: Sendable, Equatable {
    /// Finite values not masked out.
    public var count: Int
    /// Non-finite values (NaN, ±∞) among those not masked out.
    public var nanCount: Int
    /// Mean and population standard deviation (ddof = 0) of the `count` values; NaN if none.
    public var mean: Double
    public var std: Double
    /// Smallest and largest of the `count` values; NaN if none.
    public var min: Double
    public var max: Double

    public init(count: Int, nanCount: Int, mean: Double, std: Double, min: Double, max: Double) {
        self.count = count
        self.nanCount = nanCount
        self.mean = mean
        self.std = std
        self.min = min
        self.max = max
    }
}

/// Robust statistics of a sample: NaN-aware, mask-aware, exact, and parallel.
///
/// Everything accumulates in `Double` from the `Float` data, so results agree with numpy and
/// astropy run on `data.astype(np.float64)` to round-off (numpy's own float32 reductions
/// round more). Medians and percentiles are found by radix selection (see `Selection.swift`):
/// two passes over the data, never a sort or a copy. A `mask` has one byte per value;
/// non-zero means "leave this value out", as in `Image.mask`.
public enum Statistics {

    // MARK: Moments

    /// Count, NaN count, mean, std (ddof 0), min and max in one parallel pass.
    ///
    /// NaN and ±∞ are skipped and counted in `nanCount`; masked values are skipped and not
    /// counted at all. The variance is computed stably: sums are taken about a sample value per
    /// 4096-element chunk and the chunks are merged with Chan's formula.
    /// - Complexity: O(n), one pass.
    public static func basic(_ values: UnsafeBufferPointer<Float>,
                             mask: UnsafeBufferPointer<UInt8>? = nil) -> BasicStats {
        let m = moments(SampleHandle(values, mask: mask),
                        lower: -Float.greatestFiniteMagnitude, upper: Float.greatestFiniteMagnitude)
        return BasicStats(count: m.n, nanCount: m.nonFinite, mean: m.n > 0 ? m.mean : .nan,
                          std: m.n > 0 ? (m.m2 / Double(m.n)).squareRoot() : .nan,
                          min: m.n > 0 ? Double(m.min) : .nan, max: m.n > 0 ? Double(m.max) : .nan)
    }

    /// `basic` over the image's pixels, leaving out pixels its mask flags.
    public static func basic(_ image: Image) -> BasicStats {
        image.pixels.withUnsafeBufferPointer { p in
            guard let mask = image.mask else { return basic(p) }
            return mask.withUnsafeBufferPointer { basic(p, mask: $0) }
        }
    }

    // MARK: Order statistics

    /// The exact median as numpy computes it (the mean of the two middle values for an even
    /// count), over the finite, unmasked values; NaN if there are none. The mean of the middle
    /// pair is a Double, as `np.median(data.astype(np.float64))`; numpy on the float32 array
    /// would round it to float32.
    /// - Complexity: O(n): one pass when the bucket of the middle values is guessed right from a
    ///   subsample (the usual case), else two; no sort, no copy. Small samples (under
    ///   `sortedMedianLimit` values) are copied and sorted instead, which costs less than the
    ///   radix buckets' set-up there.
    public static func median(_ values: UnsafeBufferPointer<Float>,
                              mask: UnsafeBufferPointer<UInt8>? = nil) -> Double {
        if values.count < sortedMedianLimit {
            var v: [Float] = []
            v.reserveCapacity(values.count)
            for i in values.indices where values[i].isFinite && (mask?[i] ?? 0) == 0 { v.append(values[i]) }
            guard !v.isEmpty else { return .nan }
            v.sort()
            return (Double(v[(v.count - 1) / 2]) + Double(v[v.count / 2])) / 2
        }
        let sample = SampleHandle(values, mask: mask)
        let index = RadixIndex(sample, withSums: false, speculative: Guess.percentiles(sample, [0.5]))
        return median(of: index, in: .finite)
    }

    /// Below this many values `median` sorts a copy.
    static let sortedMedianLimit = 4096

    /// `median` of an array, with no mask.
    public static func median(_ values: [Float]) -> Double {
        values.withUnsafeBufferPointer { median($0) }
    }

    /// The lower of the two middle values for an even count (what a quickselect median such as
    /// astroscrappy's returns), over the finite, unmasked values; NaN if there are none.
    public static func lowerMedian(_ values: UnsafeBufferPointer<Float>,
                                   mask: UnsafeBufferPointer<UInt8>? = nil) -> Float {
        let sample = SampleHandle(values, mask: mask)
        let index = RadixIndex(sample, withSums: false, speculative: Guess.percentiles(sample, [0.5]))
        index.refine(index.cutBuckets(.finite))
        let n = index.count(.finite)
        guard n > 0 else { return .nan }
        return index.select(ranks: [(n - 1) / 2], in: .finite)[0]
    }

    /// `numpy.percentile(…, method="linear")` of the finite, unmasked values, for each `p` in
    /// `ps` (0…100; anything else, or no data, gives NaN). All of them share the same two passes.
    /// - Complexity: O(n): one or two passes (one more per 15 distinct buckets the ranks fall in
    ///   beyond those guessed from a subsample).
    public static func percentiles(_ values: UnsafeBufferPointer<Float>, _ ps: [Double],
                                   mask: UnsafeBufferPointer<UInt8>? = nil) -> [Double] {
        let sample = SampleHandle(values, mask: mask)
        let guesses = Guess.percentiles(sample, ps.filter { $0 >= 0 && $0 <= 100 }.map { $0 / 100 })
        let index = RadixIndex(sample, withSums: false, speculative: guesses)
        let n = index.total
        // numpy: virtual index (n−1)·q with q = p/100; indices at or past n−1 take the last value.
        var plans: [(lo: Int, hi: Int, gamma: Double)?] = []
        var ranks = Set<Int>()
        for p in ps {
            guard n > 0, p >= 0, p <= 100 else { plans.append(nil); continue }
            let virtual = Double(n - 1) * (p / 100)
            if virtual >= Double(n - 1) {
                plans.append((n - 1, n - 1, 0)); ranks.insert(n - 1)
            } else {
                let below = virtual.rounded(.down)
                let lo = Int(below)
                plans.append((lo, lo + 1, virtual - below)); ranks.insert(lo); ranks.insert(lo + 1)
            }
        }
        let sorted = ranks.sorted()
        let found = sorted.isEmpty ? [] : index.select(ranks: sorted, in: .finite)
        var value = [Int: Double]()
        for (r, v) in zip(sorted, found) { value[r] = Double(v) }
        return plans.map { plan in
            guard let plan else { return .nan }
            return lerp(value[plan.lo]!, value[plan.hi]!, plan.gamma)
        }
    }

    /// The median absolute deviation `median(|x − median(x)|)`, unscaled, of the finite,
    /// unmasked values; NaN if there are none. Deviations are exact (computed in Double).
    /// - Complexity: O(n), five or six passes.
    public static func mad(_ values: UnsafeBufferPointer<Float>,
                           mask: UnsafeBufferPointer<UInt8>? = nil) -> Double {
        let sample = SampleHandle(values, mask: mask)
        let index = RadixIndex(sample, withSums: false, speculative: Guess.percentiles(sample, [0.5]))
        let n = index.total
        guard n > 0 else { return .nan }
        let centre = median(of: index, in: .finite)
        let d = select64(Deviations(sample: sample, centre: centre), ranks: [(n - 1) / 2, n / 2])
        return (d[0] + d[1]) / 2
    }

    /// The σ estimate from the MAD for normally distributed data:
    /// `mad × 1.482602218505602` (1/Φ⁻¹(3/4), the constant of astropy's `mad_std`).
    public static func madStd(_ values: UnsafeBufferPointer<Float>,
                              mask: UnsafeBufferPointer<UInt8>? = nil) -> Double {
        mad(values, mask: mask) * 1.482602218505602
    }

    // MARK: Shared helpers

    /// numpy's `_lerp`: exact at both ends, symmetric rounding either side of t = 0.5.
    @inline(__always)
    static func lerp(_ a: Double, _ b: Double, _ t: Double) -> Double {
        let diff = b - a
        return t >= 0.5 ? b - diff * (1 - t) : a + diff * t
    }

    /// Median of the values of `index` inside `range`; NaN if none.
    static func median(of index: RadixIndex, in range: KeyRange, speculative: [Int] = []) -> Double {
        index.refine(index.cutBuckets(range))
        let n = index.count(range)
        guard n > 0 else { return .nan }
        let v = index.select(ranks: [(n - 1) / 2, n / 2], in: range, speculative: speculative)
        return (Double(v[0]) + Double(v[1])) / 2
    }

    /// |x − centre| for the finite unmasked values, as Double bit patterns.
    struct Deviations: KeySource64 {
        let sample: SampleHandle
        let centre: Double
        @inline(__always)
        func key(_ i: Int) -> UInt64 {
            if let m = sample.mask, m[i] != 0 { return .max }
            // NaN and ±∞ give keys at or above +∞'s, which select64 ignores.
            return abs(Double(sample.values![i]) - centre).bitPattern
        }
    }

    /// Partial moments of the values in `[lower, upper]` (NaN never is), merged with Chan's
    /// parallel formula.
    struct Moments: Sendable {
        var n = 0
        var mean = 0.0
        var m2 = 0.0
        var min = Float.infinity
        var max = -Float.infinity
        var nonFinite = 0

        mutating func merge(_ o: Moments) {
            nonFinite &+= o.nonFinite
            guard o.n > 0 else { return }
            if o.min < min { min = o.min }
            if o.max > max { max = o.max }
            guard n > 0 else { n = o.n; mean = o.mean; m2 = o.m2; return }
            let na = Double(n), nb = Double(o.n), total = na + nb
            let delta = o.mean - mean
            mean += delta * (nb / total)
            m2 += o.m2 + delta * delta * (na * nb / total)
            n &+= o.n
        }
    }

    /// One parallel pass: moments of the unmasked values in `[lower, upper]` and the number of
    /// unmasked non-finite values.
    static func moments(_ s: SampleHandle, lower: Float, upper: Float) -> Moments {
        let parts = Parallel.mapBlocks(count: s.count, minBlock: SampleHandle.minChunk) { r in
            var acc = Moments()
            var start = r.lowerBound
            while start < r.upperBound {
                let end = Swift.min(start &+ 4096, r.upperBound)
                acc.merge(chunkMoments(s, start, end, lower, upper))
                start = end
            }
            return acc
        }
        var total = Moments()
        for p in parts { total.merge(p) }
        return total
    }

    /// Sums about the chunk's first usable value (so little cancellation: that value lies within
    /// the data's spread, which bounds the relative error of M2 by about chunk size × ε), in two
    /// independent lanes so the additions pipeline.
    @inline(__always)
    private static func chunkMoments(_ s: SampleHandle, _ start: Int, _ end: Int,
                                     _ lower: Float, _ upper: Float) -> Moments {
        let v = s.values!, m = s.mask
        var out = Moments()
        var i = start
        // Non-finite count and the first usable value.
        var nonFinite = 0
        var first = end
        while i < end {
            let x = v[i]
            let use = m == nil || m![i] == 0
            if use && !x.isFinite { nonFinite &+= 1 }
            if use && x >= lower && x <= upper { first = i; break }
            i &+= 1
        }
        if first == end { out.nonFinite = nonFinite; return out }
        let shift = v[first]
        let shiftD = Double(shift)
        // Two lanes; an unused value is replaced by the shift, so its d is exactly 0.
        var a1 = 0.0, a2 = 0.0, b1 = 0.0, b2 = 0.0
        var count = 0
        var lo = shift, hi = shift
        @inline(__always) func usable(_ x: Float, _ j: Int) -> Bool {
            let ok = x >= lower && x <= upper
            if let m { return ok && m[j] == 0 }
            return ok
        }
        i = first
        while i &+ 2 <= end {
            let x0 = v[i], x1 = v[i &+ 1]
            let o0 = usable(x0, i), o1 = usable(x1, i &+ 1)
            let d0 = Double(o0 ? x0 : shift) - shiftD, d1 = Double(o1 ? x1 : shift) - shiftD
            a1 += d0; a2 += d0 * d0
            b1 += d1; b2 += d1 * d1
            count &+= (o0 ? 1 : 0) &+ (o1 ? 1 : 0)
            lo = Swift.min(lo, o0 ? x0 : lo); hi = Swift.max(hi, o0 ? x0 : hi)
            lo = Swift.min(lo, o1 ? x1 : lo); hi = Swift.max(hi, o1 ? x1 : hi)
            i &+= 2
        }
        if i < end {
            let x = v[i], o = usable(x, i)
            let d = Double(o ? x : shift) - shiftD
            a1 += d; a2 += d * d
            count &+= o ? 1 : 0
            lo = Swift.min(lo, o ? x : lo); hi = Swift.max(hi, o ? x : hi)
        }
        // Non-finite values after the first usable one (a separate, vectorisable count).
        var j = first &+ 1
        if let m {
            while j < end { nonFinite &+= (m[j] == 0 && !v[j].isFinite) ? 1 : 0; j &+= 1 }
        } else {
            while j < end { nonFinite &+= v[j].isFinite ? 0 : 1; j &+= 1 }
        }
        let sum1 = a1 + b1, sum2 = a2 + b2
        let c = Double(count)
        out.n = count
        out.mean = shiftD + sum1 / c
        out.m2 = Swift.max(0, sum2 - sum1 * sum1 / c)
        out.min = lo
        out.max = hi
        out.nonFinite = nonFinite
        return out
    }
}
