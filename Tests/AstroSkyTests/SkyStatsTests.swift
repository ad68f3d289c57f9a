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

/// `Statistics.imstat` on large samples (vector passes, the median from histograms of ranks)
/// against the same statistics taken the plain way: the kept values gathered, summed and sorted.
/// The clipped sample, its extremes and median must be the same; the moments equal to round-off.
@Suite struct ImstatReferenceTests {
    /// npix, mean, sample σ, min, max and median of the clipped sample (of the finite, unmasked
    /// values), the plain way.
    static func reference(_ x: [Float], mask: [UInt8]?, lower: Double?, upper: Double?, nclip: Int, sigma: Double)
        -> (npix: Int, mean: Double, sd: Double, min: Float, max: Float, median: Double)? {
        let usable = x.indices.filter { (mask?[$0] ?? 0) == 0 && x[$0].isFinite }.map { x[$0] }
        let lowerLimit = lower ?? -.infinity, upperLimit = upper ?? .infinity
        var lo = lowerLimit, hi = upperLimit, previous = -1
        var kept: [Float] = []
        for pass in 0...nclip {
            kept = usable.filter { Double($0) >= lo && Double($0) <= hi }
            guard !kept.isEmpty else { return nil }
            let mean = kept.reduce(0.0) { $0 + Double($1) } / Double(kept.count)
            let sd = (kept.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(kept.count - 1)).squareRoot()
            if kept.count == previous || pass == nclip || !sd.isFinite { break }
            previous = kept.count
            lo = max(lowerLimit, mean - sigma * sd)
            hi = min(upperLimit, mean + sigma * sd)
        }
        let mean = kept.reduce(0.0) { $0 + Double($1) } / Double(kept.count)
        let sd = (kept.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(kept.count - 1)).squareRoot()
        let sorted = kept.sorted()
        let median = (Double(sorted[(sorted.count - 1) / 2]) + Double(sorted[sorted.count / 2])) / 2
        return (kept.count, mean, sd, sorted.first!, sorted.last!, median)
    }

    static func expectSame(_ x: [Float], mask: [UInt8]? = nil, lower: Double? = nil, upper: Double? = nil,
                           nclip: Int = 5, sigma: Double = 4, _ label: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let (s, median) = x.withUnsafeBufferPointer { v in
            func run(_ m: UnsafeBufferPointer<UInt8>?) -> (stats: IMStats, median: Double) {
                Statistics.imstat(SampleHandle(v, mask: m), lower: lower, upper: upper, nclip: nclip, lsigma: sigma,
                                  usigma: sigma, binwidth: 0.1, histogram: true, median: true)
            }
            guard let mask else { return run(nil) }
            return mask.withUnsafeBufferPointer { run($0) }
        }
        guard let r = reference(x, mask: mask, lower: lower, upper: upper, nclip: nclip, sigma: sigma) else {
            #expect(s.npix == 0 && median.isNaN, "\(label): nothing kept", sourceLocation: sourceLocation)
            return
        }
        let scale = Double(max(abs(r.min), abs(r.max)))
        func near(_ a: Double, _ b: Double) -> Bool { TestSupport.close(a, b, abs: 1e-12 * scale, rel: 1e-10) }
        #expect(s.npix == r.npix, "\(label) npix \(s.npix) vs \(r.npix)", sourceLocation: sourceLocation)
        #expect(s.min == Double(r.min) && s.max == Double(r.max), "\(label) min/max", sourceLocation: sourceLocation)
        #expect(near(s.mean, r.mean) && near(s.stddev, r.sd), "\(label) \(s) vs \(r)", sourceLocation: sourceLocation)
        // (== : the middle values may be −0 and +0, which sort either way.)
        #expect(median == r.median, "\(label) median \(median) vs \(r.median)", sourceLocation: sourceLocation)
    }

