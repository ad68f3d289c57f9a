// Clipping's passes over a large sample, folded into about one. Each clipping iteration needs
// the moments (and for a median centre, the median) of the values between two bounds, and on
// real data the bounds of every iteration hold a common core: the middle of the distribution,
// which clipping only ever trims at its edges. The core's sums are taken once (about its
// middle, so that sums over parts add up with nothing lost to the data's distance from zero),
// and the values outside it (the tails: a few percent) are copied out; an iteration whose
// bounds hold the core then adds the sums of the tail values between its bounds, and finds a
// middle rank in the core's counts per bin and one pass for the values of its bin.
// The core comes from clipping a strided subsample first; an iteration whose bounds cut into
// it (a prediction gone wrong) is measured without it, so the clipped sample is always exact.

/// The core and tails of a sample for clipping (`Statistics.imstat`, `Statistics.sigmaClipped`).
final class ClipCore {
    let sample: SampleHandle
    /// The core's bounds: every usable value x with `low ≤ x ≤ high` is in the core.
    let low: Float, high: Float
    /// The core's sums about `centre` (the middle of the bounds), and its moments.
    let centre: Float
    let sums: ShiftedSums
    let core: Statistics.Moments
    /// The usable values outside the core and within the limits it was made with.
    let tails: [Float]
    /// The core's values counted in bins, for ranks; made on the first request.
    private var binned: RangeRanks.Histogram??

    /// Samples below this size are clipped pass by pass (a subsample would be most of them).
    static let minCount = 1 << 17

    /// The core `[a, b]` of the usable values of `s` within `[lower, upper]`, with its tails;
    /// nil when the core lies outside those limits or holds no value.
    init?(_ s: SampleHandle, lower: Float, upper: Float, core a: Float, _ b: Float) {
        guard a <= b, a >= lower, b <= upper else { return nil }
        let centre = a / 2 + b / 2
        let sums = Statistics.sums(s, lower: a, upper: b, about: centre)
        guard sums.n > 0 else { return nil }
        sample = s
        low = a
        high = b
        self.centre = centre
        self.sums = sums
        core = sums.moments(about: centre)
        tails = ClipCore.tails(s, core: (a, b), limits: (lower, upper))
    }

    /// For `imstat`'s clipping with `nclip`, `lsigma` and `usigma` within `[lower, upper]`:
    /// the core is two thirds of the narrower bound of the last iteration on a strided
    /// subsample of about 32 Ki values, about its mean (clipping at 4σ: ±2.67σ, where the
    /// Gaussian leaves 0.8 % outside). Nil for small samples and clipping at under 1.5σ.
    static func forIMStat(_ s: SampleHandle, lower: Float, upper: Float, nclip: Int, lsigma: Double, usigma: Double) -> ClipCore? {
        guard s.count >= minCount, nclip > 0, min(lsigma, usigma) >= 1.5, let v = s.values else { return nil }
        let stride = s.count / (1 << 15)
        var picked: [Float] = []
        picked.reserveCapacity(s.count / stride + 1)
        for i in Swift.stride(from: 0, to: s.count, by: stride) where s.mask == nil || s.mask![i] == 0 {
            let x = v[i]
            if x >= lower && x <= upper { picked.append(x) }
        }
        guard let guess = picked.withUnsafeBufferPointer({ p in
            Statistics.clip({ lo, hi in
                guard let (l, h) = Statistics.floatBounds(lo, hi) else { return nil }
                return Statistics.moments(SampleHandle(p, mask: nil), lower: l, upper: h)
            }, Double(lower), Double(upper), nclip, lsigma, usigma)
        }), guess.n > 1 else { return nil }
        let sd = (guess.m2 / Double(guess.n - 1)).squareRoot(), half = 2.0 / 3 * min(lsigma, usigma) * sd
        guard sd > 0, sd.isFinite, let (a, b) = Statistics.floatBounds(guess.mean - half, guess.mean + half) else { return nil }
        return ClipCore(s, lower: lower, upper: upper, core: a, b)
    }

    /// For `sigmaClipped` over the finite values: the same, from the clipping of the sorted
    /// `preview` (`Guess.preview`), about its last centre.
    static func forSigmaClip(_ s: SampleHandle, preview p: [Double], sigmaLower sl: Double, sigmaUpper su: Double,
                             maxIters: Int, centre: ClipCentre) -> ClipCore? {
        guard s.count >= minCount, min(sl, su) >= 1.5, !p.isEmpty else { return nil }
        var kept = p[...]
        var c = 0.0, std = 0.0
        for _ in 0..<Swift.min(maxIters, 10) {
            let n = Double(kept.count)
            let mean = kept.reduce(0, +) / n
            std = (kept.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n).squareRoot()
            c = centre == .median ? (kept[kept.startIndex + (kept.count - 1) / 2] + kept[kept.startIndex + kept.count / 2]) / 2 : mean
            let first = kept.firstIndex { $0 >= c - sl * std } ?? kept.endIndex
            let last = kept.lastIndex { $0 <= c + su * std }.map { $0 + 1 } ?? first
            guard last - first < kept.count, last > first else { break }
            kept = kept[first..<last]
        }
        let half = 2.0 / 3 * min(sl, su) * std
        guard std > 0, std.isFinite, let (a, b) = Statistics.floatBounds(c - half, c + half) else { return nil }
        return ClipCore(s, lower: -.greatestFiniteMagnitude, upper: .greatestFiniteMagnitude, core: a, b)
    }

