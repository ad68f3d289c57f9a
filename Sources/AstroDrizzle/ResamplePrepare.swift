import AstroImage

extension Resample {
    typealias Lanes = SIMD8<Float>

    /// `prepare`'s weights before the DQ and finiteness tests: a constant, 1/v of a plane, or
    /// 1/v² (0 where that is not a finite positive number, or v ≤ 0).
    enum VectorWeights {
        case constant(Float)
        case inverse(SendableBuffer<Float>)
        case inverseSquare(SendableBuffer<Float>)
    }

    /// `prepare`'s row loop eight pixels at a time for a level sky, over the row of `width` pixels starting at `row`; returns where it stopped (a
    /// multiple of 8, or the first step holding a DQ value that is not an integer below 2²³,
    /// which the scalar loop then takes with the rest). Lane for lane the scalar loop's
    /// arithmetic: d = 0 and w = 0 where d is not finite, w = 0 where ERR is not finite or a DQ
    /// bit is bad; d − sky, then ÷ t.
    @inline(__always)
    static func vectorRow(_ row: Int, _ width: Int, weights: VectorWeights, sky: Float?, exptime: Float?, good: GoodBits,
                          _ d: SendableBuffer<Float>, _ e: SendableBuffer<Float>?, _ q: SendableBuffer<Float>?,
                          _ outD: SendableMutableBuffer<Float>, _ outW: SendableMutableBuffer<Float>,
                          _ outB: SendableMutableBuffer<UInt32>?) -> Int {
        @inline(__always) func load(_ p: UnsafePointer<Float>, _ k: Int) -> Lanes {
            UnsafeRawPointer(p + k).loadUnaligned(as: Lanes.self)
        }
        @inline(__always) func finite(_ v: Lanes) -> SIMDMask<SIMD8<Int32>> { v - v .== Lanes() }
        let zero = Lanes(), one = Lanes(repeating: 1), two23 = Lanes(repeating: 8_388_608)
        /// 1/v where v > 0 and 1/v is finite, else 0 (`prepare`'s `inverse`).
        @inline(__always) func inverse(_ v: Lanes) -> Lanes {
            let r = one / v
            return zero.replacing(with: r, where: (v .> zero) .& finite(r))
        }
        let badBits = SIMD8<UInt32>(repeating: UInt32(truncatingIfNeeded: ~good.good))
        var x = 0
        while x + 8 <= width {
            let k = row + x
            var keep = SIMDMask<SIMD8<Int32>>(repeating: true)
            if let q, let outB {
                // Integers in [0, 2²³): v + 2²³ holds v in its low mantissa bits exactly.
                let v = load(q.base, k)
                guard all((v .>= zero) .& (v .< two23)), all((v + two23) - two23 .== v) else { break }
                let bits = unsafeBitCast(v + two23, to: SIMD8<UInt32>.self) & 0x7F_FFFF
                UnsafeMutableRawPointer(outB.base + k).storeBytes(of: bits, as: SIMD8<UInt32>.self)
                keep .&= (bits & badBits) .== SIMD8<UInt32>()
            }
            var dv = load(d.base, k)
            let dataFinite = finite(dv)
            keep .&= dataFinite
            dv.replace(with: zero, where: .!dataFinite)
            if let e { keep .&= finite(load(e.base, k)) }
            if let sky { dv -= Lanes(repeating: sky) }
            if let exptime { dv /= Lanes(repeating: exptime) }
            UnsafeMutableRawPointer(outD.base + k).storeBytes(of: dv, as: Lanes.self)
            let w: Lanes = switch weights {
            case .constant(let c): Lanes(repeating: c)
            case .inverse(let s): inverse(load(s.base, k))
            case .inverseSquare(let s):
                { v in zero.replacing(with: inverse(v * v), where: v .> zero) }(load(s.base, k))
            }
            UnsafeMutableRawPointer(outW.base + k).storeBytes(of: zero.replacing(with: w, where: keep), as: Lanes.self)
            x += 8
        }
        return x
    }
}
