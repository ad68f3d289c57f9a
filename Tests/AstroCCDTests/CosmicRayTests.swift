import AstroCCD
import AstroFITS
import AstroImage
import AstroTestSupport
import Foundation
import Testing

/// L.A.Cosmic against astroscrappy 1.3.0 on the reduced simulated frame (testdata/ccdproc/ref).
@Suite struct LACosmicTests {
    static let input = try! Fixture.read(Fixture.ref("sci_reduced"))

    static func options(_ name: String) -> LACosmicOptions {
        var o = LACosmicOptions()
        o.gain = 1; o.readnoise = 5; o.satlevel = 91962.375
        switch name {
        case "nosepmed": o.sepmed = false
        case "medmask": o.cleantype = .medmask
        case "idw": o.cleantype = .idw
        case "convolve": o.fsmode = .convolve
        case "objlim2": o.objlim = 2
        case "niter1": o.niter = 1
        default: break
        }
        return o
    }

    @Test(arguments: ["default", "nosepmed", "medmask", "idw", "convolve", "objlim2", "niter1", "inmask"])
    func masksMatchAstroscrappy(name: String) throws {
        let image = Self.input
        let inmask = name == "inmask" ? try Fixture.read(Fixture.ref("ccdmask")).pixels.map { UInt8($0 != 0 ? 1 : 0) } : nil
        let r = LACosmic.detect(image.pixels, width: image.width, height: image.height, inmask: inmask,
                                options: Self.options(name))
        let want = try Fixture.read(Fixture.ref("crmask_\(name)")).pixels.map { $0 != 0 }
        let flagged = want.filter { $0 }.count
        let differ = zip(r.mask, want).filter { ($0.0 != 0) != $0.1 }.count
        #expect(differ <= max(3, flagged / 100), "\(name): \(differ) of \(flagged) flagged pixels differ (iterations \(r.found))")
        print("lacosmic \(name): \(differ) differ of \(flagged); found \(r.found)")
        if FileManager.default.fileExists(atPath: Fixture.ref("cr_clean_\(name)")) {
            let clean = try Fixture.read(Fixture.ref("cr_clean_\(name)")).pixels
            let worst = Fixture.maxDiff(r.cleaned, clean, scale: 1000)
            #expect(worst < 1e-6, "\(name): cleaned data differ by \(worst)")
        }
    }
}

/// cosmicray_median against ccdproc 2.5.1 (error image = the frame's ERR).
@Suite struct CosmicRayMedianTests {
    @Test func flagsAndReplacementMatchCcdproc() throws {
        let red = try CCDFile.read(Fixture.ref("sci_reduced")).chips[0].image
        var o = CosmicRayMedianOptions()
        o.rbox = 0
        let flags = CosmicRayMedian.detect(red.pixels, width: red.width, height: red.height,
                                           sigma: red.uncertainty!, bad: nil, options: o).mask
        let want = try Fixture.read(Fixture.ref("crmedian_mask")).pixels.map { UInt8($0 != 0 ? 1 : 0) }
        #expect(flags == want, "\(zip(flags, want).filter { $0 != $1 }.count) flags differ of \(want.filter { $0 != 0 }.count)")

        o.rbox = 5
        o.unmaskedReplacement = true
        let r = CosmicRayMedian.detect(red.pixels, width: red.width, height: red.height,
                                       sigma: red.uncertainty!, bad: nil, options: o)
        let ref = try CCDFile.read(Fixture.ref("crmedian_r5")).chips[0].image
        #expect(Fixture.maxDiff(r.cleaned, ref.pixels, scale: 1000) < 1e-6)
        // By default the replacement leaves cosmic rays out of the median: a cleaned pixel is
        // no brighter than the brightest unflagged pixel of its box.
        o.unmaskedReplacement = false
        let masked = CosmicRayMedian.detect(red.pixels, width: red.width, height: red.height,
                                            sigma: red.uncertainty!, bad: nil, options: o)
        var brighter = 0
        for y in 2..<(red.height - 2) {
            for x in 2..<(red.width - 2) where masked.mask[y * red.width + x] != 0 {
                var top = -Float.infinity
                for j in -2...2 { for k in -2...2 where masked.mask[(y + j) * red.width + x + k] == 0 { top = max(top, red[x + k, y + j]) } }
                if top > -Float.infinity && masked.cleaned[y * red.width + x] > top { brighter += 1 }
            }
        }
        #expect(brighter == 0)
    }
}

