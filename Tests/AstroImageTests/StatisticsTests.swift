import Foundation
import Testing
import AstroImage
import AstroTestSupport

/// The fixture sample of scripts/fixtures/stats.py, rebuilt bit for bit: 12 uniform 24-bit
/// draws per value (exact sums), then outliers, NaNs and infinities at fixed positions.
private enum Sample {
    static let n = 100_000

    static let data: [Float] = {
        var g = SeededGenerator(seed: 20251123)
        var data = [Float](repeating: 0, count: n)
        for i in 0..<n {
            var s = 0.0
            for _ in 0..<12 { s += Double(g.next() >> 40) * 0x1p-24 }
            data[i] = Float(1000.0 + 15.0 * (s - 6.0))
        }
        for i in 0..<n {
            if i % 1009 == 7 {
                data[i] = Float(5000.0 + Double(i % 17) * 1000.0)
            } else if i % 2003 == 5 {
                data[i] = -2000
            } else if i % 997 == 13 {
                data[i] = .nan
            }
        }
        data[12345] = 3.0e38
        data[54321] = -1.0e30
        data[777] = .infinity
        data[778] = -.infinity
        return data
    }()

    static let mask: [UInt8] = {
        var g = SeededGenerator(seed: 777)
        return (0..<n).map { _ in g.next() % 10 == 0 ? 1 : 0 }
    }()

    nonisolated(unsafe) static let expected: [String: Any] = try! TestSupport.json("stats/expected.json")

    static func fnv1a(_ values: [Float]) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for v in values {
            var bits = v.bitPattern
            for _ in 0..<4 {
                h = (h ^ UInt64(bits & 0xFF)) &* 0x100_0000_01B3
                bits >>= 8
            }
        }
        return h
    }

    /// The three fixture cases: all values, all but the last (the other parity of the finite
    /// count), and the values the mask keeps.
    static func withCase<R>(_ name: String, _ body: (UnsafeBufferPointer<Float>, UnsafeBufferPointer<UInt8>?) -> R) -> R {
        data.withUnsafeBufferPointer { d in
            switch name {
            case "full": return body(d, nil)
            case "prefix": return body(UnsafeBufferPointer(rebasing: d[0..<(n - 1)]), nil)
            default: return mask.withUnsafeBufferPointer { body(d, $0) }
            }
        }
    }

    static func section(_ name: String) -> [String: Any] { expected[name] as! [String: Any] }
}

private func num(_ any: Any?) -> Double {
    if let d = any as? Double { return d }
    if let i = any as? Int { return Double(i) }
    return .nan      // JSON null: "no value"
}

private let cases = ["full", "prefix", "masked"]

@Suite struct StatisticsFixtureTests {
    @Test func generatorRebuildsTheFixtureSample() throws {
        let g = Sample.expected["generator"] as! [String: Any]
        let first = (g["first"] as! [Double]).map(Float.init)
        #expect(Array(Sample.data.prefix(4)) == first)
        #expect(String(Sample.fnv1a(Sample.data)) == g["fnv1a"] as! String)
        #expect(Sample.mask.reduce(0) { $0 + Int($1) } == g["maskCount"] as! Int)
    }

    @Test(arguments: cases) func basicMatchesNumpy(_ name: String) {
        let e = Sample.section(name)["basic"] as! [String: Any]
        let s = Sample.withCase(name) { Statistics.basic($0, mask: $1) }
        #expect(s.count == e["count"] as! Int)
        #expect(s.nanCount == e["nanCount"] as! Int)
        #expect(TestSupport.close(s.mean, num(e["mean"])))
        #expect(TestSupport.close(s.std, num(e["std"])))
        #expect(TestSupport.close(s.min, num(e["min"]), rel: 1e-15))   // Foundation JSON parsing is not exact
        #expect(TestSupport.close(s.max, num(e["max"]), rel: 1e-15))
    }

    @Test(arguments: cases) func medianMatchesNumpy(_ name: String) {
        let e = num(Sample.section(name)["median"])
        let m = Sample.withCase(name) { Statistics.median($0, mask: $1) }
        #expect(TestSupport.close(m, e, rel: 1e-12), "median \(m) vs numpy \(e)")
    }

