@testable import AstroAlign
import AstroImage
import AstroTestSupport
import Foundation
import Testing

/// The spline model (`--model spline`): residual surfaces in template coordinates, applied in
/// the right frame. The distorted pairs are PolyTests' (radial and quadratic distortion, 2.4 px
/// at the corners), also rotated by 93° and 183° where spalipy's composition goes wrong.
@Suite struct SplineTests {
    /// spalipy's pull map, L⁻¹(t) − D(t): the spline's correction taken in the wrong frame.
    struct SpalipyPull: PixelMap {
        let map: SplineMap
        func apply(_ x: Double, _ y: Double) -> (x: Double, y: Double) {
            let s = map.linear.inverse!.apply(x, y), d = map.correction(x, y)
            return (s.x - d.x, s.y - d.y)
        }
        func jacobian(_ x: Double, _ y: Double) -> Double { 1 }
    }

    static func options(spline: Int? = nil, poly: Int? = nil, model: TransformModel? = nil) -> RegistrationOptions {
        var o = RegistrationOptions()
        o.model = model
        o.splineOrder = spline
        if let poly { o.polyOrders = poly...poly; o.forcePoly = true }
        return o
    }

    @Test(arguments: [("base", 2.0, 0.02), ("rot90", 93.0, 0.05), ("rot180", 183.0, 0.05)])
    func distortedPairs(_ name: String, _ rotation: Double, _ limit: Double) throws {
        let d = try PolyTests.detections(seed: 7, rotation: rotation)
        func run(_ o: RegistrationOptions) throws -> (Registration, Double) {
            let reg = try Registrar.register(source: d.source, template: d.template, options: o)
            return (reg, PolyTests.rmsVsTruth(reg.pullMap, rotation: rotation))
        }
        let (spline, rms) = try run(Self.options(spline: 3))
        let poly = try run(Self.options(poly: 3)).1, affine = try run(Self.options(model: .affine)).1
        let map = try #require(spline.spline)
        let wrongFrame = PolyTests.rmsVsTruth(SpalipyPull(map: map), rotation: rotation)
        let r = spline.report
        print(String(format: "spline %@: rms vs truth %.4f px (poly3 %.4f, affine %.4f; spalipy's frame %.4f), %@ with %d interior knots, %d/%d matches, fit rms %.4f px, max correction %.3f px",
                     name, rms, poly, affine, wrongFrame, r.model, r.splineKnots ?? -1, r.used, r.matches, r.rms, r.splineMaxDeviation ?? .nan))
        #expect(r.model == "spline3" && r.splineOrder == 3 && r.spline == map)
        #expect(rms <= limit)
        #expect(affine > 0.2)
        if rotation > 45 { #expect(wrongFrame > 5 * rms) }
        // The push map inverts the pull map, and the statistics come from it.
        let s = map.apply(150, 220), t = map.push(s.x, s.y)
        #expect(abs(t.x - 150) < 1e-8 && abs(t.y - 220) < 1e-8)
        #expect(r.rms < 0.2 && r.used >= 80)
    }

    @Test func undistortedPairIsNotDegraded() throws {
        let truth = RegistrationTests.truth(rotation: 3.5)
        let (affine, rmsAffine) = try RegistrationTests.register(truth, stars: 300, seed: 9, options: Self.options(model: .affine))
        let (spline, _) = try RegistrationTests.register(truth, stars: 300, seed: 9, options: Self.options(spline: 3))
        let rms = RegistrationTests.rmsVsTruth(spline.pullMap, truth)
        print(String(format: "spline on an undistorted pair: rms vs truth %.4f px (affine %.4f), %d interior knots, max correction %.4f px",
                     rms, rmsAffine, spline.report.splineKnots ?? -1, spline.report.splineMaxDeviation ?? .nan))
        #expect(affine.spline == nil && spline.spline != nil)
        // BIC finds nothing for the patch to correct: the spline leaves the linear fit alone.
        #expect(spline.report.splineMaxDeviation == 0)
        #expect(rms <= rmsAffine + 0.01)
    }

    /// A wavy distortion no single bicubic patch follows (RMS residual > 1 px per axis): knots
    /// are added until the residuals are below the smoothing; a huge smoothing keeps one patch.
    @Test func knotsOnlyWhereThePatchFallsShort() throws {
        func wave(_ x: Double, _ y: Double) -> (x: Double, y: Double) {
            let u = x / 1023, v = y / 1023
            return (x + 4 * sin(3 * .pi * u) * cos(2 * .pi * v), y + 3 * cos(3 * .pi * v) * sin(.pi * u))
        }
        var rng = SeededGenerator(seed: 5)
        var pairs = PointPairs()
        for _ in 0..<1500 {
            let x = Double.random(in: 0...1023, using: &rng), y = Double.random(in: 0...1023, using: &rng)
            let s = wave(x, y)
            pairs.append(sx: s.x + 0.02 * rng.gaussian(), sy: s.y + 0.02 * rng.gaussian(), tx: x, ty: y, sigma: 0.02)
        }
        let box = (x0: 0.0, x1: 1023.0, y0: 0.0, y1: 1023.0)
        func rms(_ m: SplineMap) -> Double {
            var sum = 0.0
            for j in 0...20 {
                for i in 0...20 {
                    let t = (x: Double(i) * 1023 / 20, y: Double(j) * 1023 / 20), p = m.apply(t.x, t.y), q = wave(t.x, t.y)
                    sum += (p.x - q.x) * (p.x - q.x) + (p.y - q.y) * (p.y - q.y)
                }
            }
            return (sum / 441).squareRoot()
        }
        let patch = try #require(SplineFit.choose(3, pairs, linear: .identity, box: box, clip: 3.5, smoothing: 100))
        let grid = try #require(SplineFit.choose(3, pairs, linear: .identity, box: box, clip: 3.5, smoothing: 1))
        let fine = try #require(SplineFit.choose(3, pairs, linear: .identity, box: box, clip: 3.5, smoothing: 0.05))
        print(String(format: "spline knots: one patch %.3f px vs truth; smoothing 1 px: %d interior knots, %.3f px; 0.05 px: %d, %.4f px",
                     rms(patch.map), grid.interior, rms(grid.map), fine.interior, rms(fine.map)))
        #expect(patch.interior == 0 && grid.interior >= 1 && fine.interior > grid.interior)
        // The truth RMS is over both axes; the smoothing is per axis.
        #expect(rms(patch.map) / 2.0.squareRoot() > 1 && rms(grid.map) / 2.0.squareRoot() < 1.1 && rms(fine.map) < 0.2)
    }

    @Test func tooFewMatchesForASpline() throws {
        let truth = RegistrationTests.truth(rotation: 30)
        #expect { try RegistrationTests.register(truth, stars: 25, seed: 4, options: Self.options(spline: 3)) } throws: { error in
            let e = error as! AstroError
            return e.kind == .badData && e.reason.contains("too few matched stars for a spline3 fit")
        }
    }

