@testable import AstroDrizzle
import AstroTestSupport
import Foundation
import Testing

/// The outlier step's pieces against stcal 1.20 (testdata/outliers/flags.json, made by
/// scripts/fixtures/outlier_flags.py): flag_resampled_crs's two thresholds and 3×3 smoothing,
/// compute_weight_threshold, and the weight-masked median of jwst's outlier step.
@Suite struct OutlierTests {
    struct Doc: Decodable {
        struct Case: Decodable { var snr: [Double]; var scale: [Double]; var backg: Double; var flags: [Int] }
        var shape: [Int]; var data: [Float]; var err: [Float]; var blot: [Float]; var nan_marker: Float
        var cases: [Case]; var maskpt: Double; var stack: [[Float]]; var weights: [[Float]]
        var thresholds: [Double]; var median: [Float]
    }
    static let doc = try! JSONDecoder().decode(Doc.self, from: Data(contentsOf: URL(fileURLWithPath: TestSupport.path("outliers/flags.json"))))
    static func restore(_ a: [Float]) -> [Float] { a.map { $0 == doc.nan_marker ? .nan : $0 } }

    /// The derivative's inner pixels go eight at a time: on a 21×4 plane holding NaN, ±∞ and
    /// signed zeros, every pixel matches the rule written out (the largest |v − u| over the
    /// finite neighbours u, from +0; NaN where v is not finite), bit for bit.
    @Test func derivativeMatchesTheRule() {
        let (w, h) = (21, 4)
        let a: [Float] = (0..<(w * h)).map { k -> Float in
            switch k % 17 { case 3: return .nan; case 8: return .infinity; case 11: return -.infinity; case 13: return -0.0; case 14: return 0
            default: return Float((k * 37) % 23) * 0.75 - 6 }
        }
        let d = Outliers.absoluteDerivative(a, width: w, height: h)
        for y in 0..<h {
            for x in 0..<w {
                let v = a[y * w + x]
                var m: Float = 0
                for (dx, dy) in [(-1, 0), (1, 0), (0, -1), (0, 1)] where (0..<w).contains(x + dx) && (0..<h).contains(y + dy) {
                    let u = a[(y + dy) * w + x + dx]
                    if u.isFinite { m = max(m, abs(v - u)) }
                }
                let expected: Float = v.isFinite ? m : .nan
                #expect(d[y * w + x].bitPattern == expected.bitPattern, "(\(x), \(y)): \(d[y * w + x]) against \(expected)")
            }
        }
    }

    @Test(arguments: 0..<2)
    func flagsAsStcal(index: Int) {
        let d = Self.doc, c = d.cases[index]
        var o = OutlierOptions()
        o.snr = (c.snr[0], c.snr[1]); o.scale = (c.scale[0], c.scale[1]); o.backg = c.backg
        let noise = Self.restore(d.err).map { $0.isFinite ? $0 : 0 }
        let weights = [Float](repeating: 1, count: noise.count)
        let (flags, count) = Outliers.flag(Self.restore(d.data), noise, Self.restore(d.blot), weights: weights,
                                           width: d.shape[1], height: d.shape[0], o)
        #expect(flags.indices.filter { flags[$0] } == c.flags)
        #expect(count == c.flags.count)
        #expect(c.flags.count >= 10)
    }

    @Test func weightThresholdsAsStcal() {
        for (w, t) in zip(Self.doc.weights, Self.doc.thresholds) {
            #expect(abs(Double(Outliers.weightThreshold(w, maskpt: Self.doc.maskpt)) - t) <= 1e-6 * t)
        }
        #expect(Outliers.weightThreshold([0, 0, .nan], maskpt: 0.7) == .infinity)
    }

