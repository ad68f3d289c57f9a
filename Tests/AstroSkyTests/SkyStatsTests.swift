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
