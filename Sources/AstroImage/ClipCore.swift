// Clipping's passes over a large sample, folded into about one. Each clipping iteration needs
// the moments of the values between two bounds, and on real data the bounds of every iteration
// hold a common core: the middle of the distribution, which clipping only ever trims at its
// edges. The core's moments are taken once, and the values outside it (the tails: a few
// percent) are copied out; an iteration whose bounds hold the core then merges the core's
// moments with those of the tail values between its bounds. The core comes from clipping a
// strided subsample first; an iteration whose bounds cut into it (a prediction gone wrong)
// makes its own pass over the data, so the clipped sample is always exact.

/// The core and tails of a sample for `Statistics.imstat`'s clipping.
struct ClipCore {
    /// The core's bounds: every usable value x with `low ≤ x ≤ high` is in the core.
    let low: Float, high: Float
    /// The core's moments (count, mean, M2, extremes).
    let core: Statistics.Moments
    /// The usable values outside the core and within the limits it was made with.
    let tails: [Float]

    /// Samples below this size are clipped pass by pass (a subsample would be most of them).
    static let minCount = 1 << 17
    /// The subsample's size, about.
    static let subsample = 1 << 15
    /// The core's half-width in the subsample's clipped σ: well inside the final bounds of
    /// clipping at 3σ or more, so that only a strange sample makes an iteration cut into it.
    static let halfWidth = 2.5

    /// The core and tails of the unmasked values of `s` within `[lower, upper]`, for clipping
    /// with `nclip`, `lsigma` and `usigma`; nil for a small sample, for clipping at less than
    /// `halfWidth` σ, and when the subsample leaves no core (no values, σ zero).
    init?(_ s: SampleHandle, lower: Float, upper: Float, nclip: Int, lsigma: Double, usigma: Double) {
        guard s.count >= ClipCore.minCount, nclip > 0, min(lsigma, usigma) > ClipCore.halfWidth, let v = s.values else { return nil }
        let stride = s.count / ClipCore.subsample
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
        let sd = (guess.m2 / Double(guess.n - 1)).squareRoot()
        guard sd > 0, sd.isFinite,
              let (a, b) = Statistics.floatBounds(guess.mean - ClipCore.halfWidth * sd, guess.mean + ClipCore.halfWidth * sd),
              a >= lower, b <= upper else { return nil }
        low = a
        high = b
        core = Statistics.moments(s, lower: a, upper: b)
        tails = ClipCore.tails(s, core: (a, b), limits: (lower, upper))
    }

    /// The moments of the usable values in `[lower, upper]`, from the core and tails; nil when
    /// those bounds do not hold the core.
    func moments(lower: Float, upper: Float) -> Statistics.Moments? {
        guard lower <= low, upper >= high else { return nil }
        var total = core
        tails.withUnsafeBufferPointer { total.merge(Statistics.moments(SampleHandle($0, mask: nil), lower: lower, upper: upper)) }
        return total
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
