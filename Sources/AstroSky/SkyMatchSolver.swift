/// How the sky levels are found (docs/skymatch.md §5).
public enum SkyMethod: String, Sendable, CaseIterable {
    /// Each item's own statistic.
    case local
    /// The smallest local statistic, for every item.
    case global
    /// Relative offsets that make the overlaps agree, from one least-squares system.
    case match
    /// The offsets of `match` lifted, island by island, onto the lowest sky after matching.
    case globalMatch = "global+match"
    /// The user's own values (`--skylist`), per chip; nothing is measured.
    case user
}

/// One usable overlap between items `i < j`: the two sides' levels on their common sky (only
/// their difference enters the system) and the pixel counts behind them.
struct PairSky: Sendable {
    let i: Int, j: Int
    let si: SkyValue, sj: SkyValue

    /// The pair's weight: the mean of the two pixel counts, as in both references.
    var weight: Double { Double(si.npix + sj.npix) / 2 }
}

/// One item's outcome: its sky (nil: SKIPPED, nothing could be said) and its island.
struct ItemSky: Sendable, Equatable {
    var sky: Double?
    var island: Int
}

/// What one chip gets: its sky (at its centre under the plane model; nil: SKIPPED), its
/// island, and under the plane model the slopes along its x and y (data units per pixel).
struct ChipSky: Sendable {
    var sky: Double?
    var island: Int
    var slope: (x: Double, y: Double)? = nil
}

/// The numbers of skymatch without any pixels: islands, the match system, the methods.
enum SkyMatchSolver {
    /// The connected components of the overlap graph, numbered from 1 in order of their first
    /// item; an item in no pair is an island of its own.
    static func islands(count n: Int, pairs: [PairSky]) -> [Int] {
        var parent = Array(0..<n)
        func root(_ a: Int) -> Int {
            var a = a
            while parent[a] != a { parent[a] = parent[parent[a]]; a = parent[a] }
            return a
        }
        for p in pairs { parent[root(p.i)] = root(p.j) }
        var number: [Int: Int] = [:]
        return (0..<n).map { k in
            let r = root(k)
            if let id = number[r] { return id }
            number[r] = number.count + 1
            return number[r]!
        }
    }

    /// The match offsets δ: one equation `W·(δi − δj) = W·(si − sj)` per pair, solved in the
    /// least-squares sense (so a pair weighs W², as in the references). Each island's δ sum to
    /// zero, the minimum-norm solution the references' pseudo-inverse gives; items in no pair
    /// get NaN.
    static func deltas(count n: Int, pairs: [PairSky]) -> [Double] {
        var delta = [Double](repeating: .nan, count: n)
        let island = islands(count: n, pairs: pairs)
        let wmax = pairs.map(\.weight).max() ?? 1
        for id in Set(island) {
            let members = (0..<n).filter { island[$0] == id }
            guard members.count > 1 else { continue }
            let local = Dictionary(uniqueKeysWithValues: members.enumerated().map { ($1, $0) })
            let m = members.count
            // Normal equations KᵀK δ = KᵀF; W scaled by the largest weight for conditioning.
            var a = [Double](repeating: 0, count: m * m), b = [Double](repeating: 0, count: m)
            for p in pairs where island[p.i] == id {
                let i = local[p.i]!, j = local[p.j]!
                let w2 = (p.weight / wmax) * (p.weight / wmax)
                let d = p.si.value - p.sj.value
                a[i * m + i] += w2; a[j * m + j] += w2
                a[i * m + j] -= w2; a[j * m + i] -= w2
                b[i] += w2 * d; b[j] -= w2 * d
            }
            // KᵀK is singular along (1, …, 1); adding c·11ᵀ fixes the gauge at Σδ = 0 without
            // changing the solution elsewhere (1 is orthogonal to KᵀF).
            let c = (0..<m).reduce(0) { $0 + a[$1 * m + $1] } / Double(m * m)
            for k in 0..<(m * m) { a[k] += c }
            let x = solve(a, b, m)
            let mean = x.reduce(0, +) / Double(m)
            for (k, item) in members.enumerated() { delta[item] = x[k] - mean }
        }
        return delta
    }

