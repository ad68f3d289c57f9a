import AstroImage
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
