@testable import AstroAlign
import AstroImage
import AstroTestSupport
import Foundation
import Testing

/// Registration of synthetic pairs with a known template → source map.
@Suite struct RegistrationTests {
    static let size = 400

    /// Template → source: s = c + k·R(θ)·F·(t − c) + shift (F mirrors x when `flip`).
    static func truth(rotation: Double, scale: Double = 1.012, flip: Bool = false,
                      shift: (Double, Double) = (9.2, -6.8)) -> AffineMap {
        let c = Double(size - 1) / 2
        let m = AffineMap.similarity(scale: scale, rotation: rotation, flip: flip)
        let centred = AffineMap(a: 1, b: 0, c: -c, d: 0, e: 1, f: -c)
        return AffineMap(a: 1, b: 0, c: c + shift.0, d: 0, e: 1, f: c + shift.1).composed(after: m.composed(after: centred))
    }

    /// RMS over a 21×21 grid of template pixels that land inside the source of |pull − truth|.
    static func rmsVsTruth(_ pull: some PixelMap, _ truth: AffineMap) -> Double {
        var sum = 0.0, n = 0
        for j in 0...20 {
            for i in 0...20 {
                let step = Double(size - 1) / 20, edge = Double(size - 1)
                let tx = Double(i) * step, ty = Double(j) * step
                let s = truth.apply(tx, ty)
                guard s.x >= 0, s.y >= 0, s.x <= edge, s.y <= edge else { continue }
                let q = pull.apply(tx, ty)
                let dx = q.x - s.x, dy = q.y - s.y
                sum += dx * dx + dy * dy
                n += 1
            }
        }
        return (sum / Double(max(n, 1))).squareRoot()
    }

    static func register(_ truth: AffineMap, stars: Int = 150, seed: UInt64 = 1,
                         options: RegistrationOptions = RegistrationOptions()) throws -> (Registration, Double) {
        let pair = SyntheticStars.pair(width: size, height: size, stars: stars, seed: seed) { x, y in
            let p = truth.apply(x, y); return (p.x, p.y)
        }
        let template = try Detector.detect(Image(width: size, height: size, pixels: pair.template))
        let source = try Detector.detect(Image(width: size, height: size, pixels: pair.source))
        let reg = try Registrar.register(source: source, template: template, options: options)
        return (reg, rmsVsTruth(reg.pull, truth))
    }

    @Test(arguments: [("base", 3.5, false), ("rot90", 93.0, false), ("rot180", 183.0, false), ("flip", 3.5, true)])
    func recoversTheTransform(_ name: String, _ rotation: Double, _ flip: Bool) throws {
        let truth = Self.truth(rotation: rotation, flip: flip)
        let (reg, rms) = try Self.register(truth)
        let r = reg.report
        print("registration \(name): rms vs truth \(rms) px; model \(r.model), \(r.used)/\(r.matches) matches, fit rms \(r.rms), robust \(r.robustRMS), chi scale \(r.chiScale)")
        #expect(rms <= 0.05)
        #expect(r.parity == (flip ? "flipped" : "normal"))
        // The push map is the truth's inverse: rotation and scale read back.
        #expect(abs(r.scaleX - 1 / 1.012) < 0.002 && abs(r.scaleY - 1 / 1.012) < 0.002)
        var expected = -rotation
        if flip { expected = rotation }
        let dr: Double = abs((r.rotation - expected).truncatingRemainder(dividingBy: 360))
        #expect(min(dr, abs(dr - 360)) < 0.1, "rotation \(r.rotation), expected \(expected)")
        #expect(r.used >= 30)
    }

    @Test func forcedModelsAndParity() throws {
        let truth = Self.truth(rotation: 0, scale: 1, shift: (12.4, -3.3))
        var o = RegistrationOptions()
        o.model = .shift
        let (reg, rms) = try Self.register(truth, seed: 3, options: o)
        print("registration shift-only: rms vs truth \(rms) px")
        #expect(reg.model == .shift && rms <= 0.05)
        o.model = .similarity
        o.flip = true
        // A mirrored parity cannot explain an unmirrored pair.
        #expect(throws: AstroError.self) { try Self.register(truth, seed: 3, options: o) }
    }

    @Test func fewStars() throws {
        let truth = Self.truth(rotation: 30)
        let (reg, rms) = try Self.register(truth, stars: 25, seed: 4)
        print("registration with 25 stars in the field: rms vs truth \(rms) px, \(reg.report.used) matches, model \(reg.report.model)")
        #expect(rms <= 0.1)
        #expect { try Self.register(truth, stars: 2, seed: 4) } throws: { error in
            (error as! AstroError).kind == .badData
        }
    }

    @Test func transformAlgebra() {
        let t = AffineMap.similarity(scale: 1.5, rotation: 30, flip: true, shiftX: 3, shiftY: -2)
        let back = t.inverse!.composed(after: t)
        #expect(abs(back.a - 1) < 1e-12 && abs(back.b) < 1e-12 && abs(back.c) < 1e-12 && abs(back.e - 1) < 1e-12)
        let d = t.decomposition
        #expect(d.parity == -1 && abs(d.scaleX - 1.5) < 1e-12 && abs(d.scaleY - 1.5) < 1e-12 && abs(d.rotation - 30) < 1e-9 && abs(d.shear) < 1e-9)
    }
}

/// Predictions without a position (a spline pushed far beyond its stars' box gives NaN) or far
/// off every grid are skipped by the cross-match, never trapped on.
@Suite struct CrossMatchEdgeTests {
    @Test func nonFiniteAndFarPredictionsAreSkipped() {
        let template = PointIndex(xs: [10, 50, 90, .nan], ys: [10, 50, 90, 5], cell: 3)
        #expect(template.nearestTwo(.nan, 10, radius: 6) == nil)
        #expect(template.nearestTwo(1e300, -1e300, radius: 6) == nil)
        #expect(template.nearestTwo(50.5, 50, radius: 6)?.index == 1)
        let pairs = CrossMatch.pairs(px: [.nan, 10.2, 1e30, 90], py: [50, 10.1, 1e30, .infinity], template: template, radius: 3)
        #expect(pairs.map(\.0) == [1] && pairs.map(\.1) == [0])
    }
}