    @Test(arguments: cases) func percentilesMatchNumpy(_ name: String) {
        let e = Sample.section(name)["percentiles"] as! [String: Any]
        let ps = e["p"] as! [Double], want = (e["values"] as! [Any]).map(num)
        let got = Sample.withCase(name) { Statistics.percentiles($0, ps, mask: $1) }
        #expect(got.count == want.count)
        for (i, p) in ps.enumerated() {
            #expect(TestSupport.close(got[i], want[i], rel: 1e-12), "p\(p): \(got[i]) vs numpy \(want[i])")
        }
    }

    @Test(arguments: cases) func madMatchesAstropy(_ name: String) {
        let e = Sample.section(name)
        let mad = Sample.withCase(name) { Statistics.mad($0, mask: $1) }
        let madStd = Sample.withCase(name) { Statistics.madStd($0, mask: $1) }
        #expect(TestSupport.close(mad, num(e["mad"]), rel: 1e-12), "mad \(mad)")
        #expect(TestSupport.close(madStd, num(e["madStd"]), rel: 1e-12), "mad_std \(madStd)")
    }

    @Test(arguments: cases) func sigmaClippedMatchesAstropy(_ name: String) {
        for e in Sample.section(name)["sigmaClipped"] as! [[String: Any]] {
            let label = "\(name)/\(e["name"]!)"
            let s = Sample.withCase(name) { d, m in
                Statistics.sigmaClipped(d, mask: m, sigma: num(e["sigma"]),
                                        sigmaLower: e["sigmaLower"] as? Double,
                                        sigmaUpper: e["sigmaUpper"] as? Double,
                                        maxIters: e["maxIters"] as? Int,
                                        centre: e["centre"] as! String == "mean" ? .mean : .median)
            }
            #expect(s.count == e["count"] as! Int, "\(label) count")
            #expect(s.iterations == e["iterations"] as! Int, "\(label) iterations")
            #expect(TestSupport.close(s.mean, num(e["mean"])), "\(label) mean \(s.mean)")
            #expect(TestSupport.close(s.median, num(e["median"])), "\(label) median \(s.median)")
            #expect(TestSupport.close(s.std, num(e["std"])), "\(label) std \(s.std)")
            #expect(TestSupport.close(s.lower, num(e["lower"])), "\(label) lower \(s.lower)")
            #expect(TestSupport.close(s.upper, num(e["upper"])), "\(label) upper \(s.upper)")
        }
    }

    @Test(arguments: cases) func summaryMatchesNumpyAstropyAndTheSeparateCalls(_ name: String) {
        let section = Sample.section(name)
        let e = section["basic"] as! [String: Any]
        let clip = (section["sigmaClipped"] as! [[String: Any]]).first { $0["name"] as! String == "default" }!
        let s = Sample.withCase(name) { Statistics.summary($0, mask: $1) }
        #expect(s.basic.count == e["count"] as! Int && s.basic.nanCount == e["nanCount"] as! Int)
        #expect(TestSupport.close(s.basic.mean, num(e["mean"]), rel: 1e-12))
        #expect(TestSupport.close(s.basic.std, num(e["std"]), rel: 1e-12))
        #expect(TestSupport.close(s.median, num(section["median"]), rel: 1e-12))
        #expect(s.clipped.count == clip["count"] as! Int && s.clipped.iterations == clip["iterations"] as! Int)
        #expect(TestSupport.close(s.clipped.median, num(clip["median"]), rel: 1e-12))
        #expect(TestSupport.close(s.clipped.std, num(clip["std"]), rel: 1e-12))
        Sample.withCase(name) { expectSummaryIsTheSeparateCalls($0, mask: $1) }
    }

