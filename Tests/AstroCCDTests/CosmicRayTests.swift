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
