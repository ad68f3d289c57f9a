@testable import AstroCCD
import AstroFITS
import AstroImage
import AstroTestSupport
import Testing

/// Each calibration step against ccdproc 2.5.1 on the same inputs (Fixture), to 1e-6 relative.
@Suite struct CalibrationStepTests {
    @Test(arguments: [("oscan_median", "median", "none"), ("oscan_mean", "mean", "none"),
                      ("oscan_cheb3", "median", "chebyshev:3"), ("oscan_legendre2", "median", "legendre:2"),
                      ("oscan_poly1", "median", "poly:1")])
    func overscan(ref: String, stat: String, model: String) throws {
        var image = try Fixture.read(Fixture.raw("bias_001"))
        let o = OverscanOptions(region: try Fixture.region(Fixture.biassec, image), sectionText: Fixture.biassec,
                                axis: 1, statistic: .init(rawValue: stat)!, model: try .parse(model))
        _ = try Overscan.subtract(&image, o)
        let expected = try Fixture.read(Fixture.ref(ref))
        #expect(Fixture.maxDiff(image.pixels, expected.pixels, scale: 1000) < 1e-6)
    }

    @Test func trimRewritesSections() throws {
        var image = try Fixture.read(Fixture.raw("bias_001"))
        _ = try Overscan.subtract(&image, .init(region: try Fixture.region(Fixture.biassec, image), sectionText: Fixture.biassec))
        let trimmed = Trim.apply(image, region: try Fixture.region("[3:128,2:96]", image))
        #expect(trimmed.width == 126 && trimmed.height == 95)
        #expect(trimmed.header.string("CCDSEC") == "[3:128,2:96]")
        #expect(trimmed.header.double("LTV1") == -2 && trimmed.header.double("LTV2") == -1)
        #expect(trimmed.header.string("TRIMSEC") == nil && trimmed.header.string("BIASSEC") == nil)
        // A second trim composes with the first.
        let again = Trim.apply(trimmed, region: try Fixture.region("[2:10,1:5]", trimmed))
        #expect(again.header.string("CCDSEC") == "[4:12,2:6]")
        let ref = try Fixture.read(Fixture.ref("trim"))
        let full = Trim.apply(image, region: try Fixture.region(Fixture.trimsec, image))
        #expect(Fixture.maxDiff(full.pixels, ref.pixels, scale: 1000) < 1e-6)
    }

    @Test func deviationAndGain() throws {
        var image = try Fixture.read(Fixture.ref("sci_oscan_trim"))
        let negatives = Calibrate.deviation(&image, gain: 1.5, readNoise: 5, negative: .nan)
        #expect(negatives == 0)
        let dev = try Fixture.read(Fixture.ref("deviation"))
        #expect(Fixture.maxDiff(image.uncertainty!, dev.uncertainty!, scale: 0) < 1e-6)
        Calibrate.scale(&image, by: 1.5)
        let gained = try Fixture.read(Fixture.ref("gain"))
        #expect(Fixture.maxDiff(image.pixels, gained.pixels, scale: 0) < 1e-6)
        #expect(Fixture.maxDiff(image.uncertainty!, gained.uncertainty!, scale: 0) < 1e-6)
    }

    @Test func biasDarkFlat() throws {
        var image = try Fixture.read(Fixture.ref("gain"))
        var bias = try Fixture.read(Fixture.ref("master_bias"))
        var dark = try Fixture.read(Fixture.ref("master_dark"))
        let flat = try Fixture.read(Fixture.ref("master_flat"))
        Calibrate.scale(&bias, by: 1.5)
        Calibrate.scale(&dark, by: 1.5)
        Calibrate.subtract(&image, bias)
        let b = try Fixture.read(Fixture.ref("bias_sub"))
        #expect(Fixture.maxDiff(image.pixels, b.pixels, scale: 300) < 1e-6)
        #expect(Fixture.maxDiff(image.uncertainty!, b.uncertainty!, scale: 0) < 1e-6)
        var unscaled = image
        Calibrate.subtract(&unscaled, dark)
        let dn = try Fixture.read(Fixture.ref("dark_noscale"))
        #expect(Fixture.maxDiff(unscaled.pixels, dn.pixels, scale: 300) < 1e-6)
        Calibrate.subtract(&image, dark, factor: 60.0 / 300.0)
        let ds = try Fixture.read(Fixture.ref("dark_scaled"))
        #expect(Fixture.maxDiff(image.pixels, ds.pixels, scale: 300) < 1e-6)
        #expect(Fixture.maxDiff(image.uncertainty!, ds.uncertainty!, scale: 0) < 1e-6)
        for (name, options) in [("flat", Calibrate.FlatOptions()), ("flat_min", .init(minValue: 0.9)),
                                ("flat_norm", .init(normValue: 2.0))] {
            var f = try Fixture.read(Fixture.ref("dark_scaled"))
            let result = try Calibrate.flat(&f, flat, options: options)
            #expect(result.badFlat == 0)
            let ref = try Fixture.read(Fixture.ref(name))
            #expect(Fixture.maxDiff(f.pixels, ref.pixels, scale: 300) < 1e-6, "\(name)")
            #expect(Fixture.maxDiff(f.uncertainty!, ref.uncertainty!, scale: 0) < 1e-6, "\(name)")
        }
    }

