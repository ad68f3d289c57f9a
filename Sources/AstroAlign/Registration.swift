import AstroImage
import Foundation

/// How detections are selected, matched and fitted (docs/align.md lists each with its default).
public struct RegistrationOptions: Sendable {
    /// `nil`: choose among shift, similarity and affine by BIC; else that model.
    public var model: TransformModel?
    /// Cross-match radius in template pixels.
    public var maxMatchDist = 3.0
    /// Matches required; nil adapts to the detections: a fifth of the smaller list, 5 to 20.
    public var minNMatch: Int?
    /// Cap on detections per image after filtering: a count (≥ 1) or a fraction (0, 1); nil: all.
    public var nDet: Double?
    /// Initial matching: astroalign's triangles or spalipy's quads.
    public var matching = InitialMatching.triangles
    /// Brightest detections per image that form triangles, or per sub-tile that form quads
    /// (`--n-quad-det`); nil: 40 for triangles, 20 for quads (spalipy's).
    public var nControl: Int?
    /// `--match quads` settings.
    public var quads = QuadOptions()
    /// Drop both members of pairs closer than this (px); 0: keep all.
    public var minSep = 0.0
    /// Drop detections narrower than this FWHM (px): hot pixels and cosmic rays. An unknown
    /// FWHM (a catalogue without FWHM_IMAGE) passes.
    public var minFWHM = 1.0
    /// Drop detections with any of these flag bits.
    public var badFlagBits = 0
    /// Mirror parity: nil tries both, false only proper, true only mirrored.
    public var flip: Bool?
    /// Outlier rejection threshold on the normalised residual, in robust σ.
    public var clipSigma = 3.5
    /// Polynomial distortion orders to consider after the linear fit (chosen by BIC with the
    /// linear models, each needing 2·(k+1)(k+2) matches); nil: linear models only.
    public var polyOrders: ClosedRange<Int>?
    /// Use the highest polynomial order of `polyOrders` (`--model poly`), not BIC.
    public var forcePoly = false
    /// Degree (1…5) of the residual spline surfaces fitted after the linear model (`--model
    /// spline`, docs/align.md); nil: none. Takes the place of `polyOrders`.
    public var splineOrder: Int?
    /// RMS residual per axis (px) below which the spline stays one patch, without interior knots
    /// (spalipy's smoothing s = number of points, with unit weights: 1 px).
    public var splineSmoothing = 1.0

    public init() {}
}

/// Residual statistics and the fitted transform, as `--json` and `--transform` give them.
public struct RegistrationReport: Sendable, Encodable {
    public var sourceDetections: Int
    public var templateDetections: Int
    /// Left after the FWHM, flag, separation and count filters.
    public var sourceUsed: Int
    public var templateUsed: Int
    public var matching = "triangles"
    public var hypotheses: Int
    /// Source stars the winning hypothesis brought within `maxMatchDist` of a template star.
    public var initialMatches: Int
    public var parity: String
    public var model: String
    /// The polynomial's order when the model is one (`poly3`…), and how far it departs from
    /// its own best affine over the source frame (px).
    public var polyOrder: Int?
    public var polyMaxDeviation: Double?
    /// The spline's degree when the model is one (`spline3`…), its interior knots per axis,
    /// and the largest correction it applies to the linear part over its box (px).
    public var splineOrder: Int?
    public var splineKnots: Int?
    public var splineMaxDeviation: Double?
    public var matches: Int
    /// Matches kept by the clipping, which the transform was fitted to.
    public var used: Int
    /// Over the kept matches, in template pixels: RMS of |template − P(source)|, the robust
    /// equivalent from 1.4826·MAD per axis, mean/median/std per axis, the 90th percentile.
    public var rms: Double
    public var robustRMS: Double
    public var meanDx: Double, meanDy: Double
    public var medianDx: Double, medianDy: Double
    public var stdDx: Double, stdDy: Double
    public var p90: Double
    /// Median normalised residual over its expectation: ≈ 1 when the position errors are right.
    public var chiScale: Double
    public var scaleX: Double, scaleY: Double
    /// Degrees, counter-clockwise (x towards y), of the source x axis on the template.
    public var rotation: Double
    public var shear: Double
    /// Template pixel where the source's pixel (0, 0) lands.
    public var shiftX: Double, shiftY: Double
    /// Source → template ("push") and template → source ("pull"), 0-based pixels:
    /// x' = a·x + b·y + c, y' = d·x + e·y + f (the best linear fit when the model is a polynomial).
    public var push: AffineMap
    public var pull: AffineMap
    /// The polynomial maps when the model is one (pull fitted directly, not inverted).
    public var pushPoly: PolyMap?
    public var pullPoly: PolyMap?
    /// The spline model when it is one: knots, coefficients and its linear part.
    public var spline: SplineMap?
}

