import AstroImage
import Foundation

/// The transform a registration starts from and how it was found.
struct InitialMatch {
    var transform: AffineMap
    var parity: Int
    /// Source stars it brings within the match radius of a template star.
    var count: Int
    /// Proposals scored: triangle hypotheses or quad candidates.
    var hypotheses: Int
    var method: InitialMatching
}

extension Registrar {
    /// The blind initial match `o.matching` names, every proposal scored by how many source
    /// stars it lands within `maxMatchDist` of a template star.
    /// - Parameter frames: the images' sizes, for quads' sub-tiles and edge buffer (nil: the
    ///   extent of the detections).
    /// - Throws: `.badData` when no proposal reaches `minMatches` (`no consistent transform`),
    ///   or no quad can be formed (`too sparse for quads`).
    static func initialMatch(src: [Detection], tpl: [Detection], tIndex: PointIndex, minMatches: Int,
                             frames: (source: PixelFrame?, template: PixelFrame?), options o: RegistrationOptions) throws -> InitialMatch {
        switch o.matching {
        case .triangles: try triangleMatch(src: src, tpl: tpl, tIndex: tIndex, minMatches: minMatches, options: o)
        case .quads: try quadMatch(src: src, tpl: tpl, tIndex: tIndex, minMatches: minMatches, frames: frames, options: o)
        }
    }

    /// `--match quads`: refuses a detection list (after selection) too sparse to form a single
    /// quad, naming its file; nothing to check for triangles.
    public static func checkQuads(_ list: [Detection], frame: PixelFrame?, side: String, file: String,
                                  options o: RegistrationOptions) throws {
        guard o.matching == .quads else { return }
        let kept = select(list, o)
        let xs = kept.map(\.x), ys = kept.map(\.y)
        if let reason = QuadMatch.sparseReason(xs, ys, frame: frame ?? QuadMatch.extent(xs, ys), n: o.nControl ?? 20,
                                               options: o.quads, side: side) {
            throw AstroError(.badData, file: file, operation: "registering", reason: reason)
        }
    }

    private static func failure(_ reason: String) -> AstroError { AstroError(.badData, operation: "registering", reason: reason) }

    private static func parities(_ o: RegistrationOptions) -> [Int] { o.flip.map { $0 ? [-1] : [1] } ?? [1, -1] }

    /// Triangle hypotheses from the `nControl` (40) brightest stars of each list, tried best
    /// invariant first; the search stops 200 hypotheses after the best once it has enough matches.
    private static func triangleMatch(src: [Detection], tpl: [Detection], tIndex: PointIndex, minMatches: Int,
                                      options o: RegistrationOptions) throws -> InitialMatch {
        let n = o.nControl ?? 40
        let sc = Array(src.prefix(n)), tc = Array(tpl.prefix(n))
        let hyps = TriangleMatch.hypotheses(source: (sc.map(\.x), sc.map(\.y)), template: (tc.map(\.x), tc.map(\.y)), parities: parities(o))
        let scoring = Array(src.prefix(max(3 * n, 150)))
        let scx = scoring.map(\.x), scy = scoring.map(\.y)
        var best: (hyp: TriangleMatch.Hypothesis, count: Int)?
        var sinceBest = 0
        for h in hyps {
            let hits = CrossMatch.count(scx, scy, through: h.transform, in: tIndex, radius: o.maxMatchDist)
            if hits > (best?.count ?? 0) { best = (h, hits); sinceBest = 0 } else { sinceBest += 1 }
            if let b = best, b.count >= minMatches, sinceBest >= 200 { break }
        }
        guard let start = best, start.count >= min(minMatches, scoring.count) else {
            throw failure("no consistent transform: the best of \(hyps.count) triangle hypotheses matched \(best?.count ?? 0) stars (need \(minMatches)); detections: source \(src.count), template \(tpl.count)")
        }
        return InitialMatch(transform: start.hyp.transform, parity: start.hyp.parity, count: start.count,
                            hypotheses: hyps.count, method: .triangles)
    }

