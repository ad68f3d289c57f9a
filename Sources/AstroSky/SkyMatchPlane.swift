import AstroImage
import Foundation

/// `--model plane`: each group's sky a plane on the mosaic's tangent plane, from the planes
/// fitted to the pixel differences in every overlap (docs/skymatch.md, "Plane model").
enum SkyMatchPlane {
    /// Per chip: its sky at its centre (matched, then referenced as `match` or lifted as
    /// `global+match` does for levels), island and slopes; the pairs as reported; each chip's
    /// overlap pixel count.
    static func skies(_ chips: [SkyChip], members: [[Int]], groupOf: [Int], groupNames: [String], locals: [Double?],
                      options o: SkyMatchOptions) -> ([ChipSky], [SkyMatchReport.Pair], [Int]) {
        let mosaic = MosaicPlane(chips)
        let maps = chips.map { mosaic.affine($0) }
        let limits = (o.stats.lower.map(Float.init) ?? -.infinity)...(o.stats.upper.map(Float.init) ?? .infinity)
        // Both sides' differences, as gi − gj, at their positions on the mosaic plane (a pair's
        // sides joined where they are made: they hold every difference and its position).
        let found = PairWorker.map(members: members, chips: chips, sidesApart: false) { worker, from, against
            -> (values: [Float], xi: [Float], eta: [Float], area: Double) in
            var p: SkyMatch.Positions? = .init(maps: maps)
            let d = SkyMatch.differences(members[from], against: members[against], &worker, limits: limits, positions: &p)
            return (d.values, p!.xi, p!.eta, d.area)
        } combine: { gi, gj, a, b -> ((i: Int, j: Int, weight: Int, plane: SkyPlane), SkyMatchReport.Pair)? in
            guard a.area > 0, let fit = PlaneFit.fit(a.values + b.values.map { -$0 }, xi: a.xi + b.xi, eta: a.eta + b.eta)
            else { return nil }
            let level = fit.plane.level
            return ((gi, gj, fit.npix, fit.plane),
                    .init(groups: [groupNames[gi], groupNames[gj]], offsets: [level, level], npix: [a.values.count, b.values.count],
                          area: a.area * pow(180 / Double.pi * 3600, 2), slope: [fit.plane.slopeX, fit.plane.slopeY]))
        }
        let pairs = found.results.map(\.0), reported = found.results.map(\.1), overlapPixels = found.overlapPixels
        let planes = PlaneFit.solve(count: members.count, pairs: pairs)
        let island = SkyMatchSolver.islands(count: members.count, pairs: pairs.map {
            PairSky(i: $0.i, j: $0.j, si: SkyValue(value: 0, npix: 1), sj: SkyValue(value: 0, npix: 1))
        })
        // Each chip's relative sky at its centre and its slopes in its own pixels.
        var relative = [Double?](repeating: nil, count: chips.count)
        var slopes = [(x: Double, y: Double)?](repeating: nil, count: chips.count)
        for (k, c) in chips.enumerated() {
            guard let p = planes[groupOf[k]] else { continue }
            let m = maps[k], cx = Double(c.width - 1) / 2, cy = Double(c.height - 1) / 2
            relative[k] = p.value(xi: m.xi[0] + m.xi[1] * cx + m.xi[2] * cy, eta: m.eta[0] + m.eta[1] * cx + m.eta[2] * cy)
            slopes[k] = (p.slopeX * m.xi[1] + p.slopeY * m.eta[1], p.slopeX * m.xi[2] + p.slopeY * m.eta[2])
        }
        var out = chips.indices.map { ChipSky(sky: nil, island: island[groupOf[$0]], slope: slopes[$0]) }
        for id in Set(island) {
            let inIsland = chips.indices.filter { island[groupOf[$0]] == id }
            let reference: Double?
            if o.method == .match {
                let r = inIsland.compactMap { relative[$0] }
                reference = o.matchUp ? r.max() : r.min()
            } else {
                // The lowest sky left once the matched planes are taken out; an unmatched chip keeps its own.
                reference = inIsland.compactMap { k in locals[k].map { $0 - (relative[k] ?? 0) } }.min()
            }
            guard let reference else { continue }
            for k in inIsland {
                if let r = relative[k] { out[k].sky = o.method == .match ? r - reference : r + reference }
                else if o.method == .globalMatch { out[k].sky = reference }
            }
        }
        return (out, reported, overlapPixels)
    }
}
