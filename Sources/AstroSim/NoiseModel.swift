import AstroImage

/// astropysics' noise models (`PoissonNoise`, `GaussianNoise`, `UniformNoise`, `CCDNoise`),
/// with their intent implemented rather than their bugs: CCD noise draws Poisson in electrons
/// (d·gain, then back to ADU) and the fractional uniform variance scales with d².
///
/// `apply` returns data + noise, clamped to `floor`/`ceiling`; `variance` is the analytic
/// variance of the unclamped draw. Both are per pixel and NaN-preserving.
public struct NoiseModel: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Poisson(d); variance d. Negative d is treated as 0 (no counts, variance 0).
        case poisson
        /// d + N(0, σ); variance σ².
        case gaussian(sigma: Double)
        /// d + U(lower, upper), bounds × d when `fractional`; variance (upper − lower)²/12,
        /// × d² when fractional.
        case uniform(lower: Double, upper: Double, fractional: Bool)
        /// Poisson(d·g)/g + N(0, rn/g) + N(0, s·d), with gain g [e⁻/ADU], read noise rn [e⁻]
        /// and s the fractional "sensitivity noise"; variance (rn/g)² + d/g + (s·d)² in ADU²,
        /// the IRAF ccdclip model. Negative d gives no Poisson term.
        case ccd(gain: Double, readNoise: Double, sNoise: Double)
    }

    public var kind: Kind
    /// Results below are raised to this value (nil: no floor).
    public var floor: Double?
    /// Results above are lowered to this value (nil: no ceiling).
    public var ceiling: Double?

    /// - Throws: `AstroError(.usage)` for a negative σ, read noise or snoise, a gain ≤ 0,
    ///   upper < lower, floor > ceiling, or a non-finite parameter.
    public init(_ kind: Kind, floor: Double? = nil, ceiling: Double? = nil) throws {
        func bad(_ reason: String) -> AstroError { AstroError(.usage, operation: "noise model", reason: reason) }
        switch kind {
        case .poisson: break
        case .gaussian(let sigma):
            guard sigma.isFinite, sigma >= 0 else { throw bad("--sigma must be a finite value ≥ 0 (got \(sigma))") }
        case .uniform(let lower, let upper, _):
            guard lower.isFinite, upper.isFinite else { throw bad("--lower and --upper must be finite") }
            guard upper >= lower else { throw bad("--upper (\(upper)) must not be below --lower (\(lower))") }
        case .ccd(let gain, let rn, let s):
            guard gain.isFinite, gain > 0 else { throw bad("--gain must be > 0 e-/ADU (got \(gain))") }
            guard rn.isFinite, rn >= 0 else { throw bad("--readnoise must be ≥ 0 e- (got \(rn))") }
            guard s.isFinite, s >= 0 else { throw bad("--snoise must be ≥ 0 (got \(s))") }
        }
        if let floor, !floor.isFinite { throw bad("--floor must be finite") }
        if let ceiling, !ceiling.isFinite { throw bad("--ceiling must be finite") }
        if let floor, let ceiling, floor > ceiling {
            throw bad("--floor (\(floor)) must not be above --ceiling (\(ceiling))")
        }
        self.kind = kind
        self.floor = floor
        self.ceiling = ceiling
    }

    /// One noisy value for a true value `d`, before clamping.
    @inline(__always)
    func draw(_ d: Double, _ rng: inout SimRandom) -> Double {
        switch kind {
        case .poisson:
            return rng.poisson(d)
        case .gaussian(let sigma):
            return d + sigma * rng.gaussian()
        case .uniform(let lower, let upper, let fractional):
            let u = rng.uniform()
            return fractional ? d + d * (lower + (upper - lower) * u) : d + lower + (upper - lower) * u
        case .ccd(let gain, let rn, let s):
            var v = rng.poisson(d * gain) / gain
            if rn > 0 { v += rn / gain * rng.gaussian() }
            if s > 0 { v += s * abs(d) * rng.gaussian() }
            return v
        }
    }

    /// The analytic variance for a true value `d` (NaN stays NaN).
    @inline(__always)
    public func variance(_ d: Double) -> Double {
        if d.isNaN { return .nan }
        switch kind {
        case .poisson:
            return max(d, 0)
        case .gaussian(let sigma):
            return sigma * sigma
        case .uniform(let lower, let upper, let fractional):
            let w = upper - lower
            return fractional ? w * w / 12 * d * d : w * w / 12
        case .ccd(let gain, let rn, let s):
            let r = rn / gain
            return r * r + max(d, 0) / gain + (s * d) * (s * d)
        }
    }

    /// Data + noise for every pixel of a `width`-wide row-major array, clamped to
    /// floor/ceiling. Row y draws from `SimRandom(seed, noise, y)`, so the result is the same
    /// for any thread count. NaN pixels stay NaN.
    public func apply(to pixels: [Float], width: Int, seed: UInt64) -> [Float] {
        precondition(width > 0 && pixels.count % width == 0, "NoiseModel.apply: pixel count is not a multiple of the width")
        let rows = pixels.count / width
        var out = [Float](repeating: 0, count: pixels.count)
        let lo = floor ?? -.infinity, hi = ceiling ?? .infinity
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                let input = SendableBuffer(src), output = SendableMutableBuffer(dst)
                Parallel.forEachBlock(count: rows, minBlock: 8) { block in
                    for y in block {
                        var rng = SimRandom(seed, Stream.noise.rawValue, UInt64(y))
                        let base = y * width
                        for x in 0..<width {
                            let d = Double(input[base + x])
                            if d.isNaN { output[base + x] = .nan; continue }
                            let v = draw(d, &rng)
                            output[base + x] = Float(min(max(v, lo), hi))
                        }
                    }
                }
            }
        }
        return out
    }

    /// The model's variance for every pixel.
    public func variance(of pixels: [Float]) -> [Float] {
        pixels.map { Float(variance(Double($0))) }
    }

    /// A short description for HISTORY and messages, e.g. `ccd gain=1.5 readnoise=5 snoise=0`.
    public var summary: String {
        var s: String
        switch kind {
        case .poisson: s = "poisson"
        case .gaussian(let sigma): s = "gaussian sigma=\(sigma)"
        case .uniform(let l, let u, let f): s = "uniform lower=\(l) upper=\(u)" + (f ? " frac" : "")
        case .ccd(let g, let rn, let sn): s = "ccd gain=\(g) readnoise=\(rn) snoise=\(sn)"
        }
        if let floor { s += " floor=\(floor)" }
        if let ceiling { s += " ceiling=\(ceiling)" }
        return s
    }
}