    /// spalipy's quads (QuadMatch): per source sub-tile, the quads of its `nControl` (20)
    /// brightest stars; each quad's nearest template code (template quads of every tile pooled);
    /// up to `maxCandidates` quads with a code within `maxHashDistance`, nearest first, each
    /// giving the exact similarity of its A, B pair, refitted once on the tile's matches and
    /// scored by the tile's stars it matches; `patience` candidates in a row without more
    /// matches end the tile. The tiles' matches are pooled into one clipped similarity. With
    /// `flip` auto both parities are tried (the source mirrored for −1) and the one matching
    /// more stars kept.
    private static func quadMatch(src: [Detection], tpl: [Detection], tIndex: PointIndex, minMatches: Int,
                                  frames: (source: PixelFrame?, template: PixelFrame?), options o: RegistrationOptions) throws -> InitialMatch {
        let q = o.quads, n = o.nControl ?? 20
        let sx = src.map(\.x), sy = src.map(\.y), tx = tpl.map(\.x), ty = tpl.map(\.y)
        let sFrame = frames.source ?? QuadMatch.extent(sx, sy), tFrame = frames.template ?? QuadMatch.extent(tx, ty)
        // Which template tile a source tile overlaps is unknown: the template's quads are pooled.
        let tQuads = QuadMatch.tileQuads(tx, ty, tiles: QuadMatch.tiles(tx, ty, frame: tFrame, count: q.subTile),
                                         frame: tFrame, n: n, options: q).flatMap { $0 }
        guard !tQuads.isEmpty else {
            throw failure(QuadMatch.sparseReason(tx, ty, frame: tFrame, n: n, options: q, side: "template") ?? "no template quad")
        }
        let index = QuadMatch.CodeIndex(tQuads.map(\.code), radius: q.maxHashDistance)
        let sTiles = QuadMatch.tiles(sx, sy, frame: sFrame, count: q.subTile)
        // Tiles and the edge buffer are decided on the unmirrored positions.
        let sStars = sTiles.map { QuadMatch.quadStars($0, sx, sy, frame: sFrame, buffer: q.edgeBuffer, n: n) }

        /// Matched pairs of the `members` through `t`, weighted by their position errors.
        func matchedPairs(_ members: [Int], _ t: AffineMap) -> (pairs: PointPairs, template: [Int]) {
            let predicted = members.map { t.apply(sx[$0], sy[$0]) }
            var p = PointPairs(), js: [Int] = []
            for (i, j) in CrossMatch.pairs(px: predicted.map(\.x), py: predicted.map(\.y), template: tIndex, radius: o.maxMatchDist) {
                p.append(src[members[i]], tpl[j])
                js.append(j)
            }
            return (p, js)
        }

        var best: InitialMatch?
        var hypotheses = 0, sourceQuads = 0, coded = 0
        for parity in parities(o) {
            let mx = parity < 0 ? sx.map { -$0 } : sx
            let mirror = AffineMap(a: Double(parity), b: 0, c: 0, d: 0, e: 1, f: 0)
            var pooled = PointPairs(), claimed = Set<Int>()
            var bestTile: (transform: AffineMap, count: Int)?
            for (tile, stars) in zip(sTiles, sStars) {
                let quads = QuadMatch.quads(mx, sy, stars, minSeparation: q.minSeparation)
                if parity == parities(o)[0] { sourceQuads += quads.count }   // the same quads, mirrored or not
                let candidates = quads.indices
                    .compactMap { i in index.nearest(quads[i].code).map { (s: i, t: $0.index, d: $0.distance) } }
                    .sorted { ($0.d, $0.s) < ($1.d, $1.s) }
                coded += candidates.count
                let px = tile.map { sx[$0] }, py = tile.map { sy[$0] }
                func score(_ t: AffineMap) -> Int { CrossMatch.count(px, py, through: t, in: tIndex, radius: o.maxMatchDist) }
                var tileBest: (transform: AffineMap, count: Int)?
                var patience = 0
                for c in candidates.prefix(q.maxCandidates) {
                    let s = quads[c.s], t = tQuads[c.t]
                    guard let exact = QuadMatch.similarity(from: (mx[s.a], sy[s.a]), (mx[s.b], sy[s.b]),
                                                           to: (tx[t.a], ty[t.a]), (tx[t.b], ty[t.b])) else { continue }
                    hypotheses += 1
                    // The exact similarity of two stars, then refitted on the tile's matches.
                    var proposal = (transform: exact.composed(after: mirror), count: 0)
                    proposal.count = score(proposal.transform)
                    let m = matchedPairs(tile, proposal.transform).pairs
                    if m.count >= 3, let refit = TransformFit.fit(.similarity, parity: parity, m, use: [Bool](repeating: true, count: m.count)) {
                        let k = score(refit)
                        if k >= proposal.count { proposal = (refit, k) }
                    }
                    if proposal.count > (tileBest?.count ?? 0) { tileBest = proposal; patience = 0 } else { patience += 1 }
                    if patience >= q.patience { break }
                }
                // A true quad matches at least its own four stars.
                guard let tb = tileBest, tb.count >= 4 else { continue }
                let m = matchedPairs(tile, tb.transform)
                for k in 0..<m.pairs.count where claimed.insert(m.template[k]).inserted {
                    pooled.append(sx: m.pairs.sx[k], sy: m.pairs.sy[k], tx: m.pairs.tx[k], ty: m.pairs.ty[k], sigma: m.pairs.sigma[k])
                }
                if tb.count > (bestTile?.count ?? 0) { bestTile = tb }
            }
            guard let bestTile else { continue }
            // One similarity through every tile's matches (spalipy pools them too), clipped so a
            // tile that went wrong does not pull it.
            let global = q.subTile > 1 ? TransformFit.robust(.similarity, parity: parity, pooled, clip: o.clipSigma)?.transform ?? bestTile.transform
                : bestTile.transform
            let count = CrossMatch.count(sx, sy, through: global, in: tIndex, radius: o.maxMatchDist)
            if count > (best?.count ?? 0) { best = InitialMatch(transform: global, parity: parity, count: count, hypotheses: 0, method: .quads) }
        }
        if sourceQuads == 0 {
            throw failure(QuadMatch.sparseReason(sx, sy, frame: sFrame, n: n, options: q, side: "source") ?? "no source quad")
        }
        let counts = "detections: source \(src.count), template \(tpl.count)"
        guard var start = best, start.count >= min(minMatches, src.count) else {
            if coded == 0 {
                throw failure("no consistent transform: no source quad's code within \(String(format: "%g", q.maxHashDistance)) of a template quad's "
                              + "(\(sourceQuads) source quads, \(tQuads.count) template quads; --max-quad-hash-dist); \(counts)")
            }
            throw failure("no consistent transform: the best of \(hypotheses) quad candidates matched \(best?.count ?? 0) stars (need \(minMatches)); \(counts)")
        }
        start.hypotheses = hypotheses
        return start
    }
}