    @Test(arguments: cases) func imstatMatchesTheCorrectedIRAFFormulas(_ name: String) {
        for e in Sample.section(name)["imstat"] as! [[String: Any]] {
            let label = "\(name)/\(e["name"]!)"
            let p = e["params"] as! [String: Any]
            let s = Sample.withCase(name) { d, m in
                Statistics.imstat(d, mask: m, lower: p["lower"] as? Double, upper: p["upper"] as? Double,
                                  nclip: p["nclip"] as? Int ?? 0, lsigma: p["lsigma"] as? Double ?? 3,
                                  usigma: p["usigma"] as? Double ?? 3, binwidth: p["binwidth"] as? Double ?? 0.1)
            }
            #expect(s.npix == e["npix"] as! Int, "\(label) npix")
            for (field, got) in [("mean", s.mean), ("midpt", s.midpt), ("mode", s.mode),
                                 ("stddev", s.stddev), ("min", s.min), ("max", s.max)] {
                #expect(TestSupport.close(got, num(e[field])), "\(label) \(field) \(got) vs \(num(e[field]))")
            }
        }
    }
}

@Suite struct StatisticsEdgeCaseTests {
    /// Below 4096 values the median sorts a copy, above it uses the radix buckets: the same
    /// values padded past the limit with NaN, or with masked-out pixels, give the same median,
    /// odd and even counts, infinities included.
    @Test func sortedAndRadixMediansAgree() {
        var rng = SeededGenerator(seed: 1)
        for n in [1, 2, 7, 100, 1001, 4094, 4095] {
            var v = (0..<n).map { _ in Float.random(in: -50...50, using: &rng) }
            if n > 10 { v[3] = .infinity; v[5] = -.infinity; v[7] = .nan }
            let small = Statistics.median(v)
            let nanPadded = Statistics.median(v + [Float](repeating: .nan, count: 5000))
            let masked = (v + [Float](repeating: 1e6, count: 5000)).withUnsafeBufferPointer { p in
                ([UInt8](repeating: 0, count: n) + [UInt8](repeating: 1, count: 5000)).withUnsafeBufferPointer { Statistics.median(p, mask: $0) }
            }
            #expect(small == nanPadded && small == masked, "n = \(n): \(small), \(nanPadded), \(masked)")
        }
    }

    @Test func smallMediansAndPercentilesAreNumpys() {
        #expect(Statistics.median([3, 1, 2]) == 2)
        #expect(Statistics.median([4, 1, 3, 2]) == 2.5)
        #expect(Statistics.median([-5, -1, -3, -2]) == -2.5)
        #expect(Statistics.median([-0.0, 0.0, 1, -1]) == 0)
        #expect(Statistics.median([Float.nan, 7, .infinity, 1, -.infinity]) == 4)
        #expect(Statistics.median([Float.leastNonzeroMagnitude, -.leastNonzeroMagnitude, 3e38, -3e38, 0]) == 0)
        let p = [Float](arrayLiteral: 1, 2, 3, 4).withUnsafeBufferPointer {
            Statistics.percentiles($0, [0, 25, 50, 75, 100, 10, -1, 101, .nan])
        }
        // np.percentile([1,2,3,4], [0,25,50,75,100,10]) = 1, 1.75, 2.5, 3.25, 4, 1.3
        #expect(Array(p.prefix(5)) == [1, 1.75, 2.5, 3.25, 4])
        #expect(TestSupport.close(p[5], 1.3, rel: 1e-15))
        #expect(p[6].isNaN && p[7].isNaN && p[8].isNaN)
    }

    @Test func noUsableValuesGiveNaN() {
        for values in [[Float](), [Float](repeating: .nan, count: 100_001), [.infinity, -.infinity, .nan]] {
            values.withUnsafeBufferPointer { v in
                let b = Statistics.basic(v)
                #expect(b.count == 0 && b.nanCount == values.count)
                #expect(b.mean.isNaN && b.std.isNaN && b.min.isNaN && b.max.isNaN)
                #expect(Statistics.median(v).isNaN)
                #expect(Statistics.percentiles(v, [0, 50, 100]).allSatisfy { $0.isNaN })
                #expect(Statistics.mad(v).isNaN)
                let c = Statistics.sigmaClipped(v)
                #expect(c.count == 0 && c.iterations == 0 && c.mean.isNaN && c.median.isNaN && c.std.isNaN)
                let i = Statistics.imstat(v)
                #expect(i.npix == 0 && i.mean.isNaN && i.midpt.isNaN && i.mode.isNaN)
            }
        }
    }

