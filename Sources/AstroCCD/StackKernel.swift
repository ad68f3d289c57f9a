import AstroImage

/// Combines one pixel's stack of N values: rejection, then the average, median or sum and its σ.
/// One kernel per worker thread; its scratch buffers (raw pointers: this is the innermost loop
/// of a combination) are reused for every pixel and freed by `deallocate()`.
struct StackKernel {
    let options: CombineOptions
    let scales: UnsafeMutablePointer<Double>
    /// Additive offsets subtracted after scaling, and the CCD noise model per image (IRAF
    /// ccdclip: read noise e⁻, gain e⁻/ADU, sensitivity noise).
    let zeros, readNoise, gain, snoise: UnsafeMutablePointer<Double>
    let weights: UnsafeMutablePointer<Double>?
    let weightTotal: Double
    let n: Int
    /// Raw values, scaled values, input σ, sort scratch and IRAF's residuals, usable flags,
    /// input mask bits, indices.
    let x, y, s, tmp, resid: UnsafeMutablePointer<Double>
    let ok: UnsafeMutablePointer<Bool>
    let bits: UnsafeMutablePointer<UInt8>
    let order: UnsafeMutablePointer<Int>
    let network: [(Int32, Int32)]

    /// Per-image constants of a combination, beyond the options.
    struct Constants: Sendable {
        var scales: [Double]
        var zeros: [Double]
        var readNoise: [Double]
        var gain: [Double]
        var snoise: [Double]
        init(scales: [Double], zeros: [Double]? = nil) {
            self.scales = scales
            self.zeros = zeros ?? scales.map { _ in 0 }
            readNoise = scales.map { _ in 0 }; gain = scales.map { _ in 1 }; snoise = scales.map { _ in 0 }
        }
    }

    init(options: CombineOptions, constants c: Constants, network: [(Int32, Int32)]) {
        self.options = options
        n = c.scales.count
        scales = Self.copy(c.scales); zeros = Self.copy(c.zeros)
        readNoise = Self.copy(c.readNoise); gain = Self.copy(c.gain); snoise = Self.copy(c.snoise)
        weights = options.weights.map(Self.copy)
        weightTotal = options.weights?.reduce(0, +) ?? 0
        x = .allocate(capacity: n); y = .allocate(capacity: n); s = .allocate(capacity: n)
        tmp = .allocate(capacity: n); resid = .allocate(capacity: n)
        for p in [x, y, s, tmp, resid] { p.initialize(repeating: 0, count: n) }
        ok = .allocate(capacity: n); ok.initialize(repeating: true, count: n)
        bits = .allocate(capacity: n); bits.initialize(repeating: 0, count: n)
        order = .allocate(capacity: n); order.initialize(repeating: 0, count: n)
        self.network = network
    }

    private static func copy(_ v: [Double]) -> UnsafeMutablePointer<Double> {
        let p = UnsafeMutablePointer<Double>.allocate(capacity: v.count)
        p.initialize(from: v, count: v.count)
        return p
    }

    func deallocate() {
        for p in [scales, zeros, readNoise, gain, snoise, x, y, s, tmp, resid] { p.deallocate() }
        weights?.deallocate()
        ok.deallocate(); bits.deallocate(); order.deallocate()
    }

    struct Result { var value: Float; var sigma: Float; var mask: UInt8; var rejected: Int }