    /// B-splines of every degree: a partition of unity, derivatives that match differences,
    /// polynomials of the degree reproduced exactly (beyond the box too), a row as its points.
    @Test(arguments: 1...5)
    func splineAlgebra(_ k: Int) throws {
        let t = SplineMap.knots(from: 10, to: 90, interior: 2, degree: k)
        #expect(t.count == 2 * (k + 1) + 2)
        for x in stride(from: 0.0, through: 100, by: 7.3) {
            let b = SplineMap.basis(t, degree: k, at: x), h = 1e-5
            let up = SplineMap.basis(t, degree: k, at: x + h), down = SplineMap.basis(t, degree: k, at: x - h)
            let sum: Double = (0...k).map { b.value[$0] }.reduce(0, +)
            #expect(abs(sum - 1) < 1e-12)
            if up.span == b.span && down.span == b.span {
                for r in 0...k { #expect(abs((up.value[r] - down.value[r]) / (2 * h) - b.slope[r]) < 1e-6) }
            }
        }
        // D = (x − 50)^k/40^k + (y − 50)/40 on (x, y), fitted from exact pairs under the identity.
        var pairs = PointPairs()
        for j in 0..<12 {
            for i in 0..<12 {
                let x = 12 + 6.5 * Double(i), y = 11 + 7 * Double(j)
                let u = (x - 50) / 40, v = (y - 50) / 40
                let dx: Double = pow(u, Double(k)) + v, dy: Double = 0.3 * u * pow(v, Double(k - 1))
                pairs.append(sx: x - dx, sy: y - dy, tx: x, ty: y, sigma: 0.01)
            }
        }
        let box = (x0: 10.0, x1: 90.0, y0: 10.0, y1: 90.0)
        let m = try #require(SplineFit.fit(k, interior: 1, pairs, linear: .identity, use: [Bool](repeating: true, count: pairs.count), box: box))
        for (x, y) in [(30.0, 40.0), (5.0, 95.0), (100.0, 0.0)] {
            let d = m.correction(x, y)
            let u = (x - 50) / 40, v = (y - 50) / 40
            let ex: Double = pow(u, Double(k)) + v, ey: Double = 0.3 * u * pow(v, Double(k - 1))
            #expect(abs(d.x - ex) < 1e-8 && abs(d.y - ey) < 1e-8)
        }
        var xs = [Double](repeating: 0, count: 100), ys = xs
        m.applyRow(37, count: 100, xs: &xs, ys: &ys)
        for x in [0, 13, 55, 99] {
            let p = m.apply(Double(x), 37)
            #expect(abs(xs[x] - p.x) < 1e-10 && abs(ys[x] - p.y) < 1e-10)
        }
        // The Jacobian of the pull map against differences.
        let e = 1e-4, a = m.apply(40, 60), bx = m.apply(40 + e, 60), by = m.apply(40, 60 + e)
        let det = ((bx.x - a.x) * (by.y - a.y) - (by.x - a.x) * (bx.y - a.y)) / (e * e)
        #expect(abs(det - m.jacobian(40, 60)) < 1e-5)
    }
}
