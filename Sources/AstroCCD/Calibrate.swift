import AstroImage

/// The per-pixel arithmetic of CCD calibration with ccdproc's propagation rules (docs/ccdproc.md §3):
/// σ added in quadrature for sums, the first-order rule for quotients, masks OR-ed, a missing σ
/// counting as zero. Values are computed in Double and stored as Float32.
public enum Calibrate {
    /// Four pixels in Double lanes (`DoubleLanes.swift`): the vector loops below compute what
    /// their scalar tails do.
    typealias D4 = SIMD4<Double>

    /// What to do where the Poisson term g·D is negative (pixels below the bias level).
    public enum Negative: String, Sendable, CaseIterable {
        /// σ = R/g there (astrotool's default: a finite σ that later steps can use).
        case clamp
        /// σ = NaN there, as ccdproc's `create_deviation` (what `ccd_process` always does).
        case nan
    }

    /// Replaces the uncertainty with σ = √(g·D + R²)/g in the data's unit; returns how many pixels
    /// had g·D < 0. `gain` in e⁻ per data unit, `readNoise` in e⁻.
    @discardableResult
    public static func deviation(_ image: inout Image, gain: Double, readNoise: Double, negative: Negative) -> Int {
        var sigma = [Float](repeating: 0, count: image.count)
        let r2 = readNoise * readNoise
        let negatives = image.pixels.withUnsafeBufferPointer { px in
            sigma.withUnsafeMutableBufferPointer { sg in
                let src = SendableBuffer(px), dst = SendableMutableBuffer(sg)
                let toNaN = negative == .nan
                return Parallel.mapBlocks(count: px.count, minBlock: 1 << 16) { block in
                    // Four pixels a step in Double lanes (LLVM left this loop scalar: a
                    // tenth of a frame's calibration), the rest one by one; the same values.
                    var neg = 0, i = block.lowerBound
                    var below4 = SIMD4<Int64>()
                    let g = D4(repeating: gain), r = D4(repeating: r2), zero = D4()
                    while i + 4 <= block.upperBound {
                        let e = g * D4(floatsAt: src.base + i)
                        let below = e .< zero
                        below4 &+= SIMD4<Int64>().replacing(with: 1, where: below)
                        var sigma = (e.replacing(with: 0, where: below) + r).squareRoot() / g
                        if toNaN { sigma.replace(with: .nan, where: below) }
                        sigma.storeFloats(at: dst.base + i)
                        i += 4
                    }
                    while i < block.upperBound {
                        let e = gain * Double(src.base[i])
                        let below = e < 0
                        neg &+= below ? 1 : 0
                        let sigma = Float(((below ? 0 : e) + r2).squareRoot() / gain)
                        dst.base[i] = below && toNaN ? .nan : sigma
                        i += 1
                    }
                    return neg + Int(below4.wrappedSum())
                }.reduce(0, +)
            }
        }
        image.uncertainty = sigma
        return negatives
    }

    /// Multiplies data and σ by `factor` (gain correction, rate conversion).
    public static func scale(_ image: inout Image, by factor: Double) {
        multiply(&image.pixels, by: factor)
        if image.uncertainty != nil { multiply(&image.uncertainty!, by: abs(factor)) }
    }

    /// `image − factor × master`, σ² = σ² + (factor·σ_m)², masks OR-ed (bias and dark subtraction).
    /// - Precondition: same shape (callers check and report the files).
    public static func subtract(_ image: inout Image, _ master: Image, factor: Double = 1) {
        precondition(image.width == master.width && image.height == master.height)
        master.pixels.withUnsafeBufferPointer { mp in
            let m = SendableBuffer(mp)
            image.pixels.withUnsafeMutableBufferPointer { ip in
                let d = SendableMutableBuffer(ip)
                Parallel.forEachBlock(count: ip.count, minBlock: 1 << 16) { block in
                    for i in block { d.base[i] = Float(Double(d.base[i]) - factor * Double(m.base[i])) }
                }
            }
        }
        if let ms = master.uncertainty {
            if image.uncertainty == nil { image.uncertainty = [Float](repeating: 0, count: image.count) }
            ms.withUnsafeBufferPointer { mp in
                let m = SendableBuffer(mp)
                image.uncertainty!.withUnsafeMutableBufferPointer { ip in
                    let s = SendableMutableBuffer(ip)
                    Parallel.forEachBlock(count: ip.count, minBlock: 1 << 16) { block in
                        for i in block {
                            let a = Double(s.base[i]), b = factor * Double(m.base[i])
                            s.base[i] = Float((a * a + b * b).squareRoot())
                        }
                    }
                }
            }
        }
        orMask(&image, master.mask)
    }

