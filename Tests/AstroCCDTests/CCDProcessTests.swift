@testable import AstroCCD
import AstroFITS
import AstroImage
import AstroTestSupport
import Foundation
import Testing

/// The whole `ccd_process` chain against ccdproc 2.5.1: data, ERR and MASK to 1e-6.
@Suite struct CCDProcessTests {
    func options(scale: Bool) -> ProcessOptions {
        var o = ProcessOptions()
        o.oscan = .keyword("BIASSEC")
        o.trim = .keyword("TRIMSEC")
        o.gain = .keyword("GAIN")
        o.readNoise = .value(5)
        o.error = true
        o.negative = .nan
        o.bias = Fixture.ref("master_bias")
        o.dark = Fixture.ref("master_dark")
        o.flat = Fixture.ref("master_flat")
        o.bpm = Fixture.ref("ccdmask")
        o.darkScale = scale
        o.ccdprocCompat = true
        return o
    }

    @Test(arguments: [(true, "sci_reduced"), (false, "sci_reduced_noscale")])
    func matchesCCDProcess(scale: Bool, ref: String) throws {
        let o = options(scale: scale)
        // The masters are in ADU; the frame is in electrons after the gain step, so the
        // masters are multiplied by the gain (ccdproc needs them gain-corrected beforehand).
        let (out, reports) = try CCDProcess.run(try CCDFile.read(Fixture.raw("sci_R_001")), masters: try Masters(options: o), options: o)
        let got = out.chips[0].image
        let expected = try Fixture.read(Fixture.ref(ref))
        #expect(got.width == 128 && got.height == 96)
        #expect(Fixture.maxDiff(got.pixels, expected.pixels, scale: 1500) < 1e-6)
        #expect(Fixture.maxDiff(got.uncertainty!, expected.uncertainty!, scale: 0) < 1e-6)
        #expect(got.mask! == expected.mask!.map { $0 != 0 ? 1 : 0 })
        #expect(got.header.string("BUNIT") == "electron")
        #expect(reports[0].steps == ["overscan", "trim", "deviation", "bpm", "gain", "bias", "dark", "flat"])
        #expect(got.header.string("DARKCOR")?.contains(scale ? "scale=0.2" : "master_dark") == true)
        #expect(got.header.string("ZEROCOR") != nil && got.header.string("FLATCOR") != nil)
    }

    @Test func ccdprocLogStyle() throws {
        var o = options(scale: true)
        o.logStyle = .ccdproc
        let (out, _) = try CCDProcess.run(try CCDFile.read(Fixture.raw("sci_R_001")), masters: try Masters(options: o), options: o)
        let h = out.chips[0].image.header
        #expect(h.string("SUBTRACT_OVERSCAN") == "suboscan")
        #expect(h.string("SUBOSCAN")?.contains("fits_section=[131:136,1:96], median=True") == true)
        #expect(h.string("OVERSCAN") == nil)
    }

    @Test func isoDates() {
        #expect(CCDProcess.iso(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00Z")
        #expect(CCDProcess.iso(Date(timeIntervalSince1970: 1_796_677_251.75)) == "2026-12-07T21:00:51Z")
        #expect(CCDProcess.iso(Date(timeIntervalSince1970: 1_709_251_199)) == "2024-02-29T23:59:59Z")
    }

    @Test func rateAndRateDark() throws {
        // A dark current rate (BUNIT per second) is multiplied by the frame's exposure time.
        var o = ProcessOptions()
        o.dark = Fixture.ref("master_dark")
        let masters = try Masters(options: o)
        var rateDark = masters.dark!
        Calibrate.scale(&rateDark.chips[0].image, by: 1.0 / 300)
        rateDark.chips[0].image.header.set("BUNIT", "adu / s")
        var m2 = masters
        m2.dark = rateDark
        let frame = try CCDFile.read(Fixture.ref("sci_oscan_trim"))
        let (a, _) = try CCDProcess.run(frame, masters: masters, options: o)
        let (b, _) = try CCDProcess.run(frame, masters: m2, options: o)
        #expect(Fixture.maxDiff(a.chips[0].image.pixels, b.chips[0].image.pixels, scale: 300) < 1e-6)
        o.dark = nil
        o.toRate = true
        let (r, _) = try CCDProcess.run(frame, masters: Masters(options: o), options: o)
        #expect(r.chips[0].image.header.string("BUNIT") == "adu / s")
        #expect(abs(r.chips[0].image.pixels[5] * 60 - frame.chips[0].image.pixels[5]) < 1e-3)
    }

