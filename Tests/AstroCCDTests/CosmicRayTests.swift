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