    @Test func aSingleValue() {
        [Float](arrayLiteral: .nan, 42.5, .nan).withUnsafeBufferPointer { v in
            #expect(Statistics.basic(v) == BasicStats(count: 1, nanCount: 2, mean: 42.5, std: 0, min: 42.5, max: 42.5))
            #expect(Statistics.median(v) == 42.5)
            #expect(Statistics.percentiles(v, [0, 37, 100]) == [42.5, 42.5, 42.5])
            #expect(Statistics.mad(v) == 0)
            // astropy: one iteration with bounds [42.5, 42.5], which keep the value.
            #expect(Statistics.sigmaClipped(v) == ClippedStats(mean: 42.5, median: 42.5, std: 0, count: 1,
                                                                 iterations: 1, lower: 42.5, upper: 42.5))
            let i = Statistics.imstat(v)
            #expect(i.npix == 1 && i.mean == 42.5 && i.min == 42.5 && i.max == 42.5)
            #expect(i.stddev.isNaN && i.midpt.isNaN && i.mode.isNaN)
        }
    }

    @Test func theMaskIsHonoured() {
        let values: [Float] = [1, 2, 3, 100, 4, 5, .nan]
        let mask: [UInt8] = [0, 0, 0, 1, 0, 0, 0]
        values.withUnsafeBufferPointer { v in
            mask.withUnsafeBufferPointer { m in
                #expect(Statistics.basic(v, mask: m) == BasicStats(count: 5, nanCount: 1, mean: 3,
                                                                     std: 2.0.squareRoot(), min: 1, max: 5))
                #expect(Statistics.median(v, mask: m) == 3)
                #expect(Statistics.percentiles(v, [100], mask: m) == [5])
                #expect(Statistics.mad(v, mask: m) == 1)
                #expect(Statistics.sigmaClipped(v, mask: m).count == 5)
                #expect(Statistics.imstat(v, mask: m).max == 5)
            }
            let all = [UInt8](repeating: 255, count: values.count)
            all.withUnsafeBufferPointer { m in
                #expect(Statistics.basic(v, mask: m).count == 0)
                #expect(Statistics.basic(v, mask: m).nanCount == 0)
                #expect(Statistics.median(v, mask: m).isNaN)
            }
        }
        let image = Image(width: 7, height: 1, pixels: values, mask: mask)
        #expect(Statistics.basic(image).count == 5)
        #expect(Statistics.basic(image).mean == 3)
    }

    /// Heavy ties (integer-valued data, as raw CCD frames are) over several worker chunks,
    /// against a sort-based reference and a straightforward sigma-clipping loop.
    @Test func tiedIntegerDataAgainstSortedReference() {
        var g = SeededGenerator(seed: 99)
        var values = (0..<300_001).map { _ in Float((g.gaussian() * 4 + 1000).rounded()) }
        for i in stride(from: 5, to: values.count, by: 4001) { values[i] = 60_000 }
        for i in stride(from: 11, to: values.count, by: 7919) { values[i] = .nan }
        let finite = values.filter(\.isFinite).map(Double.init).sorted()
        let n = finite.count
        func numpyPercentile(_ p: Double) -> Double {
            let v = Double(n - 1) * (p / 100)
            if v >= Double(n - 1) { return finite[n - 1] }
            let lo = Int(v.rounded(.down)), t = v - v.rounded(.down)
            let a = finite[lo], b = finite[lo + 1], d = b - a
            return t >= 0.5 ? b - d * (1 - t) : a + d * t
        }
        values.withUnsafeBufferPointer { v in
            #expect(Statistics.median(v) == (finite[(n - 1) / 2] + finite[n / 2]) / 2)
            let ps = [0, 1, 2.5, 16, 50, 84, 97.5, 99, 99.9, 100]
            #expect(Statistics.percentiles(v, ps) == ps.map(numpyPercentile))
            let med = (finite[(n - 1) / 2] + finite[n / 2]) / 2
            let dev = finite.map { abs($0 - med) }.sorted()
            #expect(Statistics.mad(v) == (dev[(n - 1) / 2] + dev[n / 2]) / 2)

            for centre in [ClipCentre.median, .mean] {
                let got = Statistics.sigmaClipped(v, sigma: 2.5, maxIters: nil, centre: centre)
                let want = referenceSigmaClip(finite, sigma: 2.5, maxIters: .max, median: centre == .median)
                #expect(got.count == want.count && got.iterations == want.iterations)
                #expect(got.median == want.median)
                #expect(TestSupport.close(got.mean, want.mean, rel: 1e-12))
                #expect(TestSupport.close(got.std, want.std, rel: 1e-10))
                #expect(TestSupport.close(got.lower, want.lower, rel: 1e-12))
            }
        }
    }

    /// A mask over several worker chunks, and more percentiles than one refinement pass takes
    /// (their ranks fall in more than 15 buckets).
    @Test func maskedContinuousDataAndManyPercentiles() {
        var g = SeededGenerator(seed: 5)
        let values = (0..<250_000).map { _ in Float(g.gaussian() * 30 - 5) }
        let mask = (0..<values.count).map { UInt8($0 % 7 == 3 ? 1 : 0) }
        let kept = zip(values, mask).filter { $0.1 == 0 }.map { Double($0.0) }.sorted()
        let n = kept.count
        let ps = stride(from: 0.0, through: 100.0, by: 2.5).map { $0 }
        let want = ps.map { p -> Double in
            let v = Double(n - 1) * (p / 100)
            if v >= Double(n - 1) { return kept[n - 1] }
            let lo = Int(v.rounded(.down)), t = v - v.rounded(.down)
            let a = kept[lo], b = kept[lo + 1], d = b - a
            return t >= 0.5 ? b - d * (1 - t) : a + d * t
        }
        values.withUnsafeBufferPointer { v in
            mask.withUnsafeBufferPointer { m in
                #expect(Statistics.percentiles(v, ps, mask: m) == want)
                #expect(Statistics.median(v, mask: m) == (kept[(n - 1) / 2] + kept[n / 2]) / 2)
                let got = Statistics.sigmaClipped(v, mask: m, sigma: 2, maxIters: 4)
                let ref = referenceSigmaClip(kept, sigma: 2, maxIters: 4, median: true)
                #expect(got.count == ref.count && got.iterations == ref.iterations && got.median == ref.median)
                #expect(TestSupport.close(got.std, ref.std, rel: 1e-10))
                let b = Statistics.basic(v, mask: m)
                #expect(b.count == n && b.min == kept[0] && b.max == kept[n - 1])
            }
        }
    }

    /// Clipping that creeps: a peak with a long one-sided tail (as a drizzled weight plane has)
    /// moves its lower bound and median a little at every iteration, so the later refinements
    /// come from the values a pass gathered; with a heavier tail the bound leaves the gathered
    /// zones and a pass over all the data is made again. Both as the reference loop, masked.
    @Test(arguments: [0.1, 0.4]) func creepingClipAgainstReference(tail: Double) {
        var g = SeededGenerator(seed: 31)
        let values = (0..<300_000).map { _ -> Float in
            Double.random(in: 0..<1, using: &g) < tail ? Float(Double.random(in: 0..<3, using: &g)) : Float(g.gaussian() * 0.15 + 3)
        }
        let mask = (0..<values.count).map { UInt8($0 % 11 == 4 ? 1 : 0) }
        let kept = zip(values, mask).filter { $0.1 == 0 }.map { Double($0.0) }.sorted()
        values.withUnsafeBufferPointer { v in
            mask.withUnsafeBufferPointer { m in
                for iters in [3, 5, 10] {
                    let got = Statistics.sigmaClipped(v, mask: m, sigma: 3, maxIters: iters)
                    let ref = referenceSigmaClip(kept, sigma: 3, maxIters: iters, median: true)
                    #expect(ref.iterations >= 3)
                    #expect(got.count == ref.count && got.iterations == ref.iterations && got.median == ref.median,
                            "\(got) against \(ref)")
                    #expect(TestSupport.close(got.mean, ref.mean, rel: 1e-12) && TestSupport.close(got.std, ref.std, rel: 1e-10))
                }
            }
        }
    }

    /// astropy's `_sigmaclip_noaxis` loop, spelled out on a sorted Double array.
    private func referenceSigmaClip(_ sorted: [Double], sigma: Double, maxIters: Int, median useMedian: Bool)
        -> (count: Int, iterations: Int, mean: Double, median: Double, std: Double, lower: Double) {
        func stats(_ x: [Double]) -> (Double, Double, Double) {
            let mean = x.reduce(0, +) / Double(x.count)
            let variance = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(x.count)
            let median = (x[(x.count - 1) / 2] + x[x.count / 2]) / 2
            return (mean, median, variance.squareRoot())
        }
        var kept = sorted, iterations = 0, lower = Double.nan
        while iterations < maxIters {
            iterations += 1
            let (mean, median, std) = stats(kept)
            let c = useMedian ? median : mean
            lower = c - sigma * std
            let upper = c + sigma * std
            let next = kept.filter { $0 >= lower && $0 <= upper }
            defer { kept = next }
            if next.count == kept.count { break }
        }
        let (mean, median, std) = stats(kept)
        return (kept.count, iterations, mean, median, std, lower)
    }

    @Test func imstatHistogramFormulasOnCraftedHistograms() {
        // Values at bin centres of width ≈ 1 (binwidth = 1/σ) from an origin at 0.0, so the
        // histogram is exactly the counts below whatever the rounding of hwidth.
        func run(_ counts: [Int]) -> (IMStats, Double) {
            var values: [Float] = [0]
            for (k, c) in counts.enumerated() {
                values += [Float](repeating: Float(k) + 0.5, count: c - (k == 0 ? 1 : 0))
            }
            let b = values.withUnsafeBufferPointer { Statistics.basic($0) }
            let sd = b.std * (Double(b.count) / Double(b.count - 1)).squareRoot()
            let s = values.withUnsafeBufferPointer { Statistics.imstat($0, binwidth: 1 / sd) }
            return (s, (1 / sd) * sd)
        }
        // Symmetric [1, 2, 4, 2, 1]: both estimators land on the centre, 2.5 bins.
        let (sym, hw1) = run([1, 2, 4, 2, 1])
        #expect(TestSupport.close(sym.mode, 2.5 * hw1, rel: 1e-12))
        #expect(TestSupport.close(sym.midpt, 2.5 * hw1, rel: 1e-12))
        #expect(sym.npix == 10 && sym.min == 0 && sym.max == 4.5)
        // Peaked [2, 3, 8, 5, 1]: mode = 2 + 0.5 + 0.5·(5 − 3)/(5 + 3) = 2.625 bins;
        // midpt: C = 2, 5, 13 of 19, so 2 + (0.5 − 5/19)/(8/19) = 2.5625 bins.
        let (peak, hw2) = run([2, 3, 8, 5, 1])
        #expect(TestSupport.close(peak.mode, 2.625 * hw2, rel: 1e-12))
        #expect(TestSupport.close(peak.midpt, 2.5625 * hw2, rel: 1e-12))
        // Peak in the first bin: its centre.
        let (edge, hw3) = run([9, 3, 1, 1])
        #expect(TestSupport.close(edge.mode, 0.5 * hw3, rel: 1e-12))
    }

    @Test func imstatDegenerateAndLimits() {
        let constant = [Float](repeating: 7, count: 1000)
        let c = constant.withUnsafeBufferPointer { Statistics.imstat($0, nclip: 3) }
        #expect(c.npix == 1000 && c.mean == 7 && c.stddev == 0 && c.min == 7 && c.max == 7)
        #expect(c.midpt.isNaN && c.mode.isNaN)
        // docs/skymatch.md's example: [0×8, 10×4, 12×2] with lower 5, upper 15, nclip 0.
        let data = [Float](repeating: 0, count: 8) + [Float](repeating: 10, count: 4) + [12, 12]
        let s = data.withUnsafeBufferPointer { Statistics.imstat($0, lower: 5, upper: 15) }
        #expect(s.npix == 6 && TestSupport.close(s.mean, 32.0 / 3, rel: 1e-15) && s.min == 10 && s.max == 12)
        let none = data.withUnsafeBufferPointer { Statistics.imstat($0, lower: 20) }
        #expect(none.npix == 0 && none.mean.isNaN)
        let inverted = data.withUnsafeBufferPointer { Statistics.imstat($0, lower: 11, upper: 10) }
        #expect(inverted.npix == 0)
    }
}

