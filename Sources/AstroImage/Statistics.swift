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
    /// the data's spread, which bounds the relative error of M2 by about chunk size × ε), eight
    /// values a step in eight running sums so the additions pipeline (two sets of sums ran
    /// slower: the registers ran out): an unused value is replaced by the shift, so its
    /// difference is exactly 0.
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
        var lanes = ChunkLanes(shift)
        let lo8 = SIMD8<Float>(repeating: lower), hi8 = SIMD8<Float>(repeating: upper)
        i = first &+ 1
        while i &+ 8 <= end {
            lanes.add(s, i, lo8, hi8)
            i &+= 8
        }
        let s1 = lanes.s1, s2 = lanes.s2
        var sum1 = s1.sum(), sum2 = s2.sum()
        var count = 1 &+ Int(lanes.count.wrappedSum())
        nonFinite &+= Int(lanes.bad.wrappedSum())
        var low = lanes.low.min(), high = lanes.high.max()
        while i < end {
            let x = v[i]
            let unmasked = m == nil || m![i] == 0
            if unmasked && !x.isFinite { nonFinite &+= 1 }
            if unmasked && x >= lower && x <= upper {
                let d = Double(x) - shiftD
                sum1 += d
                sum2 += d * d
                count &+= 1
                low = Swift.min(low, x)
                high = Swift.max(high, x)
            }
            i &+= 1
        }
        let c = Double(count)
        out.n = count
        out.mean = shiftD + sum1 / c
        out.m2 = Swift.max(0, sum2 - sum1 * sum1 / c)
        out.min = low
        out.max = high
        out.nonFinite = nonFinite
        return out
    }
}

/// Sums about one fixed value: count, Σd, Σd² of d = x − shift, and the extremes. Sums over
/// parts of a sample add up (no merging of means), so with a shift near the data's mean the
/// moments lose nothing to the data's distance from zero, however the parts were cut.
struct ShiftedSums: Sendable {
    var n = 0
    var s1 = 0.0, s2 = 0.0
    var min = Float.infinity, max = -Float.infinity

    static func + (a: ShiftedSums, b: ShiftedSums) -> ShiftedSums {
        ShiftedSums(n: a.n + b.n, s1: a.s1 + b.s1, s2: a.s2 + b.s2, min: Swift.min(a.min, b.min), max: Swift.max(a.max, b.max))
    }

    /// The moments, given the shift the sums were taken about.
    func moments(about shift: Float) -> Statistics.Moments {
        var m = Statistics.Moments()
        guard n > 0 else { return m }
        let c = Double(n)
        m.n = n
        m.mean = Double(shift) + s1 / c
        m.m2 = Swift.max(0, s2 - s1 * s1 / c)
        m.min = min
        m.max = max
        return m
    }
}

extension Statistics {
    /// One parallel pass: the sums about `shift` of the unmasked values in `[lower, upper]`.
    static func sums(_ s: SampleHandle, lower: Float, upper: Float, about shift: Float) -> ShiftedSums {
        Parallel.mapBlocks(count: s.count, minBlock: SampleHandle.minChunk) { r -> ShiftedSums in
            var lanes = ChunkLanes(shift, extremes: (.infinity, -.infinity))
            let lo8 = SIMD8<Float>(repeating: lower), hi8 = SIMD8<Float>(repeating: upper)
            var i = r.lowerBound
            while i &+ 8 <= r.upperBound {
                lanes.add(s, i, lo8, hi8)
                i &+= 8
            }
            var out = ShiftedSums(n: Int(lanes.count.wrappedSum()), s1: lanes.s1.sum(), s2: lanes.s2.sum(),
                                  min: lanes.low.min(), max: lanes.high.max())
            while i < r.upperBound {
                let x = s.values![i]
                if x >= lower && x <= upper && (s.mask == nil || s.mask![i] == 0) {
                    let d = Double(x) - Double(shift)
                    out.n += 1; out.s1 += d; out.s2 += d * d
                    out.min = Swift.min(out.min, x); out.max = Swift.max(out.max, x)
                }
                i &+= 1
            }
            return out
        }.reduce(ShiftedSums(), +)
    }
}

/// `chunkMoments`' running sums over eight lanes: each lane adds its value's difference from
/// the shift where the value is used (else exactly 0), and counts the used and non-finite ones.
private struct ChunkLanes {
    let shift: SIMD8<Float>, shiftD: SIMD8<Double>
    var s1 = SIMD8<Double>(), s2 = SIMD8<Double>()
    var count = SIMD8<Int32>(), bad = SIMD8<Int32>()
    var low: SIMD8<Float>, high: SIMD8<Float>

    /// Sums about `shift`; the extremes start at `extremes` (the shift itself when it is one of
    /// the values, else +∞ and −∞).
    @_transparent
    init(_ shift: Float, extremes: (Float, Float)? = nil) {
        self.shift = SIMD8(repeating: shift)
        shiftD = SIMD8(repeating: Double(shift))
        low = SIMD8(repeating: extremes?.0 ?? shift)
        high = SIMD8(repeating: extremes?.1 ?? shift)
    }

    /// The eight values at `i` of `s`, kept when unmasked and in `[lower, upper]`.
    @_transparent
    mutating func add(_ s: SampleHandle, _ i: Int, _ lower: SIMD8<Float>, _ upper: SIMD8<Float>) {
        typealias I = SIMD8<Int32>
        let x = UnsafeRawPointer(s.values! + i).loadUnaligned(as: SIMD8<Float>.self)
        let unmasked = s.unmaskedLanes(at: i)
        // (Masks as integer vectors: a comparison of Floats gives Int32 lanes of 0 or −1.)
        let inRange = unsafeBitCast((x .>= lower) .& (x .<= upper), to: I.self) & unmasked
        let nonFinite = unsafeBitCast((x - x) .!= SIMD8<Float>(), to: I.self) & unmasked
        let used = inRange .!= I()
        let u = shift.replacing(with: x, where: used)
        // (Lane by lane, which compiles to the vector conversion: `SIMD8<Double>(u)` is a
        // generic call where the optimiser gives up inlining.)
        let d = SIMD8<Double>(Double(u[0]), Double(u[1]), Double(u[2]), Double(u[3]),
                              Double(u[4]), Double(u[5]), Double(u[6]), Double(u[7])) - shiftD
        s1 += d
        s2 += d * d
        count &-= inRange
        bad &-= nonFinite
        low = low.replacing(with: x, where: used .& (x .< low))
        high = high.replacing(with: x, where: used .& (x .> high))
    }
}
