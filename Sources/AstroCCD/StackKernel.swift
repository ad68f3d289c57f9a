import AstroImage

/// Combines one pixel's stack of N values: rejection, then the average, median or sum and its σ.
/// One kernel per worker thread; its scratch buffers are reused for every pixel.
struct StackKernel {
    let options: CombineOptions
    let scales: [Double]
    let weights: [Double]?
    let weightTotal: Double
    var x: [Double]
    var y: [Double]
    var s: [Double]
    var ok: [Bool]
    var bits: [UInt8]
    var tmp: [Double]
    var order: [Int]

    init(options: CombineOptions, scales: [Double]) {
        self.options = options
        self.scales = scales
        weights = options.weights
        weightTotal = options.weights?.reduce(0, +) ?? 0
        let n = scales.count
        x = .init(repeating: 0, count: n); y = x; s = x; tmp = x
        ok = .init(repeating: true, count: n)
        bits = .init(repeating: 0, count: n)
        order = Array(0..<n)
    }

    struct Result { var value: Float; var sigma: Float; var mask: UInt8; var rejected: Int }

    /// Combines the stack loaded into `x` (raw values), `bits` (input mask bits) and, for
    /// propagation, `s` (input σ).
    mutating func combine() -> Result {
        let n = x.count
        let compat = options.ccdprocCompat
        var anyNaN = false
        for i in 0..<n {
            y[i] = x[i] * scales[i]
            if !x[i].isFinite { anyNaN = true }
            ok[i] = bits[i] == 0 && x[i].isFinite
        }
        var rejected = 0
        func reject(_ i: Int) { if ok[i] { ok[i] = false; rejected += 1 } }

        // ccdproc's order: extrema, then minmax, then sigma clipping.
        if let (nl, nh) = options.extrema {
            var m = 0
            var order: [Int] = []
            swap(&order, &self.order)
            let xs = x, ys = y
            if compat {
                // Raw values, masked ones counted, NaN sorted last (numpy argsort).
                for i in 0..<n { order[m] = i; m += 1 }
                Self.sortIndices(&order, m) { a, b in
                    let va = xs[a], vb = xs[b]
                    if va.isNaN { return false }
                    if vb.isNaN { return true }
                    return va < vb
                }
            } else {
                for i in 0..<n where ok[i] { order[m] = i; m += 1 }
                Self.sortIndices(&order, m) { ys[$0] < ys[$1] }
            }
            defer { swap(&order, &self.order) }
            if m <= nl + nh { for k in 0..<m { reject(order[k]) } }
            else {
                for k in 0..<nl { reject(order[k]) }
                for k in 0..<nh { reject(order[m - 1 - k]) }
            }
        }
        if let range = options.minmax {
            for i in 0..<n where x[i] < range.lowerBound || x[i] > range.upperBound { reject(i) }
        }
        if let clip = options.sigmaClip {
            if compat && options.ccdprocCallables && anyNaN {
                if clip.center == .mean && clip.deviation == .std { for i in 0..<n { reject(i) } }
            } else {
                for _ in 0..<max(1, clip.iterations) {
                    var m = 0
                    for i in 0..<n {
                        let use = compat ? x[i].isFinite : ok[i]
                        if use { tmp[m] = compat ? x[i] : y[i]; m += 1 }
                    }
                    guard m > 0 else { break }
                    let (c, d) = centerAndSpread(m, clip)
                    let lo = c - clip.low * d, hi = c + clip.high * d
                    var changed = false
                    for i in 0..<n {
                        let v = compat ? x[i] : y[i]
                        if (v < lo || v > hi) && ok[i] { reject(i); changed = true }
                    }
                    if !changed || compat { break }
                }
            }
        }

        // Combine what is left.
        var m = 0
        var sum = 0.0, wsum = 0.0, wden = 0.0
        for i in 0..<n where ok[i] && y[i].isFinite {
            tmp[m] = y[i]; m += 1
            sum += y[i]
            if let weights { wsum += weights[i] * y[i]; wden += weights[i] }
        }
        if m == 0 {
            var b: UInt8 = rejected > 0 ? MaskBits.outlier.rawValue : 0
            for i in 0..<n { b |= bits[i] }
            if anyNaN { b |= MaskBits.nonFinite.rawValue }
            if b == 0 { b = MaskBits.noData.rawValue }
            let zero = compat && (options.method == .sum || (options.method == .average && weights != nil))
            return Result(value: zero ? 0 : .nan, sigma: .nan, mask: b, rejected: rejected)
        }
        let count = Double(m)
        let value: Double
        switch options.method {
        case .average:
            if weights != nil { value = wsum / (compat ? weightTotal : wden) } else { value = sum / count }
        case .sum:
            value = sum
        case .median:
            value = median(m)
        }
        var sigma = Double.nan
        switch options.uncertainty {
        case .none:
            break
        case .scatter:
            if options.method == .median {
                sigma = madStd(m) / count.squareRoot()
            } else {
                let mean = sum / count
                var ss = 0.0
                for k in 0..<m { let d = tmp[k] - mean; ss += d * d }
                let std = (ss / count).squareRoot()
                sigma = options.method == .sum ? std * count.squareRoot() : std / count.squareRoot()
            }
        case .propagate:
            var v = 0.0, w2 = 0.0
            for i in 0..<n where ok[i] && y[i].isFinite {
                let si = s[i] * abs(scales[i])
                let w = weights?[i] ?? 1
                v += w * w * si * si
                w2 += w
            }
            switch options.method {
            case .sum: sigma = v.squareRoot()
            case .average: sigma = v.squareRoot() / w2
            // A median's σ is √(π/2) times the mean's for Gaussian noise.
            case .median: sigma = 1.2533141373155003 * v.squareRoot() / w2
            }
        }
        return Result(value: Float(value), sigma: Float(sigma), mask: 0, rejected: rejected)
    }