/// The outcome of registering one detection list onto another.
public struct Registration: Sendable {
    public var push: AffineMap
    public var pull: AffineMap
    public var model: TransformModel
    /// Set when a polynomial distortion model won: then these are the maps to use.
    public var pushPoly: PolyMap?
    public var pullPoly: PolyMap?
    /// Set when the model is a spline (`--model spline`): its pull map is the one to use.
    public var spline: SplineMap?
    public var report: RegistrationReport

    /// The pull map to resample with: the spline or polynomial when there is one.
    public var pullMap: any PixelMap {
        if let spline { return spline }
        return pullPoly ?? pull
    }

    /// The push map (source pixel → template pixel) of the same model.
    public var pushMap: any PixelMap { spline?.pushMap ?? pushPoly ?? push }
}

/// Detections of a source → the transform onto a template's pixels: filter, triangle (or quad)
/// hypotheses scored by catalogue cross-matches, then rounds of guarded mutual matching and a
/// weighted, clipped fit with a shrinking radius; a polynomial or spline stage on top.
public enum Registrar {
    /// - Throws: `.badData` (without a file: the caller names it) when either list has fewer
    ///   than 3 usable detections, no hypothesis reaches the required matches (quads: no code
    ///   close enough), too few matches remain for any model, or the spline surface is not
    ///   constrained by the matched stars.
    /// - Parameters:
    ///   - sourceFrame, templateFrame: the images' sizes, which quads' sub-tiles and edge buffer
    ///     refer to (nil: the extent of the detections).
    public static func register(source: [Detection], template: [Detection], options o: RegistrationOptions,
                                sourceFrame: PixelFrame? = nil, templateFrame: PixelFrame? = nil) throws -> Registration {
        let src = select(source, o), tpl = select(template, o)
        func fail(_ reason: String) -> AstroError { AstroError(.badData, operation: "registering", reason: reason) }
        guard src.count >= 3, tpl.count >= 3 else {
            throw fail("too few usable stars: \(src.count) in the source, \(tpl.count) in the template (need 3 in each)")
        }
        let minMatches = o.minNMatch ?? min(20, max(5, min(src.count, tpl.count) / 5))
        let tIndex = PointIndex(xs: tpl.map(\.x), ys: tpl.map(\.y), cell: o.maxMatchDist)

        // 1. The starting transform: triangles or quads (InitialMatch.swift), scored by cross-matches.
        let start = try initialMatch(src: src, tpl: tpl, tIndex: tIndex, minMatches: minMatches,
                                     frames: (sourceFrame, templateFrame), options: o)

        // 2. Match, fit, re-match with the fitted transform and a radius that follows its residuals.
        let candidates = o.model.map { [$0] } ?? TransformModel.allCases
        var transform = start.transform
        var radius = o.maxMatchDist
        var result: (model: TransformModel, transform: AffineMap, used: [Bool], scale: Double)?
        var pairs = PointPairs(), lastMatched: [Int] = []
        for _ in 0..<4 {
            let (p, key) = matched(src, tpl, tIndex, through: transform, radius: radius)
            guard p.count >= minMatches else { break }
            guard let fit = TransformFit.choose(candidates, parity: start.parity, p, clip: o.clipSigma) else { break }
            result = fit
            pairs = p
            transform = fit.transform
            if key == lastMatched { break }
            lastMatched = key
            let rms = rmsOf(p.residuals(fit.transform), fit.used)
            radius = min(o.maxMatchDist, max(5 * rms, 1))
        }
        guard let fit = result else {
            let need = candidates.map(\.minimumMatches).min() ?? 6
            throw fail("too few matched stars for a \(o.model?.rawValue ?? "transform") fit (need \(max(need, minMatches))); detections: source \(src.count), template \(tpl.count)")
        }
        guard let pull = fit.transform.inverse else { throw fail("the fitted transform is singular") }
        let counts = (source.count, template.count, src.count, tpl.count)
        if let degree = o.splineOrder {
            let s = try spline(degree, src: src, tpl: tpl, tIndex: tIndex, pairs: pairs, linear: fit.transform, minMatches: minMatches, options: o)
            var report = makeReport((fit.model, fit.transform, s.used, s.scale), pairs: s.pairs, pull: pull, parity: start.parity,
                                    counts: counts, hypotheses: start.hypotheses, initial: start.count, predict: s.map.pushMap)
            report.matching = start.method.rawValue
            report.describe(s.map, interior: s.interior)
            return Registration(push: fit.transform, pull: pull, model: fit.model, spline: s.map, report: report)
        }
        if let orders = o.polyOrders,
           let poly = try polynomial(orders, src: src, tpl: tpl, tIndex: tIndex, pairs: pairs, linear: fit.model,
                                     parity: start.parity, candidates: candidates, minMatches: minMatches, options: o) {
            var report = makeReport((fit.model, fit.transform, poly.used, poly.scale), pairs: poly.pairs, pull: pull,
                                    parity: start.parity, counts: counts, hypotheses: start.hypotheses, initial: start.count,
                                    predict: poly.push)
            report.matching = start.method.rawValue
            report.model = "poly\(poly.push.order)"
            report.polyOrder = poly.push.order
            report.pushPoly = poly.push
            report.pullPoly = poly.pull
            let sx = src.map(\.x), sy = src.map(\.y)
            let box = (width: Int((sx.max() ?? 0).rounded(.up)) + 1, height: Int((sy.max() ?? 0).rounded(.up)) + 1)
            report.polyMaxDeviation = poly.push.maxDeviation(from: fit.transform, width: box.width, height: box.height)
            return Registration(push: fit.transform, pull: pull, model: fit.model, pushPoly: poly.push, pullPoly: poly.pull,
                                report: report)
        }
        var report = makeReport(fit, pairs: pairs, pull: pull, parity: start.parity, counts: counts,
                                hypotheses: start.hypotheses, initial: start.count, predict: fit.transform)
        report.matching = start.method.rawValue
        return Registration(push: fit.transform, pull: pull, model: fit.model, report: report)
    }

