import AstroImage

/// Combines eight neighbouring pixel stacks at once when all their values are usable — the
/// common case of a bias, dark or flat stack. Each input's eight values load as one vector, the
/// sorting network runs on vectors (eight sorts for the price of one), and then each sorted
/// stack is clipped as a shrinking index range: extrema drop its ends, minmax and sigma
/// thresholds move them inwards, so no stack is sorted twice; while no lane loses a value, all
/// eight are combined in vectors (`combineAll`). Gives what `StackKernel` gives, to
/// rounding: scaled values are rounded to Float before sorting (an ulp of the data at most).
/// Tiles with a masked or non-finite value go to `StackKernel`.
final class StackTile {
    typealias Lanes = SIMD8<Float>
    static let width = 8

    let options: CombineOptions
    let n: Int
    /// Scale factors as Float, applied before sorting; nil when all are 1.
    let scales: [Float]?
    let network: [(Int32, Int32)]
    /// The stack's vectors; after `load` the k-th holds each lane's k-th smallest value.
    let v: UnsafeMutablePointer<Lanes>
    /// One lane's sorted stack.
    let t: UnsafeMutablePointer<Double>
    typealias Wide = SIMD8<Double>
    typealias Half = SIMD4<Double>
    /// Every lane's sorted stack in Double: the k-th holds each lane's k-th smallest value.
    let w: UnsafeMutablePointer<Wide>

    /// Nil when the tile path does not apply: weights, propagated σ and IRAF's rejections need
    /// to know which input each value came from, which sorting forgets; so do raw-value
    /// thresholds (minmax, and ccdproc-compat clipping) once scaling reorders a stack.
    init?(options: CombineOptions, scales: [Double], network: [(Int32, Int32)]) {
        let unscaled = scales.allSatisfy { $0 == 1 }
        guard options.weights == nil, options.uncertainty != .propagate, options.reject == nil, options.zero == .none,
              unscaled || (!options.ccdprocCompat && options.minmax == nil) else { return nil }
        self.options = options
        n = scales.count
        self.scales = unscaled ? nil : scales.map { Float($0) }
        self.network = network
        v = .allocateAligned(capacity: n)
        v.initialize(repeating: Lanes(), count: n)
        t = .allocate(capacity: n)
        t.initialize(repeating: 0, count: n)
        w = .allocateAligned(capacity: n)
        w.initialize(repeating: Wide(), count: n)
    }

    func deallocate() { v.deallocate(); t.deallocate(); w.deallocate() }

    /// Loads and sorts the tile whose first pixel is `data[0]`, input i at `data[i·stride]`;
    /// false (nothing combined) when a value is masked, NaN or infinite.
    func load(_ data: UnsafePointer<Float>, stride: Int, bits: UnsafePointer<UInt8>?) -> Bool {
        for i in 0..<n {
            if let bits, UnsafeRawPointer(bits + i * stride).loadUnaligned(as: SIMD8<UInt8>.self) != .zero {
                return false
            }
            var x = UnsafeRawPointer(data + i * stride).loadUnaligned(as: Lanes.self)
            // x − x is 0 exactly for finite x, NaN for NaN and ±inf.
            guard (x - x) == .zero else { return false }
            if let scales { x *= scales[i] }
            v[i] = x
        }
        network.withUnsafeBufferPointer { pairs in
            for pair in pairs {
                let a = v[Int(pair.0)], b = v[Int(pair.1)]
                let swap = b .< a
                v[Int(pair.0)] = a.replacing(with: b, where: swap)
                v[Int(pair.1)] = b.replacing(with: a, where: swap)
            }
        }
        return true
    }

    /// Combines every lane of the loaded tile into `store(lane, result)`. All lanes at once, in
    /// Double vectors, while no lane loses a value: every stack then keeps its whole sorted run,
    /// so centre, spread and result are the same sums and picks in every lane, in the order
    /// `combine(lane:)` takes them (the same bits). A lane whose clipping would reject a value,
    /// and options with extrema or minmax ranges, go to `combine(lane:)`.
    func combineAll(_ store: (Int, StackKernel.Result) -> Void) {
        guard options.extrema == nil, options.minmax == nil else {
            for lane in 0..<Self.width { store(lane, combine(lane: lane)) }
            return
        }
        for k in 0..<n { w[k] = Wide(lowHalf: Half(v[k].lowHalf), highHalf: Half(v[k].highHalf)) }
        var sum = Wide()
        for k in 0..<n { sum += w[k] }
        let count = Wide(repeating: Double(n))
        var keeps = SIMDMask<SIMD8<Int64>>(repeating: true)
        if let clip = options.sigmaClip {
            let c = clip.center == .mean ? sum / count : wideMedian()
            let d: Wide
            switch clip.deviation {
            case .std: d = (wideSumOfSquares(about: sum / count) / count).squareRoot()
            case .madStd: d = wideMadStd()
            }
            let lo = c - clip.low * d, hi = c + clip.high * d
            keeps = .!(w[0] .< lo) .& .!(w[n - 1] .> hi)
        }
        let value: Wide
        switch options.method {
        case .average: value = sum / count
        case .sum: value = sum
        case .median: value = wideMedian()
        }
        var sigma = Wide(repeating: .nan)
        if options.uncertainty == .scatter {
            if options.method == .median {
                sigma = wideMadStd() / count.squareRoot()
            } else {
                let std = (wideSumOfSquares(about: sum / count) / count).squareRoot()
                sigma = options.method == .sum ? std * count.squareRoot() : std / count.squareRoot()
            }
        }
        for lane in 0..<Self.width {
            if keeps[lane] {
                store(lane, .init(value: Float(value[lane]), sigma: Float(sigma[lane]), mask: 0, rejected: 0))
            } else {
                store(lane, combine(lane: lane))
            }
        }
    }