/// L.A.Cosmic on a frame with known truth: Gaussian sky noise plus injected hits.
@Suite struct LACosmicTruthTests {
    @Test func findsInjectedHitsAndLittleElse() {
        let w = 128, h = 128
        var g = SeededGenerator(seed: 11)
        var data = (0..<(w * h)).map { _ in Float(300 + (300 + 25).squareRoot() * g.gaussian()) }
        var truth = Set<Int>()
        for k in 0..<40 {
            // Hits away from the 3-pixel border L.A.Cosmic never looks at.
            let x = Int.random(in: 6..<(w - 6), using: &g), y = Int.random(in: 6..<(h - 6), using: &g)
            let amp = Float.random(in: 400...3000, using: &g)
            data[y * w + x] += amp; truth.insert(y * w + x)
            if k % 3 == 0 { data[y * w + x + 1] += amp / 2; truth.insert(y * w + x + 1) }   // two-pixel hits
        }
        var o = LACosmicOptions()
        o.readnoise = 5
        let r = LACosmic.detect(data, width: w, height: h, options: o)
        let flagged = Set(r.mask.indices.filter { r.mask[$0] != 0 })
        let found = truth.intersection(flagged).count
        #expect(Double(found) / Double(truth.count) >= 0.95, "\(found) of \(truth.count) hits found")
        // Away from hits, almost nothing; next to them, the growth step's 1.35σ takes some noise.
        let near = Set(truth.flatMap { i in (-1...1).flatMap { dy in (-1...1).map { dx in i + dy * w + dx } } })
        let stray = flagged.subtracting(near).count, grown = flagged.subtracting(truth).intersection(near).count
        #expect(stray <= 2, "\(stray) false positives away from hits")
        #expect(grown <= truth.count / 2, "\(grown) neighbours flagged")
        // Cleaned hits are back near the sky.
        for i in truth.intersection(flagged) { #expect(abs(r.cleaned[i] - 300) < 80) }
    }
}

/// Passes after the first look only around the flagged pixels (`LACosmic.windowedHits`): on
/// frames whose cosmic rays have faint wings that later passes pick up, near edges and corners
/// and in clusters, with every fine-structure and median mode and a background and variance
/// given, the windowed passes give the mask, cleaned pixels and per-pass counts of passes over
/// the whole frame, bit for bit.
@Suite struct LACosmicWindowTests {
    static func frame(seed: UInt64, width w: Int, height h: Int, rays: Int = 70) -> [Float] {
        var g = SeededGenerator(seed: seed)
        var data = (0..<(w * h)).map { _ in Float(200 + 15 * g.gaussian()) }
        // A few stars, smooth on the scale L.A.Cosmic leaves alone.
        for _ in 0..<6 {
            let cx = Double.random(in: 0..<Double(w), using: &g), cy = Double.random(in: 0..<Double(h), using: &g)
            let flux = Double.random(in: 2000...40000, using: &g)
            for y in max(0, Int(cy) - 8)..<min(h, Int(cy) + 9) {
                for x in max(0, Int(cx) - 8)..<min(w, Int(cx) + 9) {
                    let d2 = (Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy)
                    data[y * w + x] += Float(flux / (2 * .pi * 4) * exp(-d2 / 8))
                }
            }
        }
        // Cosmic rays: bright cores with wings at a few σ, some on the edges and corners, some in
        // clusters close enough for their windows to overlap.
        let corners = [(0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1), (1, h / 2), (w / 2, 1)]
        for k in 0..<rays {
            let (x, y) = k < corners.count ? corners[k]
                : k % 5 == 0 ? (w / 3 + k % 7, h / 3 + k % 4)
                : (Int.random(in: 0..<w, using: &g), Int.random(in: 0..<h, using: &g))
            let amp = Float.random(in: 300...4000, using: &g)
            data[y * w + x] += amp
            for (dx, dy, f) in [(1, 0, Float(0.25)), (-1, 1, 0.12), (2, 0, 0.06), (0, -1, 0.08)] {
                let xx = x + dx, yy = y + dy
                if (0..<w).contains(xx) && (0..<h).contains(yy) { data[yy * w + xx] += amp * f }
            }
        }
        return data
    }

    /// Modes: median fine structure (0), box medians (1), PSF fine structure (2), background,
    /// variance and mask given (3), so many rays that the windows would cover most of the frame
    /// and passes run whole (4), and the unmasked-median cleaning, where every flagged pixel
    /// counts as changed (5).
    @Test(arguments: 0..<6) func windowsChangeNothing(mode: Int) {
        let (w, h) = (157, 121)
        let data = Self.frame(seed: UInt64(40 + mode), width: w, height: h, rays: mode == 4 ? 900 : mode == 5 ? 200 : 70)
        var o = LACosmicOptions()
        o.readnoise = 5; o.niter = 4; o.sigclip = 4; o.objlim = 3
        var background: [Float]? = nil, variance: [Float]? = nil, inmask: [UInt8]? = nil
        switch mode {
        case 1: o.sepmed = false
        case 2: o.fsmode = .convolve; o.psfsize = 7
        case 3:
            background = [Float](repeating: 190, count: w * h)
            variance = data.map { max($0, 0) / 1 + 25 }
            inmask = (0..<(w * h)).map { $0 % 97 == 0 ? 1 : 0 }
        case 5: o.cleantype = .median
        default: break
        }
        let windowed = LACosmic.detect(data, width: w, height: h, inmask: inmask, background: background, variance: variance, options: o)
        let whole = LACosmic.detect(data, width: w, height: h, inmask: inmask, background: background, variance: variance,
                                    options: o, windowed: false)
        #expect(whole.found.count >= 3 && whole.found[1] > 0, "later passes find something: \(whole.found)")
        #expect(windowed.found == whole.found)
        #expect(windowed.mask == whole.mask)
        #expect(windowed.cleaned.map(\.bitPattern) == whole.cleaned.map(\.bitPattern))
    }
}