    @Test func medianAsJwst() {
        let d = Self.doc
        let singles = zip(d.stack, d.weights).map { (image: Self.restore($0.0), usable: Outliers.usable($0.1, maskpt: d.maskpt)) }
        let median = Outliers.stackMedian(singles, count: d.shape[0] * d.shape[1], nlow: 0, nhigh: 0)
        let expected = Self.restore(d.median)
        #expect(median.indices.allSatisfy { median[$0].isNaN == expected[$0].isNaN })
        let worst = median.indices.filter { median[$0].isFinite }.map { abs(median[$0] - expected[$0]) / abs(expected[$0]) }.max()!
        #expect(worst <= 1e-6)
        #expect(expected.contains { $0.isNaN })
    }

    @Test func nlowAndNhighDropTheExtremes() {
        let one = [UInt8](repeating: 1, count: 1)
        let singles = [Float(1), 2, 3, 100, -50].map { (image: [$0], usable: one) }
        #expect(Outliers.stackMedian(singles, count: 1, nlow: 1, nhigh: 1) == [2])
        #expect(Outliers.stackMedian(singles, count: 1, nlow: 0, nhigh: 2) == [1])
        #expect(Outliers.stackMedian(singles, count: 1, nlow: 3, nhigh: 2)[0].isNaN)
    }

    /// The sixteen-pixel path (every value kept) and the per-pixel path (a value dropped
    /// somewhere in the tile) give each pixel the median of its kept values, with nlow/nhigh.
    @Test func tilesAndSinglePixelsAgree() {
        var rng = SeededGenerator(seed: 1)
        let n = 16 * 40 + 5
        for m in [2, 5, 6, 7] {
            var singles: [(image: [Float], weight: [Float])] = (0..<m).map { _ in
                (image: (0..<n).map { _ in Float(Int.random(in: 0..<50, using: &rng)) / 4 }, weight: [Float](repeating: 1, count: n))
            }
            // Whole tiles left as they are (the vector path); in others one value dropped by
            // weight, NaN or infinity (the scalar path).
            for p in stride(from: 16 * 3, to: n, by: 37) {
                switch p % 3 {
                case 0: singles[p % m].weight[p] = 0
                case 1: singles[p % m].image[p] = .nan
                default: singles[p % m].image[p] = .infinity
                }
            }
            for (nlow, nhigh) in [(0, 0), (1, 0), (1, 1)] {
                let median = Outliers.stackMedian(singles.map { ($0.image, Outliers.usable($0.weight, maskpt: 0.7)) }, count: n,
                                                  nlow: nlow, nhigh: nhigh)
                for p in 0..<n {
                    let kept = singles.filter { $0.weight[p] > 0 && $0.image[p].isFinite }.map { $0.image[p] }.sorted()
                    let core = Array(kept.dropFirst(nlow).dropLast(nhigh))
                    let want: Float = core.isEmpty ? .nan
                        : core.count % 2 == 1 ? core[core.count / 2] : (core[core.count / 2 - 1] + core[core.count / 2]) / 2
                    #expect(median[p] == want || (median[p].isNaN && want.isNaN), "m \(m) pixel \(p)")
                }
            }
        }
    }

    @Test func growWidensEachFlag() {
        var data = [Float](repeating: 10, count: 49), o = OutlierOptions()
        data[24] = 1000
        let flat = [Float](repeating: 10, count: 49), noise = [Float](repeating: 1, count: 49)
        var weights = [Float](repeating: 1, count: 49)
        #expect(Outliers.flag(data, noise, flat, weights: weights, width: 7, height: 7, o).count == 1)
        o.grow = 2
        #expect(Outliers.flag(data, noise, flat, weights: weights, width: 7, height: 7, o).count == 9)
        // A pixel without weight is never flagged, grown into or not.
        weights[25] = 0
        let grown = Outliers.flag(data, noise, flat, weights: weights, width: 7, height: 7, o)
        #expect(grown.count == 8 && !grown.flags[25] && grown.flags[24])
        weights[24] = 0
        o.grow = 1
        #expect(Outliers.flag(data, noise, flat, weights: weights, width: 7, height: 7, o).count == 0)
    }
}