    /// `SortedRun.median` of every lane's whole run.
    private func wideMedian() -> Wide {
        n % 2 == 1 ? w[n / 2] : 0.5 * (w[n / 2 - 1] + w[n / 2])
    }

    /// `SortedRun.madStd` of every lane's whole run.
    private func wideMadStd() -> Wide {
        let med = wideMedian()
        func deviation(_ j: Int) -> Wide {
            var best = Wide(repeating: .infinity)
            for s in 0..<(n - j) {
                let below = med - w[s], above = w[s + j] - med
                let worst = below.replacing(with: above, where: above .>= below)
                best = best.replacing(with: worst, where: worst .< best)
            }
            return best
        }
        let mad = n % 2 == 1 ? deviation(n / 2) : 0.5 * (deviation(n / 2 - 1) + deviation(n / 2))
        return 1.482602218505602 * mad
    }

    private func wideSumOfSquares(about mean: Wide) -> Wide {
        var ss = Wide()
        for k in 0..<n { let d = w[k] - mean; ss += d * d }
        return ss
    }

    /// Combines one lane of the loaded tile.
    func combine(lane: Int) -> StackKernel.Result {
        for k in 0..<n { t[k] = Double(v[k][lane]) }
        var a = 0, b = n
        if let (nl, nh) = options.extrema {
            if n <= nl + nh { a = n } else { a = nl; b = n - nh }
        }
        if let range = options.minmax {
            while a < b && t[a] < range.lowerBound { a += 1 }
            while b > a && t[b - 1] > range.upperBound { b -= 1 }
        }
        if let clip = options.sigmaClip, a < b {
            let compat = options.ccdprocCompat
            for _ in 0..<max(1, clip.iterations) {
                // ccdproc's statistics see every finite value, rejected or not.
                let (c, d) = compat ? centerAndSpread(0, n, clip) : centerAndSpread(a, b, clip)
                let lo = c - clip.low * d, hi = c + clip.high * d
                let (a0, b0) = (a, b)
                while a < b && t[a] < lo { a += 1 }
                while b > a && t[b - 1] > hi { b -= 1 }
                if (a == a0 && b == b0) || compat || a == b { break }
            }
        }
        let m = b - a, rejected = n - m
        guard m > 0 else {
            let zero = options.ccdprocCompat && options.method == .sum
            return .init(value: zero ? 0 : .nan, sigma: .nan, mask: MaskBits.outlier.rawValue, rejected: rejected)
        }
        var sum = 0.0
        for k in a..<b { sum += t[k] }
        let count = Double(m)
        let value: Double
        switch options.method {
        case .average: value = sum / count
        case .sum: value = sum
        case .median: value = median(a, b)
        }
        var sigma = Double.nan
        if options.uncertainty == .scatter {
            if options.method == .median {
                sigma = madStd(a, b) / count.squareRoot()
            } else {
                let std = (sumOfSquares(a, b, about: sum / count) / count).squareRoot()
                sigma = options.method == .sum ? std * count.squareRoot() : std / count.squareRoot()
            }
        }
        return .init(value: Float(value), sigma: Float(sigma), mask: 0, rejected: rejected)
    }

    private func median(_ a: Int, _ b: Int) -> Double { SortedRun.median(t, a, b) }

    private func madStd(_ a: Int, _ b: Int) -> Double { SortedRun.madStd(t, a, b) }

    private func sumOfSquares(_ a: Int, _ b: Int, about mean: Double) -> Double {
        var ss = 0.0
        for k in a..<b { let d = t[k] - mean; ss += d * d }
        return ss
    }

    /// Centre and spread of t[a..<b]; the spread of `std` is about the mean, as in StackKernel.
    private func centerAndSpread(_ a: Int, _ b: Int, _ clip: CombineOptions.SigmaClip) -> (Double, Double) {
        var sum = 0.0
        for k in a..<b { sum += t[k] }
        let mean = sum / Double(b - a)
        let c = clip.center == .mean ? mean : median(a, b)
        switch clip.deviation {
        case .std: return (c, (sumOfSquares(a, b, about: mean) / Double(b - a)).squareRoot())
        case .madStd: return (c, madStd(a, b))
        }
    }
}
