/// The clipping every fit of matched pairs shares (docs/align.md "fit"): χᵢ = rᵢ/σᵢ, robust
/// scale = median(χ)/1.1774 (the median of a unit Rayleigh distribution), pairs with
/// χ > `clip`·scale left out, refitted until the kept set is stable (at most 8 rounds).
enum RobustFit {
    /// - Parameters:
    ///   - start: the pairs the first fit uses.
    ///   - sigma: each pair's 1σ positional error.
    ///   - minKept: fewest pairs a refit may keep; a clipping that keeps fewer stops the rounds.
    ///   - fit: the model fitted to the pairs marked true; nil when it cannot be.
    ///   - residuals: |template − model(source)| of every pair.
    /// - Returns: the model, which pairs it was fitted to, and the final scale (≈ 1 when the
    ///   position errors are right); nil when the first fit fails.
    static func clipped<Model>(start: [Bool], sigma: [Double], clip: Double, minKept: Int,
                               fit: ([Bool]) -> Model?, residuals: (Model) -> [Double]) -> (model: Model, used: [Bool], scale: Double)? {
        var use = start
        guard var model = fit(use) else { return nil }
        var scale = 1.0
        for _ in 0..<8 {
            let chi = zip(residuals(model), sigma).map { $0 / $1 }
            let kept = chi.indices.filter { use[$0] }.map { chi[$0] }.sorted()
            guard !kept.isEmpty else { break }
            scale = max(kept[kept.count / 2] / 1.1774, 1e-9)
            let next = chi.map { $0 <= clip * scale }
            guard next != use, next.filter({ $0 }).count >= minKept else { break }
            // A clipping whose refit fails is not taken: the model stays the one fitted to `use`.
            guard let refit = fit(next) else { break }
            use = next
            model = refit
        }
        return (model, use, scale)
    }
}
