import Foundation

/// The clipping every fit of matched pairs shares (docs/align.md "fit"): χᵢ = rᵢ/σᵢ, robust
/// scale = median(χ)/1.1774 (the median of a unit Rayleigh distribution), pairs with
/// χ > `clip`·scale left out, refitted until the kept set is stable (at most 8 rounds). A kept
/// set seen before would start a cycle (a pair the fit bends to reach when kept and misses
/// when left out): the pairs both sets keep are fitted and the rounds stop.
enum RobustFit {
    /// - Parameters:
    ///   - start: the pairs the first fit uses.
    ///   - sigma: each pair's 1σ positional error.
    ///   - minKept: fewest pairs a refit may keep; a clipping that keeps fewer stops the rounds.
    ///   - fit: the model fitted to the pairs marked true; nil when it cannot be.
    ///   - residuals: |template − model(source)| of every pair, given the model and the pairs
    ///     it was fitted to.
    /// - Returns: the model, which pairs it was fitted to, and the final scale (≈ 1 when the
    ///   position errors are right); nil when the first fit fails.
    static func clipped<Model>(start: [Bool], sigma: [Double], clip: Double, minKept: Int, fit: ([Bool]) -> Model?,
                               residuals: (Model, [Bool]) -> [Double]) -> (model: Model, used: [Bool], scale: Double)? {
        var use = start, seen: Set<[Bool]> = [start]
        guard var model = fit(use) else { return nil }
        var scale = 1.0
        /// χ of every pair, and the scale over the kept ones; nil when none is kept.
        func measure() -> [Double]? {
            let chi = zip(residuals(model, use), sigma).map { $0 / $1 }
            let kept = chi.indices.filter { use[$0] }.map { chi[$0] }.sorted()
            guard !kept.isEmpty else { return nil }
            scale = max(kept[kept.count / 2] / 1.1774, 1e-9)
            return chi
        }
        for _ in 0..<8 {
            guard let chi = measure() else { break }
            var next = chi.map { $0 <= clip * scale }
            guard next != use else { break }
            let cycle = seen.contains(next)
            if cycle { next = zip(use, next).map { $0 && $1 } }
            guard next.filter({ $0 }).count >= minKept else { break }
            // A clipping whose refit fails is not taken: the model stays the one fitted to `use`.
            guard let refit = fit(next) else { break }
            use = next
            seen.insert(use)
            model = refit
            if cycle { _ = measure(); break }
        }
        return (model, use, scale)
    }

    /// BIC of a model with `parameters` over the pairs `used` marks: χ²/scale² + k·ln n, χ = r/σ.
    static func bic(_ residuals: [Double], sigma: [Double], used: [Bool], scale: Double, parameters: Int) -> Double {
        var chi2 = 0.0, n = 0
        for i in residuals.indices where used[i] {
            chi2 += (residuals[i] / sigma[i]) * (residuals[i] / sigma[i])
            n += 1
        }
        return chi2 / (scale * scale) + Double(parameters) * log(Double(n))
    }
}