/// `summary` must give what `basic`, `median` and `sigmaClipped` give one by one: bit for bit
/// for the order statistics and counts, to 1e-12 for the moments.
private func expectSummaryIsTheSeparateCalls(_ v: UnsafeBufferPointer<Float>, mask: UnsafeBufferPointer<UInt8>? = nil,
                                             sigma: Double = 3, maxIters: Int? = 5,
                                             sourceLocation: SourceLocation = #_sourceLocation) {
    func same(_ a: Double, _ b: Double) -> Bool { a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN) }
    func near(_ a: Double, _ b: Double) -> Bool { TestSupport.close(a, b, rel: 1e-12) }
    let s = Statistics.summary(v, mask: mask, sigma: sigma, maxIters: maxIters)
    let b = Statistics.basic(v, mask: mask)
    let c = Statistics.sigmaClipped(v, mask: mask, sigma: sigma, maxIters: maxIters)
    #expect(same(s.median, Statistics.median(v, mask: mask)), "median", sourceLocation: sourceLocation)
    #expect(s.basic.count == b.count && s.basic.nanCount == b.nanCount, "counts", sourceLocation: sourceLocation)
    #expect(s.basic.min == b.min || (s.basic.min.isNaN && b.min.isNaN), "min", sourceLocation: sourceLocation)
    #expect(s.basic.max == b.max || (s.basic.max.isNaN && b.max.isNaN), "max", sourceLocation: sourceLocation)
    #expect(near(s.basic.mean, b.mean) && near(s.basic.std, b.std),
            "mean \(s.basic.mean) vs \(b.mean), std \(s.basic.std) vs \(b.std)", sourceLocation: sourceLocation)
    #expect(s.clipped.count == c.count && s.clipped.iterations == c.iterations, "clipped counts",
            sourceLocation: sourceLocation)
    #expect(same(s.clipped.median, c.median), "clipped median", sourceLocation: sourceLocation)
    #expect(near(s.clipped.mean, c.mean) && near(s.clipped.std, c.std)
            && near(s.clipped.lower, c.lower) && near(s.clipped.upper, c.upper), "clipped moments and bounds",
            sourceLocation: sourceLocation)
}

