/// The result of `Statistics.sigmaClipped`.
public struct ClippedStats: Sendable, Equatable {
    /// Mean, median and population std (ddof 0) of the values kept at the end.
    public var mean: Double
    public var median: Double
    public var std: Double
    /// Values kept.
    public var count: Int
    /// Bound computations made (astropy's `niterations`).
    public var iterations: Int
    /// The last bounds computed, `centre − sigmaLower·std` and `centre + sigmaUpper·std`.
    public var lower: Double
    public var upper: Double

    public init(mean: Double, median: Double, std: Double, count: Int, iterations: Int,
                lower: Double, upper: Double) {
        self.mean = mean
        self.median = median
        self.std = std
        self.count = count
        self.iterations = iterations
        self.lower = lower
        self.upper = upper
    }
}

/// The centre that sigma clipping measures deviations from.
public enum ClipCentre: Sendable {
    case median, mean
}

extension Statistics {
    /// Sigma-clipped mean, median and std with `astropy.stats.sigma_clipped_stats` semantics
    /// (`axis=None`, `stdfunc="std"`, `std_ddof=0`, no `grow`).
    ///
    /// Each iteration takes the centre (median or mean) and the std of the values kept so far,
    /// and keeps those with `centre − sigmaLower·std ≤ x ≤ centre + sigmaUpper·std`. It stops
    /// when an iteration rejects nothing or after `maxIters` iterations (`nil` or `≤ 0`: until
    /// it converges, as astropy's `maxiters=None`). NaN, ±∞ and masked values are left out
    /// first. With no usable values everything is NaN and `count` and `iterations` are 0.
    ///
    /// Unlike astropy, an explicit `sigmaLower: 0` or `sigmaUpper: 0` is honoured (astropy's
    /// `sigma_lower or sigma` silently turns 0 into `sigma`).
    ///
    /// The work is one pass over the data, which builds per-bucket counts and sums of the
    /// radix keys (see `Selection.swift`) and looks inside the buckets that clipping a strided
    /// subsample says the medians and bounds will fall in. Every iteration then answers "how
    /// many values lie between the bounds, what are their mean, std and median" from those
    /// arrays, going back to the data only for a bucket the guess missed (typically 0–2 more
    /// passes in all).
    /// - Complexity: O(n) per pass, a handful of passes; O(65536) per iteration otherwise.
    public static func sigmaClipped(_ values: UnsafeBufferPointer<Float>,
                                    mask: UnsafeBufferPointer<UInt8>? = nil,
                                    sigma: Double = 3, sigmaLower: Double? = nil,
                                    sigmaUpper: Double? = nil, maxIters: Int? = 5,
                                    centre: ClipCentre = .median) -> ClippedStats {
        let sample = SampleHandle(values, mask: mask)
        let sl = sigmaLower ?? sigma, su = sigmaUpper ?? sigma
        let limit = maxIters.map { $0 > 0 ? $0 : Int.max } ?? Int.max
        let preview = Guess.preview(sample)
        if let core = ClipCore.forSigmaClip(sample, preview: preview, sigmaLower: sl, sigmaUpper: su, maxIters: limit, centre: centre),
           let clipped = sigmaClipped(core, sigmaLower: sl, sigmaUpper: su, maxIters: limit, centre: centre) {
            return clipped
        }
        let guesses = Guess.sigmaClip(preview, sigmaLower: sl, sigmaUpper: su,
                                      maxIters: limit, centre: centre)
        let index = RadixIndex(sample, withSums: true, speculative: guesses)
        return sigmaClipped(index, sigmaLower: sl, sigmaUpper: su, maxIters: limit, centre: centre)
    }

    /// The same clipping from a core and its tails (`ClipCore`); nil when an iteration's
    /// bounds cut into the core (the caller then starts again over the data).
    static func sigmaClipped(_ core: ClipCore, sigmaLower sl: Double, sigmaUpper su: Double,
                             maxIters: Int, centre: ClipCentre) -> ClippedStats? {
        // The values kept are those in [low, high]: at first every finite one.
        var low = -Float.greatestFiniteMagnitude, high = Float.greatestFiniteMagnitude
        guard var kept = core.moments(lower: low, upper: high) else { return nil }
        var iterations = 0
        var lower = Double.nan, upper = Double.nan
        while iterations < maxIters {
            iterations += 1
            let std = (kept.m2 / Double(kept.n)).squareRoot()
            let c: Double
            switch centre {
            case .mean: c = kept.mean
            case .median:
                guard let m = core.median(lower: low, upper: high, count: kept.n) else { return nil }
                c = m
            }
            lower = c - sl * std
            upper = c + su * std
            // The bounds as Floats admitting the same values, intersected with those kept.
            guard let (l, h) = floatBounds(lower, upper), let next = core.moments(lower: Swift.max(low, l), upper: Swift.min(high, h))
            else { return nil }
            (low, high) = (Swift.max(low, l), Swift.min(high, h))
            let changed = kept.n - next.n
            kept = next
            if changed == 0 { break }
        }
        guard let med = core.median(lower: low, upper: high, count: kept.n) else { return nil }
        return ClippedStats(mean: kept.mean, median: med, std: (kept.m2 / Double(kept.n)).squareRoot(), count: kept.n,
                            iterations: iterations, lower: lower, upper: upper)
    }

