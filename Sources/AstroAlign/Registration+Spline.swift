import AstroImage
import Foundation

extension Registrar {
    /// The least position error (px) of a pair with a saturated or truncated star: a faint
    /// star's, so a centroid biased by more than ~0.35 px is clipped.
    static let biasedError = 0.1

    /// The source stars matched again through `push` within `radius` (guarded, mutual), and a
    /// key of the (source, template) indices that tells whether the matches changed. A pair
    /// with a star flagged saturated or truncated by the frame's edge, whose centroid may be
    /// biased while its error says 0.005 px, gets a position error of at least `biasedError`:
    /// no heavier weight than a faint star's (spec §4.6 would drop it; it stays for sparse
    /// fields, where the linear models need every match).
    static func matched(_ src: [Detection], _ tpl: [Detection], _ tIndex: PointIndex, through push: some PixelMap,
                        radius: Double) -> (pairs: PointPairs, key: [Int]) {
        let predicted = src.map { push.apply($0.x, $0.y) }
        let matched = CrossMatch.pairs(px: predicted.map(\.x), py: predicted.map(\.y), template: tIndex, radius: radius)
        var pairs = PointPairs()
        for (i, j) in matched { pairs.append(src[i], tpl[j]) }
        return (pairs, matched.map { $0.0 * tpl.count + $0.1 })
    }

    /// The spline stage (`--model spline`): on the linear fit's matches, residual surfaces of
    /// `degree` in template coordinates over the box of the template's stars, weighted and
    /// clipped, interior knots only while the residuals exceed the smoothing (`SplineFit.choose`); then the source is
    /// matched again through the full model (radius min(maxMatchDist, max(5·rms, 1 px)), which
    /// spalipy never does) and the surfaces refitted, up to three rounds or until the matches
    /// are stable. The linear part stays the linear fit's.
    /// - Throws: `.badData` when too few pairs support even a single patch, 2·(degree + 1)².
    static func spline(_ degree: Int, src: [Detection], tpl: [Detection], tIndex: PointIndex, pairs start: PointPairs,
                       linear: AffineMap, minMatches: Int, options o: RegistrationOptions) throws
        -> (map: SplineMap, interior: Int, used: [Bool], scale: Double, pairs: PointPairs) {
        let xs = tpl.map(\.x), ys = tpl.map(\.y)
        var box = (x0: xs.min() ?? 0, x1: xs.max() ?? 1, y0: ys.min() ?? 0, y1: ys.max() ?? 1)
        if box.x1 - box.x0 < 2 { box.x0 -= 1; box.x1 += 1 }
        if box.y1 - box.y0 < 2 { box.y0 -= 1; box.y1 += 1 }
        var pairs = start, lastKey: [Int] = []
        var chosen: (map: SplineMap, interior: Int, used: [Bool], scale: Double, pairs: PointPairs)?
        for _ in 0..<3 {
            guard let fit = SplineFit.choose(degree, pairs, linear: linear, box: box, clip: o.clipSigma, smoothing: o.splineSmoothing) else { break }
            chosen = (fit.map, fit.interior, fit.used, fit.scale, pairs)
            let rms = rmsOf(SplineFit.residuals(fit.map, pairs), fit.used)
            let (next, key) = matched(src, tpl, tIndex, through: fit.map.pushMap, radius: min(o.maxMatchDist, max(5 * rms, 1)))
            guard next.count >= minMatches, key != lastKey else { break }
            lastKey = key
            pairs = next
        }
        guard let chosen else {
            let need = SplineFit.parameters(degree, 0)
            throw AstroError(.badData, operation: "registering", reason: pairs.count < need
                ? "too few matched stars for a spline\(degree) fit: \(pairs.count) (need \(need))"
                : "the \(pairs.count) matched stars do not constrain a degree-\(degree) spline surface (on a line, or clustered): use --model poly or a lower --spline-order")
        }
        return chosen
    }
}

extension RegistrationReport {
    /// The model named `splineK`, with its knots, largest correction and coefficients.
    mutating func describe(_ spline: SplineMap, interior: Int) {
        model = "spline\(spline.degree)"
        splineOrder = spline.degree
        splineKnots = interior
        splineMaxDeviation = spline.maxCorrection
        self.spline = spline
    }
}