    @Test func largeSamplesMatchThePlainWay() {
        var rng = SeededGenerator(seed: 11)
        let n = 200_001
        // Sky 1000 ± 15 with hot pixels, negative outliers, huge values, NaN and infinities.
        var sky = (0..<n).map { _ in Float(1000 + 15 * rng.gaussian()) }
        for i in stride(from: 7, to: n, by: 1009) { sky[i] = Float(5000 + (i % 17) * 1000) }
        for i in stride(from: 5, to: n, by: 2003) { sky[i] = -2000 }
        for i in stride(from: 13, to: n, by: 997) { sky[i] = .nan }
        sky[12345] = 3e38; sky[54321] = -1e30; sky[777] = .infinity; sky[778] = -.infinity
        let mask = (0..<n).map { _ in UInt8(rng.next() % 10 == 0 ? 1 : 0) }
        Self.expectSame(sky, "sky")
        Self.expectSame(sky, mask: mask, "masked")
        Self.expectSame(sky, lower: 990, upper: 1020, nclip: 2, sigma: 3, "limits")
        Self.expectSame(sky, lower: 1e6, "one value in the limits")
        Self.expectSame(sky, lower: 1e39, "nothing in the limits")
        Self.expectSame(sky, lower: -1e31, upper: 1e39, nclip: 0, "nclip 0, a span past Float's range")
        // Differences about zero (both signs, ±0), integers (few distinct values, wide bins),
        // two values, a constant, a tight spread far from zero, an even count.
        let diffs = (0..<n).map { k in k % 50 == 0 ? Float(0) * (k % 100 == 0 ? -1 : 1) : Float(0.3 * rng.gaussian()) }
        Self.expectSame(diffs, "about zero")
        Self.expectSame(diffs.map { ($0 * 20).rounded() }, "integers")
        Self.expectSame((0..<n).map { Float($0 % 3 == 0 ? 1 : 2) }, nclip: 0, "two values")
        Self.expectSame([Float](repeating: 7, count: n), "constant")
        Self.expectSame((0..<n).map { _ in Float(1e4 + 0.01 * rng.gaussian()) }, "tight")
        Self.expectSame(Array(sky.prefix(40_000)), "even count")
        // Mostly one value with a thin tail: the middle bin holds nearly everything.
        Self.expectSame((0..<n).map { k in k % 10 == 0 ? Float(rng.gaussian()) : 5 }, nclip: 0, "one value dominates")
    }

    /// The two middle ranks in different bins, and ranks at the extremes.
    @Test func ranksAcrossBins() {
        var rng = SeededGenerator(seed: 5)
        let x = (0..<100_000).map { k in Float(k < 50_000 ? -10 + rng.gaussian() : 10 + rng.gaussian()) }
        let sorted = x.sorted()
        x.withUnsafeBufferPointer { v in
            let s = SampleHandle(v, mask: nil)
            for ranks in [(49_999, 50_000), (0, 0), (0, 99_999), (99_999, 99_999), (12_345, 87_654)] {
                let got = RangeRanks.values(s, low: sorted.first!, high: sorted.last!, ranks: ranks)
                #expect(got.0 == sorted[ranks.0] && got.1 == sorted[ranks.1], "ranks \(ranks)")
            }
        }
    }
}

/// `ClipCore` on its own: moments and ranks for bounds that hold the core (ranks in the core
/// and in the tails on either side), none for bounds that cut into it.
@Suite struct ClipCoreTests {
    @Test func momentsAndRanksThroughTheCore() throws {
        var g = SeededGenerator(seed: 21)
        var values = (0..<200_000).map { _ in Float(g.gaussian()) }
        for i in stride(from: 3, to: values.count, by: 101) { values[i] = Float(50 + i % 7) }
        for i in stride(from: 9, to: values.count, by: 997) { values[i] = .nan }
        let mask = (0..<values.count).map { UInt8($0 % 13 == 5 ? 1 : 0) }
        try values.withUnsafeBufferPointer { v in
            try mask.withUnsafeBufferPointer { m in
                let s = SampleHandle(v, mask: m)
                let core = try #require(ClipCore(s, lower: -.greatestFiniteMagnitude, upper: .greatestFiniteMagnitude, core: -1, 1))
                #expect(core.moments(lower: -0.5, upper: 10) == nil)
                #expect(core.values(ranks: (0, 1), lower: -10, upper: 0.9) == nil)
                for (lower, upper) in [(Float(-3), Float(3)), (-10, 60), (-.greatestFiniteMagnitude, .greatestFiniteMagnitude)] {
                    let kept = zip(values, mask).filter { $0.1 == 0 && $0.0 >= lower && $0.0 <= upper }.map(\.0).sorted()
                    let got = try #require(core.moments(lower: lower, upper: upper))
                    let mean = kept.reduce(0.0) { $0 + Double($1) } / Double(kept.count)
                    let m2 = kept.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) }
                    #expect(got.n == kept.count && got.min == kept.first! && got.max == kept.last!)
                    #expect(TestSupport.close(got.mean, mean, abs: 1e-12) && TestSupport.close(got.m2, m2, rel: 1e-10))
                    for ranks in [(0, 5), (kept.count / 2 - 1, kept.count / 2), (10, kept.count - 1), (kept.count - 2, kept.count - 1)] {
                        let r = try #require(core.values(ranks: ranks, lower: lower, upper: upper))
                        #expect(r.0 == kept[ranks.0] && r.1 == kept[ranks.1], "ranks \(ranks) in [\(lower), \(upper)]")
                    }
                }
            }
        }
    }
}