    /// ORs `other` into the image's mask (creating it when needed).
    public static func orMask(_ image: inout Image, _ other: [UInt8]?, bits: UInt8? = nil) {
        guard let other else { return }
        precondition(other.count == image.count, "mask size")
        if image.mask == nil { image.mask = [UInt8](repeating: 0, count: image.count) }
        other.withUnsafeBufferPointer { op in
            image.mask!.withUnsafeMutableBufferPointer { mp in
                let src = SendableBuffer(op), dst = SendableMutableBuffer(mp)
                Parallel.forEachBlock(count: mp.count, minBlock: 1 << 16) { r in
                    if let bits {
                        for i in r where src[i] != 0 { dst.base[i] |= bits }
                    } else {
                        for i in r { dst.base[i] |= src[i] }
                    }
                }
            }
        }
    }

    /// ORs the bad bit into the image's mask where the bad-pixel mask `bpm` has bits that are
    /// not good: its mask plane's, or its pixel values' when it has none (a ccdmask output).
    public static func orBadPixels(_ image: inout Image, _ bpm: Image, goodBits: GoodBits) {
        precondition(bpm.count == image.count, "mask size")
        if image.mask == nil { image.mask = [UInt8](repeating: 0, count: image.count) }
        let bad = MaskBits.bad.rawValue
        image.mask!.withUnsafeMutableBufferPointer { mp in
            let dst = SendableMutableBuffer(mp)
            if let m = bpm.mask {
                m.withUnsafeBufferPointer { bp in
                    let src = SendableBuffer(bp)
                    Parallel.forEachBlock(count: mp.count, minBlock: 1 << 16) { r in
                        for i in r where src[i] != 0 && goodBits.isBad(UInt64(src[i])) { dst.base[i] |= bad }
                    }
                }
            } else {
                // A non-zero value counts as the bad bit itself (1), as a mask plane's would.
                let flagged = goodBits.isBad(UInt64(bad))
                guard flagged else { return }
                bpm.pixels.withUnsafeBufferPointer { bp in
                    let src = SendableBuffer(bp)
                    Parallel.forEachBlock(count: mp.count, minBlock: 1 << 16) { r in
                        for i in r where src[i] != 0 { dst.base[i] |= bad }
                    }
                }
            }
        }
    }

    /// Flat-field options (ccdproc `flat_correct`'s `min_value`, `norm_value`).
    public struct FlatOptions: Sendable, Equatable {
        /// Flat pixels below this are raised to it, before normalisation (ccdproc's order).
        public var minValue: Double?
        /// Divide the flat by this instead of its mean.
        public var normValue: Double?
        /// Normalise by the plain mean of every pixel, masked and non-positive ones included
        /// (ccdproc; one NaN then spoils the whole frame). Otherwise: finite, unmasked, positive ones.
        public var ccdprocMean: Bool
        public init(minValue: Double? = nil, normValue: Double? = nil, ccdprocMean: Bool = false) {
            self.minValue = minValue; self.normValue = normValue; self.ccdprocMean = ccdprocMean
        }
    }

    public struct FlatResult: Sendable, Equatable {
        /// The flat's normalisation constant.
        public var norm: Double
        /// Pixels where the flat was ≤ 0 or not finite: masked `BAD_FLAT`, left unflattened.
        public var badFlat: Int
    }