/// Mean and population std by two passes of compensated (Neumaier) sums: a reference good to
/// a few ulps, whatever the offset of the data.
private func referenceMeanStd(_ x: [Double]) -> (mean: Double, std: Double) {
    func sum(_ terms: [Double]) -> Double {
        var s = 0.0, c = 0.0
        for t in terms {
            let u = s + t
            c += abs(s) >= abs(t) ? (s - u) + t : (t - u) + s
            s = u
        }
        return s + c
    }
    let n = Double(x.count)
    let mean = sum(x) / n
    let d = x.map { $0 - mean }
    let m = mean + sum(d) / n
    return (m, (sum(d.map { ($0 - (m - mean)) * ($0 - (m - mean)) }) / n).squareRoot())
}

@Suite struct StatisticsSummaryTests {
    @Test func edgeCasesAreTheSeparateCalls() {
        let inputs: [[Float]] = [
            [], [.nan, .infinity, -.infinity], [Float](repeating: .nan, count: 100_001),
            [.nan, 42.5, .nan], [3, 1, 2], [-0.0, 0.0, 1, -1], [Float](repeating: 7, count: 70_000),
            (0..<70_000).map { Float($0 % 3) },
        ]
        for values in inputs {
            values.withUnsafeBufferPointer { expectSummaryIsTheSeparateCalls($0) }
        }
        let values: [Float] = [1, 2, 3, 100, 4, 5, .nan]
        values.withUnsafeBufferPointer { v in
            for mask: [UInt8] in [[0, 0, 0, 1, 0, 0, 0], [UInt8](repeating: 1, count: 7)] {
                mask.withUnsafeBufferPointer { expectSummaryIsTheSeparateCalls(v, mask: $0) }
            }
            let s = Statistics.summary(v)
            #expect(s.basic == Statistics.basic(v) && s.basic.nanCount == 1 && s.basic.max == 100)
        }
    }