    /// Whether the usable values in `[lower, upper]` are the core's and some tails: whether
    /// the bounds hold the core's extremes.
    private func holdsCore(_ lower: Float, _ upper: Float) -> Bool { lower <= core.min && upper >= core.max }

    /// The values of 0-based ranks `ranks.0 ≤ ranks.1` among the usable values in `[lower,
    /// upper]`; nil when those bounds do not hold the core. Ranks in the core take one pass over
    /// the sample (the core's counts per bin one more, the first time); one in the tails, a
    /// sort of the tails on its side.
    func values(ranks: (Int, Int), lower: Float, upper: Float) -> (Float, Float)? {
        guard holdsCore(lower, upper) else { return nil }
        let below = tails.reduce(0) { $0 + ($1 >= lower && $1 < low ? 1 : 0) }
        let inCore = (below..<(below + core.n))
        func tail(_ rank: Int) -> Float {
            rank < below ? tails.filter { $0 >= lower && $0 < low }.sorted()[rank]
                : tails.filter { $0 > high && $0 <= upper }.sorted()[rank - below - core.n]
        }
        func inCoreRanks(_ a: Int, _ b: Int) -> (Float, Float) {
            if core.min == core.max { return (core.min, core.min) }
            if binned == nil { binned = RangeRanks.Histogram(sample, low: core.min, high: core.max) }
            guard let h = binned! else { return RangeRanks.values(sample, low: core.min, high: core.max, ranks: (a, b)) }
            return h.values(ranks: (a, b))
        }
        switch (inCore.contains(ranks.0), inCore.contains(ranks.1)) {
        case (true, true): return inCoreRanks(ranks.0 - below, ranks.1 - below)
        case (true, false): return (inCoreRanks(ranks.0 - below, ranks.0 - below).0, tail(ranks.1))
        case (false, true): return (tail(ranks.0), inCoreRanks(ranks.1 - below, ranks.1 - below).0)
        case (false, false): return (tail(ranks.0), tail(ranks.1))
        }
    }

    /// numpy's median of the usable values in `[lower, upper]` (`count` of them, > 0); nil
    /// when the bounds do not hold the core.
    func median(lower: Float, upper: Float, count n: Int) -> Double? {
        values(ranks: ((n - 1) / 2, n / 2), lower: lower, upper: upper).map { (Double($0.0) + Double($0.1)) / 2 }
    }

    /// The moments of the usable values in `[lower, upper]`, from the core and tails; nil when
    /// those bounds do not hold the core.
    func moments(lower: Float, upper: Float) -> Statistics.Moments? {
        guard holdsCore(lower, upper) else { return nil }
        let outside = tails.withUnsafeBufferPointer { Statistics.sums(SampleHandle($0, mask: nil), lower: lower, upper: upper, about: centre) }
        return (sums + outside).moments(about: centre)
    }

    /// The usable values of `s` within `limits` and outside `core`, eight values a step (the
    /// copy only where one of the eight is a tail value), chunks across the workers.
    /// (Each chunk's buffer has room for all of it: pages never written are never touched.)
    private static func tails(_ s: SampleHandle, core: (Float, Float), limits: (Float, Float)) -> [Float] {
        let parts = s.perWorker { r -> [Float] in
            [Float](unsafeUninitializedCapacity: r.count) { out, kept in
                let a = SIMD8<Float>(repeating: core.0), b = SIMD8<Float>(repeating: core.1)
                let lo = SIMD8<Float>(repeating: limits.0), hi = SIMD8<Float>(repeating: limits.1)
                var n = 0
                var i = r.lowerBound
                while i &+ 8 <= r.upperBound {
                    let x = UnsafeRawPointer(s.values! + i).loadUnaligned(as: SIMD8<Float>.self)
                    // Outside the core, inside the limits (NaN is neither).
                    let hit = unsafeBitCast(((x .< a) .| (x .> b)) .& (x .>= lo) .& (x .<= hi), to: SIMD8<Int32>.self)
                        & s.unmaskedLanes(at: i)
                    if hit != SIMD8<Int32>() {
                        // Each lane written, the next place taken only by a tail value.
                        for k in 0..<8 { out[n] = x[k]; n &+= Int(hit[k] & 1) }
                    }
                    i &+= 8
                }
                while i < r.upperBound {
                    let x = s.values![i]
                    if (x < core.0 || x > core.1) && x >= limits.0 && x <= limits.1 && (s.mask == nil || s.mask![i] == 0) {
                        out[n] = x
                        n &+= 1
                    }
                    i &+= 1
                }
                kept = n
            }
        }
        return parts.count == 1 ? parts[0] : parts.flatMap { $0 }
    }
}
