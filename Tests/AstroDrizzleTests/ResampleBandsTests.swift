@testable import AstroDrizzle
import AstroFITS
import AstroImage
import AstroTestSupport
import Foundation
import Testing

/// A mosaic larger than the memory limit is drizzled in bands of output rows, each written into
/// its place in the file: the result is the same, bit for bit, as in one pass.
@Suite struct ResampleBandsTests {
    @Test func bandsGiveTheSameMosaic() throws {
        let frame = TestSupport.path("ccdproc/ref/sci_reduced.fits")
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        // The frame with a variance plane, and a copy whose WCS is shifted by a few pixels.
        let sci = try FITS.readImage(frame), err = try FITS.readImage(frame + "[ERR]"), mask = try FITS.readImage(frame + "[MASK]")
        var shifted = sci.header
        shifted.set("CRPIX1", (sci.header.double("CRPIX1") ?? 0) + 7.3)
        shifted.set("CRPIX2", (sci.header.double("CRPIX2") ?? 0) - 11.6)
        let variance = Image(width: sci.width, height: sci.height, pixels: err.pixels.map { $0 * $0 })
        var paths: [String] = []
        for (k, h) in [sci.header, shifted].enumerated() {
            let p = dir.appendingPathComponent("in\(k).fits").path
            try FITSWriter.write([OutputHDU(Image(width: sci.width, height: sci.height, pixels: sci.pixels, header: h)),
                                  OutputHDU(err, extname: "ERR"), OutputHDU(mask, extname: "MASK", pixelType: .uint8),
                                  OutputHDU(variance, extname: "VAR_RNOISE")], to: p, overwrite: false)
            paths.append(p)
        }
        var o = ResampleOptions()
        o.grid = .cover(pixelScale: nil, ratio: 0.8, rotation: 25, centre: nil, shape: nil)
        o.skyKey = nil
        let one = dir.appendingPathComponent("one.fits").path, banded = dir.appendingPathComponent("banded.fits").path
        let r1 = try Resample.run(paths, options: o, output: one, overwrite: false)
        // A limit that leaves room for about 23 rows per band.
        let inputs = try paths.map { try ResampleInput($0) }
        let layout = ResampleLayout(inputs, width: r1.width, height: r1.height, options: o)
        o.memoryLimit = (64 << 20) + ResampleLayout.bytesPerInput(sci.width * sci.height) + 23 * layout.bytesPerPixel * r1.width
        let r2 = try Resample.run(paths, options: o, output: banded, overwrite: false)
        #expect(r1.passes == 1 && r2.passes == (r1.height + 22) / 23, "\(r2.passes) passes for \(r1.height) rows")
        #expect(r1.missed == r2.missed, "missed \(r1.missed) in one pass, \(r2.missed) in bands")
        let a = try FITS.listHDUs(one), b = try FITS.listHDUs(banded)
        #expect(a.map(\.extname) == b.map(\.extname) && a.map(\.bitpix) == b.map(\.bitpix))
        #expect(a.map(\.extname) == [nil, "WHT", "ERR", "VAR_RNOISE", "DQ", "CON"])
        for (x, y) in zip(a, b) {
            let p = try FITS.readImage("\(one)[\(x.index)]").pixels, q = try FITS.readImage("\(banded)[\(y.index)]").pixels
            #expect(p.count == q.count && zip(p, q).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) },
                    "\(x.extname ?? "SCI") differs")
        }
        for key in ["NDRIZIM", "EXPTIME", "KERNEL", "CRPIX1", "CD1_1"] {
            #expect(a[0].header[key] == b[0].header[key], "\(key)")
        }
        #expect(a[0].header.cards.filter { $0.keyword == "HISTORY" }.count == b[0].header.cards.filter { $0.keyword == "HISTORY" }.count)
    }

    @Test func aLimitTooSmallForOneInputIsRefused() throws {
        let frame = TestSupport.path("ccdproc/ref/sci_reduced.fits")
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        var o = ResampleOptions()
        o.memoryLimit = 1 << 20
        let out = dir.appendingPathComponent("r.fits").path
        #expect(throws: AstroError.self) { try Resample.run([frame], options: o, output: out, overwrite: false) }
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}
