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
        #expect(hdus.map(\.extname) == [nil, "WHT", "ERR", "DQ", "CON"] && hdus[4].bitpix == 32)
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
        // ERR drizzled like the data (driz_err) comes back too on the same grid (r = 1).
        let err = try FITS.readImage(out + "[ERR]").pixels, inErr = try FITS.readImage(frame + "[ERR]").pixels
        var errWorst: Float = 0
        for y in 1..<(input.height - 1) {
            for x in 1..<(input.width - 1) where mask[y * input.width + x] == 0 && wht[y * input.width + x] > 0.999 {
                let k = y * input.width + x
                errWorst = max(errWorst, abs(err[k] - inErr[k]) / max(1, inErr[k]))
            }
        }
        #expect(errWorst < 1e-5)
        let con = try FITS.readImage(out + "[CON]").pixels
        #expect(con.contains(1))
    }

    /// A file named without an extension drizzles its first image HDU (an HST/JWST-style file
    /// with an empty primary), with the primary's EXPTIME and the chip's ERR beside it.
    @Test func firstImageHDUWhenNoneIsNamed() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let sci = try FITS.readImage(frame), err = try FITS.readImage(frame + "[ERR]")
        var primary = Header()
        primary.set("EXPTIME", 42.0)
        var chip = sci.header
        chip.remove("EXPTIME")
        chip.set("EXTVER", 1)
        let mef = dir.appendingPathComponent("mef.fits").path, out = dir.appendingPathComponent("r.fits").path
        try FITSWriter.write([.headerOnly(primary), OutputHDU(Image(width: sci.width, height: sci.height, pixels: sci.pixels, header: chip), extname: "SCI", extver: 1),
                              OutputHDU(err, extname: "ERR", extver: 1)], to: mef, overwrite: false)
        let r = try TestSupport.runTool(["resample", mef, "-o", out, "--sky-key", "", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout.contains("ivm (1/ERR^2)"))
        #expect(try FITS.listHDUs(out)[0].header.double("EXPTIME") == 42)
    }

    /// A float DQ plane with a value past 32 bits is clamped, not a crash (it trapped converting
    /// 2^32 to UInt32).
    @Test func hugeFloatDQValuesAreClamped() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let sci = try FITS.readImage(frame)
        var dq = [Float](repeating: 0, count: sci.width * sci.height)
        dq[5] = 1e10
        let input = dir.appendingPathComponent("in.fits").path, out = dir.appendingPathComponent("r.fits").path
        try FITSWriter.write([OutputHDU(sci), OutputHDU(Image(width: sci.width, height: sci.height, pixels: dq), extname: "DQ")],
                             to: input, overwrite: false)
        let r = try TestSupport.runTool(["resample", input, "-o", out, "--good-bits", "all", "--sky-key", ""])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: out))
    }

    @Test func dqCarriesTheForgivenBitsAndMarksNoData() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let out = dir.appendingPathComponent("r.fits").path, input = dir.appendingPathComponent("m.fits").path
        // The frame with a MASK of bits 1, 4 and 8 here and there.
        let sci = try FITS.readImage(frame)
        let mask = (0..<sci.pixels.count).map { Float([0, 0, 0, 1, 0, 4, 0, 8, 12][$0 % 9]) }
        try FITSWriter.write([OutputHDU(sci), OutputHDU(Image(width: sci.width, height: sci.height, pixels: mask), extname: "MASK")],
                             to: input, overwrite: false)
        // Every bit forgiven: each lands in the output DQ where its pixel landed.
        let r = try TestSupport.runTool(["resample", input, "-o", out, "--ref", input, "--weight-type", "none",
                                         "--sky-key", "", "--good-bits", "all", "--kernel", "point"])
        #expect(r.code == 0, "\(r.stderr)")
        let dq = try FITS.readImage(out + "[DQ]").pixels
        #expect(zip(mask, dq).allSatisfy { $0 == $1 })
        // With no bit forgiven the masked pixels weigh nothing: no input reached them.
        let strict = dir.appendingPathComponent("s.fits").path
        #expect(try TestSupport.runTool(["resample", input, "-o", strict, "--ref", input, "--weight-type", "none",
                                         "--sky-key", "", "--kernel", "point", "--good-bits", "~1"]).code == 0)
        let dq2 = try FITS.readImage(strict + "[DQ]").pixels
        #expect(zip(mask, dq2).allSatisfy { $0 == 1 ? $1 == 32 : $1 == $0 })
    }

    @Test func blotOntoItsOwnGridGivesItBack() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let out = dir.appendingPathComponent("b.fits").path
        let r = try TestSupport.runTool(["resample", "blot", frame, "--ref", frame, "-o", out, "--interp", "linear", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"filled\":0"))
        let a = try FITS.readImage(frame).pixels, b = try FITS.readImage(out).pixels
        #expect(zip(a, b).map { abs($0 - $1) / max(1, abs($0)) }.max()! < 1e-5)
        #expect(try TestSupport.runTool(["resample", "blot", frame, "--ref", frame, "-o", out, "--interp", "sinc"]).code == 64)
    }

    @Test func refusals() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let out = dir.appendingPathComponent("r.fits").path
        #expect(try TestSupport.runTool(["resample", frame, "-o", out, "--kernel", "boxcar"]).code == 64)
        #expect(try TestSupport.runTool(["resample", dir.appendingPathComponent("none.fits").path, "-o", out]).code == 66)
        #expect(try TestSupport.runTool(["resample", frame, "-o", frame, "--overwrite"]).code == 73)
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func variancesFollowStcal() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        // The frame with VAR_RNOISE = 4 and VAR_POISSON = data/10, onto its own grid.
        let sci = try FITS.readImage(frame)
        let rn = Image(width: sci.width, height: sci.height, pixels: [Float](repeating: 4, count: sci.pixels.count))
        let po = Image(width: sci.width, height: sci.height, pixels: sci.pixels.map { max(0, $0) / 10 })
        let input = dir.appendingPathComponent("v.fits").path, out = dir.appendingPathComponent("o.fits").path
        try FITSWriter.write([OutputHDU(sci), OutputHDU(rn, extname: "VAR_RNOISE"), OutputHDU(po, extname: "VAR_POISSON")],
                             to: input, overwrite: false)
        let r = try TestSupport.runTool(["resample", input, "-o", out, "--ref", input, "--sky-key", "", "-q"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(try FITS.listHDUs(out).map(\.extname) == [nil, "WHT", "ERR", "VAR_RNOISE", "VAR_POISSON", "DQ", "CON"])
        let vr = try FITS.readImage(out + "[VAR_RNOISE]").pixels, vp = try FITS.readImage(out + "[VAR_POISSON]").pixels
        let err = try FITS.readImage(out + "[ERR]").pixels
        let k = 40 * sci.width + 60
        #expect(abs(vr[k] - 4) < 1e-4 && abs(vp[k] - po.pixels[k]) < 1e-3 * max(1, po.pixels[k]))
        #expect(abs(err[k] - (vr[k] + vp[k]).squareRoot()) < 1e-4)
    }
}
