@testable import AstroDrizzle
import AstroFITS
import AstroImage
import AstroTestSupport
import Foundation
import Testing

/// The output ERR of inputs that carry ERR only: propagated as a variance (from_err, the
/// default), the error of the weighted mean, in the output's unit (per second with counts).
@Suite struct ResampleErrorTests {
    @Test func errOfTheMeanInTheOutputsUnit() throws {
        let frame = TestSupport.path("ccdproc/ref/sci_reduced.fits")
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        var h = try FITS.readImage(frame).header
        h.set("EXPTIME", 60.0); h.set("BUNIT", "ELECTRONS")
        let (w, ht) = (120, 100)
        var paths: [String] = []
        for k in 0..<2 {
            let p = dir.appendingPathComponent("in\(k).fits").path
            try FITSWriter.write([OutputHDU(Image(width: w, height: ht, value: 600, header: h)),
                                  OutputHDU(Image(width: w, height: ht, value: 30), extname: "ERR")], to: p, overwrite: false)
            paths.append(p)
        }
        var o = ResampleOptions()
        o.grid = .reference(paths[0])
        o.units = .counts
        o.skyKey = nil
        let out = dir.appendingPathComponent("out.fits").path
        _ = try Resample.run(paths, options: o, output: out, overwrite: false)
        let sci = try FITS.readImage(out), err = try FITS.readImage(out + "[ERR]")
        let centre = (ht / 2) * w + w / 2
        #expect(abs(sci.pixels[centre] - 10) < 1e-5)
        // Two equal frames: 30 e⁻ / 60 s each, the mean's error 0.5 / √2 e⁻/s.
        #expect(abs(err.pixels[centre] - Float(0.5 / 2.squareRoot())) < 1e-5, "\(err.pixels[centre])")
        #expect(sci.header.string("BUNIT") == "ELECTRONS/s")
        // Drizzled in bands of rows (each reading only its input rows), ERR comes out the same.
        let inputs = try paths.map { try ResampleInput($0) }
        let layout = ResampleLayout(inputs, width: w, height: ht, options: o)
        o.memoryLimit = (64 << 20) + ResampleLayout.bytesPerInput(w * ht) + 20 * layout.bytesPerPixel * w
        let banded = dir.appendingPathComponent("banded.fits").path
        #expect(try Resample.run(paths, options: o, output: banded, overwrite: false).passes > 1)
        #expect(try FITS.readImage(banded + "[ERR]").pixels.map(\.bitPattern) == err.pixels.map(\.bitPattern))
        o.memoryLimit = nil
        // driz_err keeps drizzle's meaning (the weighted mean of the errors), in the same unit.
        o.errorSource = .drizErr
        _ = try Resample.run(paths, options: o, output: out, overwrite: true)
        #expect(abs(try FITS.readImage(out + "[ERR]").pixels[centre] - 0.5) < 1e-5)
    }
}