    /// The polynomial stage, in the direction the warp follows (template → source, the pull
    /// map): on the linear fit's matches the richest usable order is fitted with clipping on
    /// studentized residuals (`PolyFit.robust`); on its kept pairs every usable order and
    /// (unless forced) every linear candidate is scored by BIC, χ²/scale² + k·ln n. The order
    /// that wins is fitted again with its own clipping, and the push map (source → template,
    /// for matching and the statistics) fitted to the same pairs. When a polynomial wins, the
    /// source is matched again through it (radius from its residuals) and the choice repeated,
    /// up to three rounds or until the matches are stable. nil when a linear model wins.
    /// - Throws: `.badData` when `forcePoly` and no order has enough matches.
    private static func polynomial(_ orders: ClosedRange<Int>, src: [Detection], tpl: [Detection], tIndex: PointIndex,
                                   pairs start: PointPairs, linear: TransformModel, parity: Int,
                                   candidates: [TransformModel], minMatches: Int, options o: RegistrationOptions) throws
        -> (push: PolyMap, pull: PolyMap, used: [Bool], scale: Double, pairs: PointPairs)? {
        let sx = src.map(\.x), sy = src.map(\.y), tx = tpl.map(\.x), ty = tpl.map(\.y)
        func frame(_ xs: [Double], _ ys: [Double]) -> (centre: (Double, Double), scale: Double) {
            let x0 = xs.min() ?? 0, x1 = xs.max() ?? 1, y0 = ys.min() ?? 0, y1 = ys.max() ?? 1
            return (((x0 + x1) / 2, (y0 + y1) / 2), max(x1 - x0, y1 - y0, 2) / 2)
        }
        let sf = frame(sx, sy), tf = frame(tx, ty)
        var pairs = start
        var chosen: (push: PolyMap, pull: PolyMap, used: [Bool], scale: Double, pairs: PointPairs)?
        var lastKey: [Int] = []
        for _ in 0..<3 {
            let usable = orders.filter { pairs.count >= 2 * PolyMap.parameters($0) }
            let back = pairs.swapped, all = [Bool](repeating: true, count: pairs.count)
            func robust(_ k: Int) -> (map: PolyMap, used: [Bool], scale: Double)? {
                PolyFit.robust(k, back, start: all, clip: o.clipSigma, centre: tf.centre, scale: tf.scale)
            }
            guard let top = usable.max(), let base = robust(top) else {
                if o.forcePoly && chosen == nil {
                    let k = orders.upperBound
                    throw AstroError(.badData, operation: "registering",
                                     reason: "too few matched stars for a poly\(k) fit: \(pairs.count) (need \(2 * PolyMap.parameters(k)))")
                }
                break
            }
            func bic(_ map: some PixelMap, _ k: Int) -> Double {
                RobustFit.bic(back.residuals(map), sigma: back.sigma, used: base.used, scale: base.scale, parameters: k)
            }
            var scores: [(bic: Double, order: Int?)] = []
            if !o.forcePoly {
                for m in candidates where pairs.count >= m.minimumMatches && !(m == .shift && parity < 0) {
                    guard let t = TransformFit.fit(m, parity: parity, back, use: base.used) else { continue }
                    scores.append((bic(t, m.parameters), nil))
                }
                for k in usable where k < top {
                    guard let m = PolyFit.fit(k, back, use: base.used, centre: tf.centre, scale: tf.scale) else { continue }
                    scores.append((bic(m, PolyMap.parameters(k)), k))
                }
            }
            scores.append((bic(base.map, PolyMap.parameters(top)), top))
            guard let order = scores.min(by: { $0.bic < $1.bic })?.order, let fit = order == top ? base : robust(order),
                  let push = PolyFit.fit(order, pairs, use: fit.used, centre: sf.centre, scale: sf.scale) else { break }
            chosen = (push, fit.map, fit.used, fit.scale, pairs)
            // Match again through the polynomial.
            let radius = min(o.maxMatchDist, max(5 * rmsOf(pairs.residuals(push), fit.used), 1))
            let (next, key) = matched(src, tpl, tIndex, through: push, radius: radius)
            guard next.count >= minMatches, key != lastKey else { break }
            lastKey = key
            pairs = next
        }
        return chosen
    }

