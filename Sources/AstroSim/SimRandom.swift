/// The simulator's random numbers: xoshiro256** (Blackman & Vigna 2018) seeded through
/// SplitMix64, with its own Gaussian and Poisson samplers built on `DetMath`.
///
/// Why our own generator: `SystemRandomNumberGenerator` cannot be seeded and the standard
/// library's distributions are not specified bit for bit. Every frame and every row gets its
/// own generator from `SimRandom.derive(seed, keys…)`, so results do not depend on the order
/// in which threads run, nor on how many there are.
public struct SimRandom: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64
    private var spare = 0.0
    private var hasSpare = false

    /// A generator whose 256-bit state is filled by SplitMix64 from `seed`.
    public init(seed: UInt64) {
        var sm = seed
        s0 = SimRandom.splitMix(&sm)
        s1 = SimRandom.splitMix(&sm)
        s2 = SimRandom.splitMix(&sm)
        s3 = SimRandom.splitMix(&sm)
        if s0 | s1 | s2 | s3 == 0 { s0 = 1 }   // the all-zero state is the one fixed point
    }

    /// A generator for one sub-stream, e.g. `SimRandom(seed, Stream.frame, frameIndex, row)`.
    public init(_ seed: UInt64, _ keys: UInt64...) {
        self.init(seed: SimRandom.derive(seed, keys))
    }

    /// A sub-seed that depends on every key and on their order (SplitMix64 finaliser chain).
    public static func derive(_ seed: UInt64, _ keys: [UInt64]) -> UInt64 {
        var h = mix(seed &+ 0x9E37_79B9_7F4A_7C15)
        for k in keys { h = mix(h ^ mix(k &+ 0xD1B5_4A32_D192_ED03)) }
        return h
    }

    public static func derive(_ seed: UInt64, _ keys: UInt64...) -> UInt64 { derive(seed, keys) }

    @inline(__always)
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always)
    private static func splitMix(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return mix(state)
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// Uniform in [0, 1), 53 random bits.
    @inline(__always)
    public mutating func uniform() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// Uniform in (0, 1): never 0, so its logarithm is finite.
    @inline(__always)
    public mutating func uniformOpen() -> Double {
        (Double(next() >> 11) + 0.5) * 0x1p-53
    }

    /// Uniform in [a, b).
    @inline(__always)
    public mutating func uniform(_ a: Double, _ b: Double) -> Double {
        a + (b - a) * uniform()
    }

    /// Uniform integer in 0..<n (n > 0), by Lemire's multiply-shift (slightly biased for
    /// huge n, irrelevant here, and deterministic).
    @inline(__always)
    public mutating func index(_ n: Int) -> Int {
        Int(next().multipliedFullWidth(by: UInt64(n)).high)
    }

    /// A standard normal deviate by Marsaglia's polar method (pairs; the second is kept).
    @inline(__always)
    public mutating func gaussian() -> Double {
        if hasSpare { hasSpare = false; return spare }
        var u = 0.0, v = 0.0, s = 0.0
        repeat {
            u = 2 * uniform() - 1
            v = 2 * uniform() - 1
            s = u * u + v * v
        } while s >= 1 || s == 0
        let f = (-2 * DetMath.log(s) / s).squareRoot()
        spare = v * f
        hasSpare = true
        return u * f
    }

    /// An exact Poisson deviate with mean `lambda`, as a Double. λ ≤ 0 (or NaN) gives 0.
    ///
    /// λ < 10: inversion by sequential search (one uniform, one exp). λ ≥ 10: Hörmann's PTRS
    /// transformed rejection with squeeze ("The transformed rejection method for generating
    /// Poisson random variables", 1993), which needs about 1.2 uniform pairs per draw at any λ.
    @inline(__always)
    public mutating func poisson(_ lambda: Double) -> Double {
        if !(lambda > 0) { return 0 }
        if lambda < 10 {
            let u = uniform()
            var p = DetMath.exp(-lambda)
            var cdf = p
            var k = 0.0
            while u > cdf && k < 200 {
                k += 1
                p *= lambda / k
                cdf += p
                if p == 0 { break }
            }
            return k
        }
        return poissonPTRS(lambda)
    }

    private mutating func poissonPTRS(_ lambda: Double) -> Double {
        let slam = lambda.squareRoot()
        let b = 0.931 + 2.53 * slam
        let a = -0.059 + 0.02483 * b
        let vr = 0.9277 - 3.6224 / (b - 2)
        // The logarithms are needed only after the squeeze fails (about 1 draw in 7).
        var loglam = 0.0, logInvAlpha = 0.0, haveLogs = false
        while true {
            let u = uniform() - 0.5
            let v = uniform()
            let us = 0.5 - abs(u)
            let k = ((2 * a / us + b) * u + lambda + 0.43).rounded(.down)
            if us >= 0.07 && v <= vr { return k }
            if k < 0 || (us < 0.013 && v > us) { continue }
            if v == 0 { continue }
            if !haveLogs {
                loglam = DetMath.log(lambda)
                logInvAlpha = DetMath.log(1.1239 + 1.1328 / (b - 3.4))
                haveLogs = true
            }
            let lhs = DetMath.log(v) + logInvAlpha - DetMath.log(a / (us * us) + b)
            let rhs = -lambda + k * loglam - DetMath.logFactorial(k)
            if lhs <= rhs { return k }
        }
    }
}

/// Sub-stream tags: each consumer of random numbers draws from its own stream, so adding a
/// feature (say, more cosmic rays) never shifts the numbers another feature sees.
enum Stream: UInt64 {
    case noise = 1, catalogue, galaxy, detector, pointing, frame, cosmicRays, sky, lamp, pointingError, refcat
}