    /// ccdproc's norm is the plain mean; ours skips masked, non-positive and NaN pixels, which
    /// are masked BAD_FLAT and divided by 1 rather than poisoning the frame.
    @Test func flatGuards() throws {
        var image = Image(width: 4, height: 1, pixels: [10, 10, 10, 10], uncertainty: [1, 1, 1, 1])
        let flat = Image(width: 4, height: 1, pixels: [2, 0, .nan, 4], mask: [0, 0, 0, 0])
        let r = try Calibrate.flat(&image, flat, options: .init())
        #expect(r.norm == 3 && r.badFlat == 2)
        #expect(image.pixels == [15, 10, 10, 7.5])
        #expect(image.mask == [0, 8, 8, 0])
        var none = Image(width: 2, height: 1, pixels: [1, 1])
        #expect(throws: AstroError.self) {
            try Calibrate.flat(&none, Image(width: 2, height: 1, pixels: [0, -1]), options: .init())
        }
    }

    /// Deviation with the Poisson term clamped at zero (our default) versus ccdproc's NaN.
    @Test func deviationNegatives() {
        var image = Image(width: 3, height: 1, pixels: [-4, 0, 6])
        #expect(Calibrate.deviation(&image, gain: 2, readNoise: 4, negative: .clamp) == 1)
        #expect(image.uncertainty == [2, 2, Float((12.0 + 16).squareRoot() / 2)])
        #expect(Calibrate.deviation(&image, gain: 2, readNoise: 4, negative: .nan) == 1)
        #expect(image.uncertainty![0].isNaN)
    }

    /// Deviation and flat take four pixels a step and the rest one by one: a row of eleven
    /// (two steps and a tail) gives, pixel for pixel, the bits of one-pixel images (all tail),
    /// through negatives, NaN, a zero and a clamped flat value, masked and unmasked.
    @Test func vectorStepsMatchSinglePixels() throws {
        let data: [Float] = [-4, 0, 6, .nan, 1e4, 3.5, -0.25, 7, 12345.6, 2, 0.001]
        let flatValues: [Float] = [1.1, 0.95, 0, .nan, 0.5, 1.02, -3, 1.3, 0.7, 0.99, 1]
        let flatSigma: [Float] = [0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.1, 0.11]
        let flatMask: [UInt8] = [0, 1, 0, 0, 2, 0, 0, 0, 1, 0, 0]
        for negative in Calibrate.Negative.allCases {
            var row = Image(width: data.count, height: 1, pixels: data)
            let n = Calibrate.deviation(&row, gain: 1.7, readNoise: 4.2, negative: negative)
            var single = 0
            for (k, v) in data.enumerated() {
                var one = Image(width: 1, height: 1, pixels: [v])
                single += Calibrate.deviation(&one, gain: 1.7, readNoise: 4.2, negative: negative)
                #expect(row.uncertainty![k].bitPattern == one.uncertainty![0].bitPattern, "deviation \(negative) pixel \(k)")
            }
            #expect(n == single)
        }
        // Raised to 0.6, only the NaN flat pixel is bad; unraised, also the zero and the negative.
        for (options, expectedBad) in [(Calibrate.FlatOptions(minValue: 0.6, normValue: 1.05), 1), (.init(normValue: 1.05), 3)] {
            var row = Image(width: data.count, height: 1, pixels: data, uncertainty: data.map { abs($0) / 10 })
            let flat = Image(width: data.count, height: 1, pixels: flatValues, mask: flatMask, uncertainty: flatSigma)
            let r = try Calibrate.flat(&row, flat, options: options)
            var bad = 0
            for k in data.indices {
                var one = Image(width: 1, height: 1, pixels: [data[k]], uncertainty: [abs(data[k]) / 10])
                let f = Image(width: 1, height: 1, pixels: [flatValues[k]], mask: [flatMask[k]], uncertainty: [flatSigma[k]])
                bad += try Calibrate.flat(&one, f, options: options).badFlat
                #expect(row.pixels[k].bitPattern == one.pixels[0].bitPattern, "flat pixel \(k)")
                #expect(row.uncertainty![k].bitPattern == one.uncertainty![0].bitPattern, "flat σ \(k)")
                #expect(row.mask![k] == one.mask![0], "flat mask \(k)")
            }
            #expect(r.badFlat == bad && bad == expectedBad)
        }
    }

    /// Every polynomial family fits the same values; rejection ignores a garbage line (ccdproc #722).
    @Test func polyfit() {
        let xs = (0..<50).map(Double.init)
        let truth = xs.map { 1000 + 0.5 * $0 - 0.01 * $0 * $0 }
        let fit = Polyfit.fit(truth, degree: 2)
        #expect(zip(fit, truth).allSatisfy { abs($0 - $1) < 1e-9 })
        var spoiled = truth
        spoiled[20] = 4e9
        let robust = Polyfit.fit(spoiled, degree: 2, rejection: .init(low: 3, high: 3, iterations: 5))
        #expect(zip(robust, truth).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    @Test func overscanRefusesPartialStrip() throws {
        var image = Image(width: 10, height: 8, value: 5)
        let o = OverscanOptions(region: try Fixture.region("[9:10,1:4]", image), sectionText: "[9:10,1:4]")
        #expect(throws: AstroError.self) { try Overscan.subtract(&image, o) }
    }
}