    /// Each item's sky for `method` from its local statistic (nil: no usable pixel) and the
    /// pairs. Unlike the references, islands are independent: `match` references each island
    /// to its own lowest (or highest, `matchUp`) item, and `global+match` gives each island
    /// its own baseline, so an isolated item keeps its local sky (docs/skymatch.md §7).
    ///
    /// `sharedBaseline` (`--compat`): the references' single reference instead, `match` shifted
    /// by the lowest (highest) δ of all islands together, `global+match` lifted by the lowest
    /// `local − δ` of all items, an item in no pair counting δ = 0 (docs/skymatch.md §5.3–5.4).
    static func levels(method: SkyMethod, local: [Double?], pairs: [PairSky], matchUp: Bool,
                       sharedBaseline: Bool = false) -> [ItemSky] {
        let n = local.count
        let island = islands(count: n, pairs: pairs)
        switch method {
        case .local, .user:
            return (0..<n).map { ItemSky(sky: local[$0], island: island[$0]) }
        case .global:
            let floor = local.compactMap { $0 }.min()
            return (0..<n).map { ItemSky(sky: local[$0] == nil ? nil : floor, island: island[$0]) }
        case .match where sharedBaseline, .globalMatch where sharedBaseline:
            // The match step first (δ less the lowest or highest of all), applied with NaN as 0;
            // global+match then adds the lowest sky left, so an isolated item gets that baseline.
            let delta = deltas(count: n, pairs: pairs)
            let ds = delta.filter(\.isFinite)
            let reference = (matchUp ? ds.max() : ds.min()) ?? 0
            if method == .match {
                return (0..<n).map { ItemSky(sky: delta[$0].isFinite ? delta[$0] - reference : nil, island: island[$0]) }
            }
            let d = delta.map { $0.isFinite ? $0 - reference : 0 }
            let base = (0..<n).compactMap { k in local[k].map { $0 - d[k] } }.min()
            return (0..<n).map { k in ItemSky(sky: base.map { d[k] + $0 }, island: island[k]) }
        case .match, .globalMatch:
            let delta = deltas(count: n, pairs: pairs)
            var out = (0..<n).map { ItemSky(sky: nil, island: island[$0]) }
            for id in Set(island) {
                let members = (0..<n).filter { island[$0] == id }
                let reference: Double?
                if method == .match {
                    let ds = members.map { delta[$0] }.filter(\.isFinite)
                    reference = matchUp ? ds.max() : ds.min()
                } else {
                    // The lowest sky left after matching; δ of an isolated item is 0.
                    reference = members.compactMap { k in local[k].map { $0 - (delta[k].isFinite ? delta[k] : 0) } }.min()
                }
                guard let reference else { continue }
                for k in members {
                    let d = delta[k].isFinite ? delta[k] : (method == .match ? Double.nan : 0)
                    if d.isFinite { out[k].sky = method == .match ? d - reference : d + reference }
                }
            }
            return out
        }
    }

    /// Gaussian elimination with partial pivoting of the dense m×m system (row-major `a`).
    static func solve(_ a: [Double], _ b: [Double], _ m: Int) -> [Double] {
        var a = a, b = b
        for col in 0..<m {
            var pivot = col
            for r in (col + 1)..<max(col + 1, m) where abs(a[r * m + col]) > abs(a[pivot * m + col]) { pivot = r }
            if pivot != col {
                for k in 0..<m { a.swapAt(col * m + k, pivot * m + k) }
                b.swapAt(col, pivot)
            }
            let p = a[col * m + col]
            guard p != 0 else { continue }
            for r in (col + 1)..<max(col + 1, m) {
                let f = a[r * m + col] / p
                if f == 0 { continue }
                for k in col..<m { a[r * m + k] -= f * a[col * m + k] }
                b[r] -= f * b[col]
            }
        }
        var x = [Double](repeating: 0, count: m)
        for r in stride(from: m - 1, through: 0, by: -1) {
            var s = b[r]
            for k in (r + 1)..<max(r + 1, m) { s -= a[r * m + k] * x[k] }
            x[r] = a[r * m + r] != 0 ? s / a[r * m + r] : 0
        }
        return x
    }
}