    @Test func refusals() throws {
        let frame = try CCDFile.read(Fixture.raw("sci_R_001"))
        // Master shape differs from the frame (no trim).
        var o = ProcessOptions()
        o.bias = Fixture.ref("master_bias")
        #expect(throws: AstroError.self) { try CCDProcess.run(frame, masters: try Masters(options: o), options: o) }
        // Mixed units: an electron master against an ADU frame without a gain.
        var e = try Masters(options: o)
        e.bias!.chips[0].image.header.set("BUNIT", "electron")
        o.trim = .literal("[1:128,1:96]")
        do {
            _ = try CCDProcess.run(frame, masters: e, options: o)
            Issue.record("mixed units accepted")
        } catch let error as AstroError {
            #expect(error.kind == .badData && error.reason.contains("BUNIT"))
        }
        // A header section outside the frame is bad data (65); on the command line, usage (64).
        var bad = frame
        bad.chips[0].image.header.set("BIASSEC", "[131:140,1:96]")
        var s = ProcessOptions()
        s.oscan = .keyword("BIASSEC")
        do { _ = try CCDProcess.run(bad, masters: try Masters(options: s), options: s); Issue.record("clipped") }
        catch let error as AstroError { #expect(error.kind == .badData) }
        s.oscan = .literal("[131:140,1:96]")
        do { _ = try CCDProcess.run(frame, masters: try Masters(options: s), options: s); Issue.record("clipped") }
        catch let error as AstroError { #expect(error.kind == .usage) }
        // Dark scaling without an exposure time.
        var d = ProcessOptions()
        d.dark = Fixture.ref("master_dark")
        var noTime = try CCDFile.read(Fixture.ref("sci_oscan_trim"))
        noTime.chips[0].image.header.remove("EXPTIME")
        #expect(throws: AstroError.self) { try CCDProcess.run(noTime, masters: try Masters(options: d), options: d) }
        d.darkScale = false
        _ = try CCDProcess.run(noTime, masters: try Masters(options: d), options: d)
    }

    /// The real SAAO 1 m frame (the same file as ../shared/data/saao-1m-raw): rows 480-519 of
    /// the processed frame, as stored by the fixture script.
    @Test func saaoFrame() throws {
        var o = ProcessOptions()
        o.oscan = .keyword("BIASSEC"); o.trim = .keyword("TRIMSEC")
        o.gain = .keyword("GAIN"); o.readNoise = .keyword("RDNOISE")
        o.error = true; o.negative = .nan
        let (out, reports) = try CCDProcess.run(try CCDFile.read(TestSupport.path("fits/a8280271.fits")), masters: try Masters(options: o), options: o)
        let got = out.chips[0].image
        #expect(got.width == 512 && got.height == 520)
        #expect(reports[0].negativeSigma == 455)
        let ref = try Fixture.read(Fixture.ref("saao_process"))
        let rows = 480 * 512..<520 * 512
        #expect(Fixture.maxDiff(Array(got.pixels[rows]), ref.pixels, scale: 1900) < 1e-6)
        #expect(Fixture.maxDiff(Array(got.uncertainty![rows]), ref.uncertainty!, scale: 0) < 1e-6)
    }
}

/// ccdproc's own multi-extension pair (science-mef.fits, flat-mef.fits): each chip is
/// flattened by the matching chip of the flat, normalised by that chip's mean (flat_correct).
@Suite struct MEFProcessTests {
    @Test func flatPerExtension() throws {
        var o = ProcessOptions()
        o.flat = TestSupport.path("fits/flat-mef.fits")
        let science = try CCDFile.read(TestSupport.path("fits/science-mef.fits"))
        let flats = try CCDFile.read(TestSupport.path("fits/flat-mef.fits"))
        let (out, reports) = try CCDProcess.run(science, masters: try Masters(options: o), options: o)
        #expect(out.chips.count == 3 && reports.allSatisfy { $0.steps == ["flat"] })
        for c in 0..<3 {
            let f = flats.chips[c].image.pixels.map(Double.init)
            let mean = f.reduce(0, +) / Double(f.count)
            let want = zip(science.chips[c].image.pixels, f).map { Float(Double($0) / ($1 / mean)) }
            #expect(Fixture.maxDiff(out.chips[c].image.pixels, want, scale: 0) < 1e-6, "chip \(c)")
        }
        // Written back in the same layout: header-only primary, three chips.
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let path = dir.appendingPathComponent("p.fits").path
        try out.write(to: path, overwrite: false)
        #expect(try CCDFile.read(path).chips.count == 3)
    }
}

/// With a trim to follow, the overscan profile is subtracted from the trimmed pixels (one copy
/// of the frame): the same pixels as subtracting from the whole frame and trimming after, for
/// per-line and per-column profiles and flipped sections.
@Suite struct OverscanThenTrimTests {
    @Test(arguments: [("[17:20,1:12]", 1, "[2:15,2:11]"), ("[17:20,1:12]", 1, "[15:2,11:2]"),
                      ("[1:20,11:12]", 0, "[2:15,2:9]"), ("[1:20,11:12]", 0, "[14:3,9:1]")])
    func fusedMatchesTwoSteps(oscan: String, axis: Int, trim: String) throws {
        let (w, h) = (20, 12)
        var rng = SeededGenerator(seed: 5)
        let pixels = (0..<(w * h)).map { k in Float(1000 + 3 * (k % w) + 7 * (k / w)) + Float(rng.gaussian()) * 0.37 }
        let frame = CCDFile(path: "synthetic", chips: [CCDChip(image: Image(width: w, height: h, pixels: pixels))])
        var both = ProcessOptions(), first = ProcessOptions(), then = ProcessOptions()
        both.oscan = .literal(oscan); both.oscanAxis = axis; both.trim = .literal(trim)
        first.oscan = .literal(oscan); first.oscanAxis = axis
        then.trim = .literal(trim)
        let fused = try CCDProcess.run(frame, masters: Masters(options: both), options: both).0
        let subtracted = try CCDProcess.run(frame, masters: Masters(options: first), options: first).0
        let stepwise = try CCDProcess.run(subtracted, masters: Masters(options: then), options: then).0
        let a = fused.chips[0].image, b = stepwise.chips[0].image
        #expect(a.width == b.width && a.height == b.height)
        #expect(a.pixels.map(\.bitPattern) == b.pixels.map(\.bitPattern))
        #expect(a.pixels != pixels.prefix(a.pixels.count).map { $0 }, "the overscan was taken out")
    }
}