/// ccdmask and bitfield_to_boolean_mask against ccdproc 2.5.1 / astropy.
@Suite struct MaskToolTests {
    @Test func ccdmaskMatchesCcdproc() throws {
        let flat = try Fixture.read(Fixture.ref("master_flat"))
        let mask = CCDMask.find(flat, options: CCDMaskOptions())
        let want = try Fixture.read(Fixture.ref("ccdmask")).pixels.map { UInt8($0 != 0 ? 1 : 0) }
        #expect(mask == want, "\(zip(mask, want).filter { $0 != $1 }.count) pixels differ of \(want.filter { $0 != 0 }.count) bad")
    }

    @Test func columnGapsFillUpToNgood() {
        // One column: bad, 3 good, bad, 6 good, bad.
        var m: [UInt8] = [1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0]
        CCDMask.fillColumnGaps(&m, width: 1, height: m.count, ngood: 5)
        #expect(m == [1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0])
    }

    @Test func bitmaskMatchesAstropy() throws {
        let doc = try TestSupport.json("ccdproc/ref/bitmask.json") as [String: Any]
        let input = (doc["input"] as! [Int]).map(Float.init)
        var checked = 0
        for c in doc["cases"] as! [[String: Any]] {
            let ignore: String? = {
                switch c["ignore_flags"] {
                case let n as Int: return String(n)
                case let s as String: return s
                default: return "all"   // None
                }
            }()
            let flip = c["flip_bits"] as? Bool ?? false
            if let want = c["astropy"] as? [Bool] {
                let got = BitMask.apply(input, good: try BitMask.parse(ignore: ignore, flip: flip))
                #expect(got == want.map { $0 ? 1 : 0 }, "ignore \(ignore ?? "nil") flip \(flip)")
                checked += 1
            }
        }
        #expect(checked == 10)
        #expect(try BitMask.apply([0, 2, 8, 9], good: BitMask.parse(ignore: "~(1,8,32)", flip: false)) == [0, 0, 1, 1])
        #expect(throws: AstroError.self) { try BitMask.parse(ignore: "4,8", flip: true) }
    }
}