    /// Combines the stack loaded into `x` (raw values), `bits` (input mask bits) and, for
    /// propagation, `s` (input σ). `lineSigma`: avsigclip's σ for this pixel's line.
    func combine(lineSigma: Double = 0) -> Result {
        let compat = options.ccdprocCompat
        var anyNaN = false
        for i in 0..<n {
            y[i] = x[i] * scales[i] - zeros[i]
            if !x[i].isFinite { anyNaN = true }
            ok[i] = bits[i] == 0 && x[i].isFinite
        }
        var rejected = 0
        func reject(_ i: Int) { if ok[i] { ok[i] = false; rejected += 1 } }

        // ccdproc's order: extrema, then minmax, then sigma clipping.
        if let (nl, nh) = options.extrema {
            var m = 0
            let xs = x, ys = y
            if compat {
                // Raw values, masked ones counted, NaN sorted last (numpy argsort).
                for i in 0..<n { order[m] = i; m += 1 }
                Self.sortIndices(order, m) { a, b in
                    let va = xs[a], vb = xs[b]
                    if va.isNaN { return false }
                    if vb.isNaN { return true }
                    return va < vb
                }
            } else {
                for i in 0..<n where ok[i] { order[m] = i; m += 1 }
                Self.sortIndices(order, m) { ys[$0] < ys[$1] }
            }
            if m <= nl + nh { for k in 0..<m { reject(order[k]) } }
            else {
                for k in 0..<nl { reject(order[k]) }
                for k in 0..<nh { reject(order[m - 1 - k]) }
            }
        }
        if let range = options.minmax {
            for i in 0..<n where x[i] < range.lowerBound || x[i] > range.upperBound { reject(i) }
        }
        if let r = options.reject { rejected += rejectIRAF(r, lineSigma: lineSigma) }
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
                sigma = madStd(m, sorted: true) / count.squareRoot()
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
    private func centerAndSpread(_ m: Int, _ clip: CombineOptions.SigmaClip) -> (Double, Double) {
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
            return (c, madStd(m, sorted: clip.center == .median))
        }
    }

    /// Median of tmp[0..<m]; sorts tmp.
    private func median(_ m: Int) -> Double {
        sort(m)
        return SortedRun.median(tmp, 0, m)
    }

    /// mad_std of tmp[0..<m], sorting it first unless it is.
    private func madStd(_ m: Int, sorted: Bool) -> Double {
        if !sorted { sort(m) }
        return SortedRun.madStd(tmp, 0, m)
    }

    /// Sorts tmp[0..<m] with a branchless Batcher odd–even merge network over all n slots, the
    /// unused ones holding +inf: min/max compile to branch-free instructions, several times
    /// faster than insertion sort or quickselect on the short stacks of a combination.
    private func sort(_ m: Int) {
        for k in m..<n { tmp[k] = .infinity }
        let t = tmp
        network.withUnsafeBufferPointer { pairs in
            for pair in pairs {
                let i = Int(pair.0), j = Int(pair.1)
                let a = t[i], b = t[j]
                t[i] = Swift.min(a, b)
                t[j] = Swift.max(a, b)
            }
        }
    }

    /// Batcher's odd–even merge sort for n inputs: the network for the next power of two, minus
    /// comparators that touch a slot ≥ n (those slots hold +inf and would never move).
    static func batcherNetwork(_ n: Int) -> [(Int32, Int32)] {
        var size = 1
        while size < n { size <<= 1 }
        var pairs: [(Int32, Int32)] = []
        batcherComparators(size: size, from: 1) { a, b in if b < n { pairs.append((Int32(a), Int32(b))) } }
        return pairs
    }

    /// The comparators (low wire, high wire) of Batcher's odd-even merge sort of `size` (a power
    /// of two) wires, in order, from the phase that merges sorted blocks of `first` wires on
    /// (1: the whole sort; larger when the blocks are already sorted).
    static func batcherComparators(size: Int, from first: Int, _ visit: (Int, Int) -> Void) {
        var p = first
        while p < size {
            var k = p
            while k >= 1 {
                var j = k % p
                while j <= size - 1 - k {
                    for i in 0..<min(k, size - j - k) where (i + j) / (p * 2) == (i + j + k) / (p * 2) { visit(i + j, i + j + k) }
                    j += 2 * k
                }
                k /= 2
            }
            p *= 2
        }
    }

    static func sortIndices(_ order: UnsafeMutablePointer<Int>, _ m: Int, _ less: (Int, Int) -> Bool) {
        guard m > 1 else { return }
        for i in 1..<m {
            let v = order[i]
            var j = i - 1
            while j >= 0 && less(v, order[j]) { order[j + 1] = order[j]; j -= 1 }
            order[j + 1] = v
        }
    }
}
