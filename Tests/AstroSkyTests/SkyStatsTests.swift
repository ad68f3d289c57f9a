@testable import AstroImage
import AstroTestSupport
@testable import AstroSky
import Testing

/// The sky statistic on the cases stcal's own tests use (docs/skymatch.md §10.1).
@Suite struct SkyStatsTests {
    @Test func constantImageGivesItsLevelForEveryStatistic() {
        let ones = [Float](repeating: 1, count: 100)
        for statistic in SkyStatistic.allCases {
            var s = SkyStats()
            s.statistic = statistic
            let v = ones.withUnsafeBufferPointer { s.measure($0) }
            #expect(v == SkyValue(value: 1, npix: 100), "\(statistic)")
        }
    }

    @Test func limitsSelectTheSample() {
        let data = [Float](repeating: 0, count: 50) + [Float](repeating: 10, count: 50)
        var s = SkyStats()
        s.statistic = .mean
        s.lower = 5
        s.upper = 15
        #expect(data.withUnsafeBufferPointer { s.measure($0) } == SkyValue(value: 10, npix: 50))
        // The median honours the limits even without clipping (imagestats does not).
        s.statistic = .median
        s.nclip = 0
        #expect(data.withUnsafeBufferPointer { s.measure($0) }?.value == 10)
    }

    @Test func maskedAndNonFinitePixelsAreLeftOut() {
        let data: [Float] = [1, 2, .nan, 1000, 3]
        let mask: [UInt8] = [0, 0, 0, 1, 0]
        var s = SkyStats()
        s.statistic = .median
        let v = data.withUnsafeBufferPointer { d in mask.withUnsafeBufferPointer { s.measure(d, mask: $0) } }
        #expect(v == SkyValue(value: 2, npix: 3))
        let none = [Float.nan, .nan].withUnsafeBufferPointer { s.measure($0) }
        #expect(none == nil)
    }

    @Test func modeFindsTheSkyUnderASkewedTail() {
        var rng = SeededGenerator(seed: 7)
        // Sky 20 with σ = 1, and 20 % of pixels lifted by a faint extended source.
        var data = [Float](repeating: 0, count: 40_000)
        for k in data.indices {
            let source = k % 5 == 0 ? 3 * Double(k % 7) : 0
            data[k] = Float(20 + rng.gaussian() + source)
        }
        var s = SkyStats()
        let mode = data.withUnsafeBufferPointer { s.measure($0) }!.value
        s.statistic = .mean
        let mean = data.withUnsafeBufferPointer { s.measure($0) }!.value
        #expect(abs(mode - 20) < 0.1 && mean - 20 > 0.5, "mode \(mode), mean \(mean)")
    }
}

/// imagestats as it is (`--compat`): stcal's own statistics tests and the spec's quirks (§4, §10.1).
@Suite struct ImageStatsCompatTests {
    static func value(_ x: [Float], _ stat: SkyStatistic, configure: (inout SkyStats) -> Void = { _ in }) -> SkyValue? {
        var s = SkyStats()
        s.statistic = stat
        configure(&s)
        return ImageStatsCompat.measure(x, s)
    }

    @Test func stcalSkyStatsCases() {
        let ones = [Float](repeating: 1, count: 100)
        for stat in [SkyStatistic.mean, .median, .mode] { #expect(Self.value(ones, stat)?.npix == 100) }
        #expect(Self.value(ones, .mean)?.value == 1 && Self.value(ones, .median)?.value == 1)
        let midpt = Self.value([0, 1, 2, 3], .midpt)!
        #expect(abs(midpt.value - 1.032796) < 1.032796e-6 && midpt.npix == 4)
        let halves = [Float](repeating: 0, count: 50) + [Float](repeating: 10, count: 50)
        #expect(Self.value(halves, .mean) { $0.lower = 5; $0.upper = 15 } == SkyValue(value: 10, npix: 50))
    }

    @Test func quirks() {
        // nclip = 0: the median ignores the limits.
        let data = [Float](repeating: 0, count: 8) + [Float](repeating: 10, count: 4) + [12, 12]
        #expect(Self.value(data, .median) { $0.lower = 5; $0.upper = 15; $0.nclip = 0 }?.value == 0)
        // Limits outside the data: no value.
        #expect(Self.value(data, .mean) { $0.lower = 100 } == nil)
        // One-bin histogram: midpt is a count (constant data: 0), mode min + binwidth·σ/2.
        #expect(Self.value([Float](repeating: 5, count: 10), .midpt)?.value == 0)
    }
}

/// `Statistics.imstat`'s two forms (plain passes, bucketed sample) must give the same clipped
/// sample, histogram and median, and moments equal to round-off, whatever the data look like.
@Suite struct ImstatFormsTests {
    static func both(_ x: [Float], mask: [UInt8]? = nil, lower: Double? = nil, upper: Double? = nil,
                     nclip: Int = 5, sigma: Double = 4, binwidth: Double = 0.1)
        -> (plain: (stats: IMStats, median: Double), bucketed: (stats: IMStats, median: Double)) {
        x.withUnsafeBufferPointer { v in
            func run(_ m: UnsafeBufferPointer<UInt8>?, _ bucketed: Bool) -> (stats: IMStats, median: Double) {
                Statistics.imstat(SampleHandle(v, mask: m), lower: lower, upper: upper, nclip: nclip, lsigma: sigma,
                                  usigma: sigma, binwidth: binwidth, histogram: true, median: true, bucketed: bucketed)
            }
            guard let mask else { return (run(nil, false), run(nil, true)) }
            return mask.withUnsafeBufferPointer { (run($0, false), run($0, true)) }
        }
    }

