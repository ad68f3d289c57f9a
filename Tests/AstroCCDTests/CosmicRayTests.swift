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