    /// Gaussian data far from zero (mean ≫ σ), where Σx² − (Σx)²/n would lose every digit:
    /// the std must still match a compensated two-pass reference to 1e-12, clipped or not.
    @Test(arguments: [(1e6, 1.0), (-1e6, 1.0), (1e6, 0.25), (1000, 1e-3), (0, 1)])
    func offsetDataAgainstATwoPassReference(_ level: Double, _ sigma: Double) {
        var g = SeededGenerator(seed: 31)
        var values = (0..<300_007).map { _ in Float(level + sigma * g.gaussian()) }
        values[1234] = Float(level + 500 * sigma)         // one outlier for the clipping to reject
        values[4321] = .nan
        let finite = values.filter(\.isFinite).map(Double.init)
        let want = referenceMeanStd(finite)
        values.withUnsafeBufferPointer { v in
            let s = Statistics.summary(v)
            #expect(s.basic.count == finite.count && s.basic.nanCount == 1)
            #expect(TestSupport.close(s.basic.mean, want.mean, rel: 1e-12), "mean \(s.basic.mean) vs \(want.mean)")
            #expect(TestSupport.close(s.basic.std, want.std, rel: 1e-12), "std \(s.basic.std) vs \(want.std)")
            let kept = finite.filter { $0 >= s.clipped.lower && $0 <= s.clipped.upper }
            let clipped = referenceMeanStd(kept)
            #expect(s.clipped.count == kept.count && s.clipped.count < finite.count)
            #expect(TestSupport.close(s.clipped.mean, clipped.mean, rel: 1e-12))
            #expect(TestSupport.close(s.clipped.std, clipped.std, rel: 1e-12),
                    "clipped std \(s.clipped.std) vs \(clipped.std)")
            expectSummaryIsTheSeparateCalls(v)
        }
    }

    /// Every 32nd value (exactly the ones the strided subsample reads) is an outlier, so every
    /// guess misses: the centre for the sums, the median's bucket and the clipping bounds'.
    /// The fallbacks must still give the separate calls' results.
    @Test func aMisleadingSubsampleOnlyCostsPasses() {
        var g = SeededGenerator(seed: 8)
        let n = 1 << 18
        var values = (0..<n).map { _ in Float(g.gaussian()) }
        for i in stride(from: 16, to: n, by: 32) { values[i] = 1e6 }
        values.withUnsafeBufferPointer { v in
            expectSummaryIsTheSeparateCalls(v)
            let want = referenceMeanStd(values.map(Double.init))
            let s = Statistics.summary(v)
            #expect(TestSupport.close(s.basic.mean, want.mean, rel: 1e-12))
            #expect(TestSupport.close(s.basic.std, want.std, rel: 1e-12))
            #expect(s.clipped.upper < 10 && s.clipped.count > n - n / 32 - n / 100)   // outliers gone
        }
    }

    /// Integer-valued data (heavy ties), a mask and other clipping parameters, over several
    /// worker chunks.
    @Test func tiedMaskedDataAndOtherParameters() {
        var g = SeededGenerator(seed: 99)
        var values = (0..<300_001).map { _ in Float((g.gaussian() * 4 + 1000).rounded()) }
        for i in stride(from: 5, to: values.count, by: 4001) { values[i] = 60_000 }
        for i in stride(from: 11, to: values.count, by: 7919) { values[i] = .nan }
        let mask = (0..<values.count).map { UInt8($0 % 13 == 0 ? 1 : 0) }
        values.withUnsafeBufferPointer { v in
            mask.withUnsafeBufferPointer { m in
                expectSummaryIsTheSeparateCalls(v, mask: m)
                expectSummaryIsTheSeparateCalls(v, mask: m, sigma: 2, maxIters: nil)
                expectSummaryIsTheSeparateCalls(v, sigma: 1.5, maxIters: 2)
            }
        }
    }
}
