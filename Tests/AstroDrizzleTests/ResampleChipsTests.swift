@testable import AstroDrizzle
import AstroFITS
import AstroImage
import AstroTestSupport
import Foundation
import Testing

/// A multi-chip exposure named without an HDU drizzles every SCI chip, as drizzlepac does.
@Suite struct ResampleChipsTests {
    @Test func everySCIChipOfAFileIsAnInput() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let night = dir.appendingPathComponent("night").path
        let sim = try TestSupport.runTool(["simulate", "night", "--outdir", night, "--chips", "2", "--shape", "96", "80", "--overscan", "0",
                                           "--nbias", "0", "--ndark", "0", "--nflat", "0", "--nsci", "2", "--stars", "40", "-q"])
        #expect(sim.code == 0, "\(sim.stderr)")
        let files = ["\(night)/sci_R_001.fits", "\(night)/sci_R_002.fits"]
        #expect(try files.flatMap(FITS.sciChips) == files.flatMap { ["\($0)[SCI,1]", "\($0)[SCI,2]"] })
        #expect(try FITS.sciChips("\(files[0])[SCI,2]") == ["\(files[0])[SCI,2]"])
        var o = ResampleOptions()
        o.skyKey = nil
        let out = dir.appendingPathComponent("mosaic.fits").path
        let r = try Resample.run(files, options: o, output: out, overwrite: false)
        #expect(r.inputs == 4 && r.unused.isEmpty)
        let h = try FITS.readImage(out).header
        #expect(h.int("NDRIZIM") == 4)
        // Two exposures of 60 s, two chips each: 120 s, not 240.
        #expect(h.double("EXPTIME") == 120 && r.exposure == 120)
        // Both chips of each exposure land: the context holds all four bits somewhere.
        let con = try FITS.readImage(out + "[CON]").pixels.map { Int32($0) }
        #expect(con.reduce(Int32(0)) { $0 | $1 } == 0b1111)
        #expect(r.width > 150, "the grid spans both chips: \(r.width)x\(r.height)")
    }
}
