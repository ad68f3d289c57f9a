@testable import AstroDrizzle
import AstroFITS
import AstroImage
import AstroTestSupport
import Foundation
import Testing

/// The sky a chip's header names is taken out while drizzling: a level (SKYVALUE), or
/// skymatch --model plane's level at the chip's centre with slopes per pixel (SKYSLPX/SKYSLPY).
@Suite struct ResampleSkyTests {
    @Test func aPlaneSkyIsSubtractedWhole() throws {
        let frame = TestSupport.path("ccdproc/ref/sci_reduced.fits")
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        var h = try FITS.readImage(frame).header
        let (w, ht) = (200, 150)
        let (level, gx, gy) = (40.0, 0.03, -0.02)
        let cx = Double(w - 1) / 2, cy = Double(ht - 1) / 2
        let pixels = (0..<(w * ht)).map { k in Float(level + gx * (Double(k % w) - cx) + gy * (Double(k / w) - cy)) }
        h.set("SKYVALUE", level); h.set("SKYSLPX", gx); h.set("SKYSLPY", gy)
        let path = dir.appendingPathComponent("plane.fits").path
        try FITSWriter.write([OutputHDU(Image(width: w, height: ht, pixels: pixels, header: h))], to: path, overwrite: false)
        var o = ResampleOptions()
        o.grid = .reference(path)
        let out = dir.appendingPathComponent("out.fits").path
        _ = try Resample.run([path], options: o, output: out, overwrite: false)
        let sci = try FITS.readImage(out).pixels.filter(\.isFinite)
        #expect(sci.count > w * ht / 2)
        #expect(sci.map { abs($0) }.max()! < 1e-4, "largest residual \(sci.map { abs($0) }.max()!)")
        // In bands, each reading only its input rows, the plane is taken out the same way.
        let inputs = [try ResampleInput(path)]
        let layout = ResampleLayout(inputs, width: w, height: ht, options: o)
        o.memoryLimit = (64 << 20) + ResampleLayout.bytesPerInput(w * ht) + 20 * layout.bytesPerPixel * w
        let banded = dir.appendingPathComponent("banded.fits").path
        let r = try Resample.run([path], options: o, output: banded, overwrite: false)
        #expect(r.passes > 1)
        #expect(try FITS.readImage(banded).pixels.map(\.bitPattern) == FITS.readImage(out).pixels.map(\.bitPattern))
        o.memoryLimit = nil
        // Marked as subtracted already: nothing is taken out.
        h.set("SKYSUB", true)
        let done = dir.appendingPathComponent("done.fits").path
        try FITSWriter.write([OutputHDU(Image(width: w, height: ht, pixels: pixels, header: h))], to: done, overwrite: false)
        _ = try Resample.run([done], options: o, output: out, overwrite: true)
        let kept = try FITS.readImage(out).pixels
        #expect(abs(kept[(ht / 2) * w + w / 2] - pixels[(ht / 2) * w + w / 2]) < 1e-3)
    }
}