    /// Centre and spread of tmp[0..<m].
    private mutating func centerAndSpread(_ m: Int, _ clip: CombineOptions.SigmaClip) -> (Double, Double) {
        var mean = 0.0
        for k in 0..<m { mean += tmp[k] }
        mean /= Double(m)
        let c: Double
        switch clip.center {
        case .mean: c = mean
        case .median: c = median(m)   // sorts tmp; the spread below does not depend on order
        }
        switch clip.deviation {
        case .std:
            var ss = 0.0
            for k in 0..<m { let d = tmp[k] - mean; ss += d * d }
            return (c, (ss / Double(m)).squareRoot())
        case .madStd:
            return (c, madStd(m))
        }
    }

    /// Median of tmp[0..<m] (numpy's: mean of the middle two for even m); sorts tmp.
    private mutating func median(_ m: Int) -> Double {
        insertionSort(&tmp, m)
        return m % 2 == 1 ? tmp[m / 2] : 0.5 * (tmp[m / 2 - 1] + tmp[m / 2])
    }

    /// 1.4826·MAD of tmp[0..<m] (astropy's mad_std); overwrites tmp.
    private mutating func madStd(_ m: Int) -> Double {
        let med = median(m)
        for k in 0..<m { tmp[k] = abs(tmp[k] - med) }
        return 1.482602218505602 * median(m)
    }

    private func insertionSort(_ a: inout [Double], _ m: Int) {
        if m > 48 { a[0..<m].sort(); return }
        a.withUnsafeMutableBufferPointer { p in
            for i in 1..<max(1, m) {
                let v = p[i]
                var j = i - 1
                while j >= 0 && p[j] > v { p[j + 1] = p[j]; j -= 1 }
                p[j + 1] = v
            }
        }
    }

    private static func sortIndices(_ order: inout [Int], _ m: Int, _ less: (Int, Int) -> Bool) {
        guard m > 1 else { return }
        for i in 1..<m {
            let v = order[i]
            var j = i - 1
            while j >= 0 && less(v, order[j]) { order[j + 1] = order[j]; j -= 1 }
            order[j + 1] = v
        }
    }
}