/// `ccdproc stats` regions and comparisons.
@Suite struct RegionStatsTests {
    @Test func regionsAndComparisons() throws {
        let pixels = (0..<100).map { Float($0) }
        let image = Image(width: 10, height: 10, pixels: pixels)
        var o = RegionStatsOptions()
        o.region = .section("[1:5,1:2]")
        var s = try RegionStats.compute(image, file: "t", options: o)
        #expect(s.npix == 10 && s.mean == 7 && s.min == 0 && s.max == 14)
        o.region = .circle(x: 5, y: 5, radius: 1)   // the centre pixel and its four neighbours
        s = try RegionStats.compute(image, file: "t", options: o)
        #expect(s.npix == 5 && s.mean == 44)
        o.region = .whole
        o.compare = .minus(Image(width: 10, height: 10, pixels: pixels.map { $0 - 2 }))
        s = try RegionStats.compute(image, file: "t", options: o)
        #expect(s.mean == 2 && s.std == 0)
        o.compare = .divide(Image(width: 10, height: 10, pixels: [Float](repeating: 2, count: 100)))
        s = try RegionStats.compute(image, file: "t", options: o)
        #expect(s.mean == 24.75)
        o.compare = .minus(Image(width: 5, height: 5, pixels: [Float](repeating: 0, count: 25)))
        #expect(throws: AstroError.self) { try RegionStats.compute(image, file: "t", options: o) }
        var masked = image
        masked.mask = (0..<100).map { $0 < 50 ? 1 : 0 }
        o.compare = nil
        s = try RegionStats.compute(masked, file: "t", options: o)
        #expect(s.npix == 50 && s.nmasked == 50 && s.min == 50)
    }
}

/// median-filter against scipy; clip and offset against their definitions.
@Suite struct PixelToolTests {
    @Test func medianFilterMatchesScipy() throws {
        let doc = try TestSupport.json("ccdproc/ref/medfilt.json") as [String: Any]
        let shape = doc["shape"] as! [Int]
        let image = Image(width: shape[1], height: shape[0], pixels: (doc["input"] as! [Double]).map(Float.init))
        for c in doc["cases"] as! [[String: Any]] {
            let size = c["size"] as! [Int]
            let boundary = Boundary.parse(c["mode"] as! String, cval: Float(c["cval"] as! Double))!
            let got = MaskedMedianFilter.apply(image, height: size[0], width: size[1], boundary: boundary)
            let want = (c["output"] as! [Double]).map(Float.init)
            #expect(got == want, "\(c["mode"]!) \(size)")
        }
    }

    @Test func medianFilterLeavesOutNaNAndMask() {
        var image = Image(width: 5, height: 1, pixels: [1, 2, .nan, 100, 5])
        var got = MaskedMedianFilter.apply(image, height: 1, width: 3, boundary: .nearest)
        // Windows (nearest edges): [1,1,2] [1,2,nan] [2,nan,100] [nan,100,5] [100,5,5].
        #expect(got == [1, 2, 100, 100, 5])
        image.mask = [0, 0, 0, 1, 0]
        got = MaskedMedianFilter.apply(image, height: 1, width: 3, boundary: .nearest)
        #expect(got[2] == 2 && got[3] == 5)
    }

    @Test func clipAndOffset() throws {
        var image = Image(width: 10, height: 1, pixels: [1, 2, 3, 4, 5, 6, 7, 8, 9, 100])
        var o = ClipOptions(condition: .threshold(50, .gt))
        o.action = .noclipMedian
        #expect(try Clip.apply(&image, o, file: "t") == 1)
        #expect(image.pixels[9] == 5)                         // median of 1...9
        o = ClipOptions(condition: .outliers(lo: 10, hi: 90, percent: true))
        o.action = .mask                                       // range 1..9: keep 1.8...8.2
        #expect(try Clip.apply(&image, o, file: "t") == 2)
        #expect(image.mask == [16, 0, 0, 0, 0, 0, 0, 0, 16, 0])
        var flat = Image(width: 3, height: 1, pixels: [4, 6, 9])
        #expect(try Clip.offset(&flat, "minp1", section: nil, file: "t") == 3)
        #expect(flat.pixels == [1, 3, 6])
        #expect(try Clip.offset(&flat, "gmin", section: nil, file: "t") == 1)
        #expect(flat.pixels == [0, 2, 5])
    }
}
