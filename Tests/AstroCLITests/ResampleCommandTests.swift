import AstroFITS
import AstroImage
import AstroTestSupport
import Foundation
import Testing

/// `astrotool resample` from the command line.
@Suite struct ResampleCommandTests {
    let frame = TestSupport.path("ccdproc/ref/sci_reduced.fits")

    @Test func ontoItsOwnGridGivesItBack() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let out = dir.appendingPathComponent("r.fits").path
        let r = try TestSupport.runTool(["resample", frame, "-o", out, "--ref", frame, "--weight-type", "none",
                                         "--sky-key", "", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        let hdus = try FITS.listHDUs(out)
        #expect(hdus.map(\.extname) == [nil, "WHT", "CON"] && hdus[2].bitpix == 32)
        #expect(hdus[0].header.int("NDRIZIM") == 1 && hdus[0].header.string("KERNEL") == "square")
        let input = try FITS.readImage(frame), mask = try FITS.readImage(frame + "[MASK]").pixels
        let sci = try FITS.readImage(out).pixels, wht = try FITS.readImage(out + "[WHT]").pixels
        // Unmasked interior pixels come back; masked ones (weight 0) are filled with NaN.
        var worst: Float = 0
        for y in 1..<(input.height - 1) {
            for x in 1..<(input.width - 1) where mask[y * input.width + x] == 0 {
                let k = y * input.width + x
                if wht[k] > 0.999 { worst = max(worst, abs(sci[k] - input.pixels[k]) / max(1, abs(input.pixels[k]))) }
            }
        }
        #expect(worst < 1e-5)
        let con = try FITS.readImage(out + "[CON]").pixels
        #expect(con.contains(1))
    }

    @Test func refusals() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let out = dir.appendingPathComponent("r.fits").path
        #expect(try TestSupport.runTool(["resample", frame, "-o", out, "--kernel", "boxcar"]).code == 64)
        #expect(try TestSupport.runTool(["resample", dir.appendingPathComponent("none.fits").path, "-o", out]).code == 66)
        #expect(try TestSupport.runTool(["resample", frame, "-o", frame, "--overwrite"]).code == 73)
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}