    /// `image ÷ (flat / norm)` with σ² = σ²/F² + D²·σ_F²/F⁴. Masked flat pixels divide by 1 (ccdproc);
    /// so do pixels where the flat is ≤ 0 or not finite, which are masked `BAD_FLAT` and counted.
    /// - Throws: `.badData` when the flat has no positive finite pixel to normalise by.
    public static func flat(_ image: inout Image, _ flat: Image, options: FlatOptions, file: String? = nil) throws -> FlatResult {
        precondition(image.width == flat.width && image.height == flat.height)
        let n = image.count
        let floor = options.minValue ?? -Double.infinity
        /// ccdproc's min_value: raise low flat pixels (NaN stays NaN).
        @Sendable func clamped(_ v: Float) -> Double { Double(v) < floor ? floor : Double(v) }
        let norm: Double
        if let v = options.normValue {
            norm = v
        } else {
            // In pixel order (the same sum to the last bit), by pointer: with array subscripts
            // the loop was a serial tenth of a frame's calibration.
            let all = options.ccdprocMean, mask = flat.mask ?? []
            let (sum, count) = flat.pixels.withUnsafeBufferPointer { fp in
                mask.withUnsafeBufferPointer { mp -> (Double, Int) in
                    let masked = mp.isEmpty ? nil : mp.baseAddress
                    var sum = 0.0, count = 0
                    for i in 0..<n {
                        let f = clamped(fp[i])
                        if all || (f.isFinite && f > 0 && (masked?[i] ?? 0) == 0) { sum += f; count += 1 }
                    }
                    return (sum, count)
                }
            }
            guard count > 0 else {
                throw AstroError(.badData, file: file, operation: "flat correction",
                                 reason: "the flat has no positive finite unmasked pixel to normalise by")
            }
            norm = sum / Double(count)
        }
        guard norm.isFinite && norm > 0 else {
            throw AstroError(.badData, file: file, operation: "flat correction",
                             reason: "the flat's normalisation \(norm) is not a positive number")
        }
        if image.uncertainty == nil && flat.uncertainty != nil {
            image.uncertainty = [Float](repeating: 0, count: n)
        }
        let hasSigma = image.uncertainty != nil
        var badFlat = [UInt8](repeating: 0, count: n)
        let flatMask = flat.mask
        let sigmaF = flat.uncertainty
        var sigma = image.uncertainty ?? []
        image.uncertainty = nil   // `sigma` alone holds the plane: written in place, not copied first
        let bad = image.pixels.withUnsafeMutableBufferPointer { ip in
            flat.pixels.withUnsafeBufferPointer { fp in
                sigma.withUnsafeMutableBufferPointer { sp in
                    badFlat.withUnsafeMutableBufferPointer { bp in
                        let d = SendableMutableBuffer(ip), f = SendableBuffer(fp)
                        let s = SendableMutableBuffer(sp), b = SendableMutableBuffer(bp)
                        let m = flatMask.map { $0.withUnsafeBufferPointer { SendableBuffer($0) } }
                        let sf = sigmaF.map { $0.withUnsafeBufferPointer { SendableBuffer($0) } }
                        return withExtendedLifetime((flatMask, sigmaF)) {
                            Parallel.mapBlocks(count: n, minBlock: 1 << 16) { block in
                                var count = 0, i = block.lowerBound
                                // Four pixels a step in Double lanes (LLVM kept this loop scalar: a
                                // sixth of a frame's calibration); the rest one by one, the same values.
                                var bad4 = SIMD4<Int64>()
                                let lowest = D4(repeating: floor), scale = D4(repeating: norm), zero = D4(), one = D4(repeating: 1)
                                while i + 4 <= block.upperBound {
                                    var raw = D4(floatsAt: f.base + i)
                                    raw.replace(with: lowest, where: raw .< lowest)
                                    let good = (raw .> zero) .& (raw .< D4(repeating: .infinity))
                                    var fn = (raw / scale).replacing(with: one, where: .!good)
                                    let sfn = sf.map { (D4(floatsAt: $0.base + i) / scale).replacing(with: zero, where: .!good) } ?? zero
                                    if let m {
                                        let q = UnsafeRawPointer(m.base + i).loadUnaligned(as: SIMD4<UInt8>.self)
                                        fn.replace(with: one, where: good .& (SIMD4<Int64>(truncatingIfNeeded: q) .!= 0))
                                    }
                                    let badLanes = SIMD4<Int64>().replacing(with: 1, where: .!good)
                                    bad4 &+= badLanes
                                    UnsafeMutableRawPointer(b.base + i).storeBytes(of: SIMD4<UInt8>(truncatingIfNeeded: badLanes), as: SIMD4<UInt8>.self)
                                    let a = D4(floatsAt: d.base + i)
                                    (a / fn).storeFloats(at: d.base + i)
                                    if hasSigma {
                                        let sa = D4(floatsAt: s.base + i), f2 = fn * fn
                                        ((sa * sa * f2 + sfn * sfn * a * a) / (f2 * f2)).squareRoot().storeFloats(at: s.base + i)
                                    }
                                    i += 4
                                }
                                while i < block.upperBound {
                                    let raw = clamped(f.base[i])
                                    var fn = raw / norm
                                    var sfn = (sf?[i]).map { Double($0) / norm } ?? 0
                                    if !(raw.isFinite && raw > 0) {
                                        b.base[i] = 1; count += 1; fn = 1; sfn = 0
                                    } else if let m, m[i] != 0 {
                                        fn = 1
                                    }
                                    let a = Double(d.base[i])
                                    d.base[i] = Float(a / fn)
                                    if hasSigma {
                                        let sa = Double(s.base[i])
                                        let f2 = fn * fn
                                        s.base[i] = Float(((sa * sa * f2 + sfn * sfn * a * a) / (f2 * f2)).squareRoot())
                                    }
                                    i += 1
                                }
                                return count + Int(bad4.wrappedSum())
                            }
                        }.reduce(0, +)
                    }
                }
            }
        }
        if hasSigma { image.uncertainty = sigma }
        orMask(&image, flatMask)
        if bad > 0 { orMask(&image, badFlat, bits: MaskBits.badFlat.rawValue) }
        return FlatResult(norm: norm, badFlat: bad)
    }

    /// Each value times `factor`, in Double, across cores (the loop written out: a transform
    /// closure was called once per pixel).
    static func multiply(_ values: inout [Float], by factor: Double) {
        values.withUnsafeMutableBufferPointer { p in
            let d = SendableMutableBuffer(p)
            Parallel.forEachBlock(count: p.count, minBlock: 1 << 16) { block in
                for i in block { d.base[i] = Float(Double(d.base[i]) * factor) }
            }
        }
    }
}