    static func expectSame(_ r: (plain: (stats: IMStats, median: Double), bucketed: (stats: IMStats, median: Double)),
                           _ label: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let a = r.plain.stats, b = r.bucketed.stats
        // Round-off relative to the data's scale (a mode near 0 between −1 and 1 is off by 1e-15).
        let scale = a.npix > 0 ? max(abs(a.min), abs(a.max)) : 0
        func near(_ x: Double, _ y: Double) -> Bool {
            (x.isNaN && y.isNaN) || TestSupport.close(x, y, abs: 1e-13 * scale, rel: 1e-12)
        }
        #expect(a.npix == b.npix, "\(label) npix", sourceLocation: sourceLocation)
        #expect(a.min == b.min && a.max == b.max, "\(label) min/max", sourceLocation: sourceLocation)
        #expect(near(a.mean, b.mean) && near(a.stddev, b.stddev), "\(label) \(a) vs \(b)", sourceLocation: sourceLocation)
        #expect(near(a.mode, b.mode) && near(a.midpt, b.midpt), "\(label) mode/midpt \(a) vs \(b)", sourceLocation: sourceLocation)
        #expect(r.plain.median.bitPattern == r.bucketed.median.bitPattern || (r.plain.median.isNaN && r.bucketed.median.isNaN),
                "\(label) median \(r.plain.median) vs \(r.bucketed.median)", sourceLocation: sourceLocation)
    }

    @Test func bothFormsAgree() {
        var rng = SeededGenerator(seed: 11)
        let n = 200_001
        // Sky 1000 ± 15 with hot pixels, negative outliers, huge values, NaN and infinities.
        var sky = (0..<n).map { _ in Float(1000 + 15 * rng.gaussian()) }
        for i in stride(from: 7, to: n, by: 1009) { sky[i] = Float(5000 + (i % 17) * 1000) }
        for i in stride(from: 5, to: n, by: 2003) { sky[i] = -2000 }
        for i in stride(from: 13, to: n, by: 997) { sky[i] = .nan }
        sky[12345] = 3e38; sky[54321] = -1e30; sky[777] = .infinity; sky[778] = -.infinity
        let mask = (0..<n).map { _ in UInt8(rng.next() % 10 == 0 ? 1 : 0) }
        Self.expectSame(Self.both(sky), "sky")
        Self.expectSame(Self.both(sky, mask: mask), "masked")
        Self.expectSame(Self.both(sky, nclip: 0), "nclip 0")
        Self.expectSame(Self.both(sky, lower: 990, upper: 1020, nclip: 2, sigma: 3), "limits")
        Self.expectSame(Self.both(sky, lower: 1e6), "nothing in the limits")
        // Differences about zero (both signs, ±0), integers (few distinct values, big buckets),
        // a constant, a tight spread far from zero.
        let diffs = (0..<n).map { k in k % 50 == 0 ? Float(0) * (k % 100 == 0 ? -1 : 1) : Float(0.3 * rng.gaussian()) }
        Self.expectSame(Self.both(diffs), "about zero")
        Self.expectSame(Self.both(diffs.map { ($0 * 20).rounded() }, binwidth: 0.05), "integers")
        Self.expectSame(Self.both([Float](repeating: 7, count: n)), "constant")
        Self.expectSame(Self.both((0..<n).map { _ in Float(1e4 + 0.01 * rng.gaussian()) }), "tight")
        Self.expectSame(Self.both(Array(sky.prefix(40_000)), binwidth: 0.5), "even count")
    }
}
