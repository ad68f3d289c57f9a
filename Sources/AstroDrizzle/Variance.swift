/// Variance propagation as stcal 1.20's Resample does it: each variance plane's square root is
/// drizzled like the data (same pixmap, weights and kernel), squared, and the inputs are then
/// combined with the resampled read-noise variance (or the exposure time) as weight W:
/// var = Σ v·W² / (Σ W)² · 1/r² — not a true squared-weight propagation (docs/resample.md).
enum Variance {
    struct Accumulators {
        let width: Int, height: Int
        /// The grid row and column of the first pixel (a band or tile of a larger grid).
        var firstRow = 0, firstColumn = 0
        /// Per plane (VAR_RNOISE, VAR_POISSON, VAR_FLAT): Σ v·W² and Σ W.
        var sums: [String: ([Double], [Double])] = [:]

        init(width: Int, height: Int) { self.width = width; self.height = height }

        /// The planes and weights may be rows of the input from `firstInputRow` on (`DrizzleOutput.add`).
        mutating func add(rnoise: [Float]?, poisson: [Float]?, flat: [Float]?, weights: [Float], pixmap: Pixmap, firstInputRow: Int = 0,
                          options: DrizzleOptions, weightType: ResampleOptions.WeightType, exptime: Double) {
            guard rnoise != nil || poisson != nil || flat != nil else { return }
            func resampled(_ v: [Float]) -> [Float] {
                var out = DrizzleOutput(width: width, height: height, firstRow: firstRow, firstColumn: firstColumn)
                // A negative or non-finite variance drizzles as NaN, so this input drops out of the
                // plane wherever it reaches (as stcal), instead of counting as zero variance.
                out.add(v.map { $0 >= 0 && $0.isFinite ? $0.squareRoot() : .nan }, weights: weights, pixmap: pixmap,
                        firstInputRow: firstInputRow, options: options)
                return out.image.map { $0 * $0 }
            }
            let rn = rnoise.map(resampled)
            // The combination weight of this input at each output pixel.
            let w: [Double] = (0..<(width * height)).map { p in
                if weightType == .exptime { return exptime }
                if weightType == .none { return 1 }
                guard let rn, rn[p] > 0, rn[p].isFinite else { return 0 }
                return 1 / Double(rn[p])
            }
            for (name, plane) in [("VAR_RNOISE", rnoise), ("VAR_POISSON", poisson), ("VAR_FLAT", flat)] {
                guard let plane else { continue }
                let v = name == "VAR_RNOISE" ? rn! : resampled(plane)
                var (s, t) = sums[name] ?? ([Double](repeating: .nan, count: width * height), [Double](repeating: 0, count: width * height))
                for p in 0..<(width * height) where v[p] >= 0 && v[p].isFinite && w[p] > 0 {
                    let term = Double(v[p]) * w[p] * w[p]
                    s[p] = s[p].isNaN ? term : s[p] + term
                    t[p] += w[p]
                }
                sums[name] = (s, t)
            }
        }

        /// The output planes, in a fixed order; NaN where no input contributed.
        func finish(ratio r: Double) -> [(String, [Float])] {
            let scale = 1 / (r * r)
            return ["VAR_RNOISE", "VAR_POISSON", "VAR_FLAT"].compactMap { name in
                guard let (s, t) = sums[name] else { return nil }
                return (name, (0..<s.count).map { p in t[p] > 0 ? Float(s[p] * scale / t[p] / t[p]) : .nan })
            }
        }
    }
}