    /// The detections matching uses, brightest first: FWHM and flag cuts, the close-pair cut,
    /// then the count cap.
    static func select(_ list: [Detection], _ o: RegistrationOptions) -> [Detection] {
        var kept = list.filter { !($0.fwhm < o.minFWHM) && ($0.flags & o.badFlagBits) == 0 && $0.x.isFinite && $0.y.isFinite }
        kept.sort { $0.flux > $1.flux }
        if o.minSep > 0, kept.count > 1 {
            let index = PointIndex(xs: kept.map(\.x), ys: kept.map(\.y), cell: o.minSep)
            kept = kept.filter { d in
                guard let hit = index.nearestTwo(d.x, d.y, radius: o.minSep) else { return true }
                return hit.d2 >= o.minSep   // d1 is the point itself
            }
        }
        if let n = o.nDet {
            let cap = n >= 1 ? Int(n) : Int((n * Double(kept.count)).rounded(.up))
            kept = Array(kept.prefix(max(0, cap)))
        }
        return kept
    }

    static func rmsOf(_ r: [Double], _ used: [Bool]) -> Double {
        let v = r.indices.filter { used[$0] }.map { r[$0] * r[$0] }
        return v.isEmpty ? 0 : (v.reduce(0, +) / Double(v.count)).squareRoot()
    }

    static func makeReport(_ fit: (model: TransformModel, transform: AffineMap, used: [Bool], scale: Double),
                           pairs p: PointPairs, pull: AffineMap, parity: Int,
                           counts: (Int, Int, Int, Int), hypotheses: Int, initial: Int,
                           predict: some PixelMap) -> RegistrationReport {
        let t = fit.transform
        var dx: [Double] = [], dy: [Double] = [], r: [Double] = []
        for i in 0..<p.count where fit.used[i] {
            let q = predict.apply(p.sx[i], p.sy[i])
            dx.append(p.tx[i] - q.x); dy.append(p.ty[i] - q.y)
            r.append((dx.last! * dx.last! + dy.last! * dy.last!).squareRoot())
        }
        func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(max(1, v.count)) }
        func median(_ v: [Double]) -> Double {
            let s = v.sorted()
            return s.isEmpty ? .nan : (s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2)
        }
        func std(_ v: [Double]) -> Double { let m = mean(v); return mean(v.map { ($0 - m) * ($0 - m) }).squareRoot() }
        func madStd(_ v: [Double]) -> Double { let m = median(v); return 1.4826 * median(v.map { abs($0 - m) }) }
        let sorted = r.sorted()
        let dec = t.decomposition
        return RegistrationReport(
            sourceDetections: counts.0, templateDetections: counts.1, sourceUsed: counts.2, templateUsed: counts.3,
            hypotheses: hypotheses, initialMatches: initial, parity: parity < 0 ? "flipped" : "normal",
            model: fit.model.rawValue, matches: p.count, used: r.count,
            rms: mean(r.map { $0 * $0 }).squareRoot(),
            robustRMS: (madStd(dx) * madStd(dx) + madStd(dy) * madStd(dy)).squareRoot(),
            meanDx: mean(dx), meanDy: mean(dy), medianDx: median(dx), medianDy: median(dy), stdDx: std(dx), stdDy: std(dy),
            p90: sorted.isEmpty ? .nan : sorted[min(sorted.count - 1, Int(0.9 * Double(sorted.count)))],
            chiScale: fit.scale, scaleX: dec.scaleX, scaleY: dec.scaleY, rotation: dec.rotation, shear: dec.shear,
            shiftX: t.c, shiftY: t.f, push: t, pull: pull)
    }
}