    static func sigmaClipped(_ index: RadixIndex, sigmaLower sl: Double, sigmaUpper su: Double,
                             maxIters: Int, centre: ClipCentre) -> ClippedStats {
        var kept = KeyRange.finite          // values kept = finite values with keys in here
        var size = index.total
        guard size > 0 else {
            return ClippedStats(mean: .nan, median: .nan, std: .nan, count: 0, iterations: 0,
                                lower: .nan, upper: .nan)
        }
        var iterations = 0
        var lower = Double.nan, upper = Double.nan
        while iterations < maxIters {
            iterations += 1
            if size == 0 {
                // astropy: the centre of nothing is NaN, so are the bounds, and nothing changes.
                lower = .nan; upper = .nan
                break
            }
            if iterations < maxIters && size >= 1 << 16 { index.gatherOnNextPass(laterZones(index, kept, size)) }
            let (_, mean, variance) = index.moments(in: kept, reference: middleReference(index, kept, size))
            let std = variance.squareRoot()
            let c: Double
            switch centre {
            case .mean:
                c = mean
            case .median:
                // While the median's bucket is refined, also refine the buckets the new bounds
                // can fall in, whatever the exact median inside that bucket turns out to be.
                let (b1, _) = index.locate(rank: (size - 1) / 2, in: kept)
                let (b2, _) = index.locate(rank: size / 2, in: kept)
                let lowC = RadixIndex.valueSpan(ofBucket: b1).0, highC = RadixIndex.valueSpan(ofBucket: b2).1
                let guess = candidateBuckets(lowC - sl * std, highC - sl * std, within: kept)
                    + candidateBuckets(lowC + su * std, highC + su * std, within: kept)
                c = median(of: index, in: kept, speculative: guess)
            }
            lower = c - sl * std
            upper = c + su * std
            kept = kept.intersection(SortKey.range(lower, upper))
            index.refine(index.cutBuckets(kept))
            let newSize = index.count(kept)
            let changed = size - newSize
            size = newSize
            if changed == 0 { break }
        }
        guard size > 0 else {
            return ClippedStats(mean: .nan, median: .nan, std: .nan, count: 0, iterations: iterations,
                                lower: lower, upper: upper)
        }
        let med = median(of: index, in: kept)
        let (_, mean, variance) = index.moments(in: kept, reference: med)
        return ClippedStats(mean: mean, median: med, std: variance.squareRoot(), count: size,
                            iterations: iterations, lower: lower, upper: upper)
    }

    /// A value near the median of the kept values: the reference of the bucket holding the
    /// middle rank (cut buckets of `kept` are refined, so `locate` works without a pass).
    /// Sums about it lose little to cancellation however far outliers pull the mean, because
    /// |mean − median| ≤ σ and the reference is within one bucket width w (2⁻⁷ of the value)
    /// of the median: the variance's relative error is about ε·(1 + (1 + w/σ)²), below 1e-12
    /// unless σ is under about a thousand float ulps of the data's level.
    private static func middleReference(_ index: RadixIndex, _ kept: KeyRange, _ size: Int) -> Double {
        let (b, _) = index.locate(rank: size / 2, in: kept)
        return SortKey.bucketReference[b]
    }

    /// Where later iterations' medians and bounds usually fall, as bucket ranges: the outer
    /// 10 % of the kept values on each side (the bounds move inward as σ shrinks) and the middle
    /// 12 % (the median drifts as a tail is cut). On a drizzled weight plane, whose clipping
    /// creeps for all five iterations, the bounds' and medians' ranks all stayed inside the
    /// zones planned at the first; each refinement there scans a third of the data, not all.
    private static func laterZones(_ index: RadixIndex, _ kept: KeyRange, _ size: Int) -> [ClosedRange<Int>] {
        func bucket(_ f: Double) -> Int { index.locate(rank: min(size - 1, Int(f * Double(size))), in: kept).bucket }
        return [bucket(0)...bucket(0.10), bucket(0.44)...bucket(0.56), bucket(0.90)...bucket(1)]
    }

    /// The buckets (at most four) that a bound somewhere in `[a, b]` would cut, inside `within`.
    private static func candidateBuckets(_ a: Double, _ b: Double, within: KeyRange) -> [Int] {
        let r = SortKey.range(a, b).intersection(within)
        guard !r.isEmpty, r.lastBucket - r.firstBucket < 4 else { return [] }
        return Array(r.firstBucket...r.lastBucket)
    }
}
