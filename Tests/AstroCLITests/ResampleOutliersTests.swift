import AstroFITS
import AstroImage
import AstroTestSupport
import Foundation
import Testing

/// `astrotool resample outliers` on a simulated dithered night whose cosmic rays are known.
@Suite struct ResampleOutliersTests {
    /// Four calibrated exposures (overscan, trim, gain, ERR; no dark, so hot pixels stay) in `dir/cal`.
    static func night(_ dir: URL) throws -> (cal: [String], truth: URL) {
        let raw = dir.appendingPathComponent("raw"), cal = dir.appendingPathComponent("cal")
        let sim = try TestSupport.runTool(["simulate", "night", "--outdir", raw.path, "--nbias", "0", "--ndark", "0",
                                           "--nflat", "0", "--nsci", "4", "--shape", "192", "192", "--overscan", "16",
                                           "--stars", "60", "--cr-rate", "60", "--sky-jitter", "0", "--seed", "7", "--quiet"])
        #expect(sim.code == 0, "\(sim.stderr)")
        try FileManager.default.createDirectory(at: cal, withIntermediateDirectories: true)
        var out: [String] = []
        for i in 1...4 {
            let name = String(format: "sci_R_%03d.fits", i), o = cal.appendingPathComponent(name).path
            let r = try TestSupport.runTool(["ccdproc", "process", raw.appendingPathComponent(name).path, "-o", o,
                                             "--oscan", "BIASSEC", "--trim", "TRIMSEC", "--gain", "GAIN",
                                             "--readnoise", "RDNOISE", "--error", "-q"])
            #expect(r.code == 0, "\(r.stderr)")
            out.append(o)
        }
        return (out, raw.appendingPathComponent("truth"))
    }

    @Test func findsTheSimulatedCosmicRaysAndLittleElse() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let (cal, truth) = try Self.night(dir)
        let flagged = dir.appendingPathComponent("flagged").path
        let r = try TestSupport.runTool(["resample", "outliers"] + cal + ["--outdir", flagged, "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"noise\":\"ERR\""))

        // Hot pixels and the hot column are outliers too (no dark was subtracted): not false positives.
        let dark = try FITS.readImage(truth.appendingPathComponent("dark.fits").path)
        let exptime: Float = 60
        var crTotal = 0, crFound = 0, stray = 0
        for (i, path) in cal.enumerated() {
            let out = (flagged as NSString).appendingPathComponent((path as NSString).lastPathComponent)
            let cr = try FITS.readImage(truth.appendingPathComponent(String(format: "cr_%03d.fits", i + 1)).path)
            let mask = try FITS.readImage(out + "[MASK]").pixels
            let w = cr.width, h = cr.height
            // A truth CR pixel or a defect within one pixel (growth and the 3x3 second pass reach that far).
            func explained(_ x: Int, _ y: Int) -> Bool {
                for yy in max(0, y - 1)...min(h - 1, y + 1) {
                    for xx in max(0, x - 1)...min(w - 1, x + 1) {
                        let k = yy * w + xx
                        if cr.pixels[k] > 0 || dark.pixels[k] * exptime > 6 { return true }
                    }
                }
                return false
            }
            for y in 0..<h {
                for x in 0..<w {
                    let k = y * w + x, hit = UInt32(mask[k]) & 4 != 0
                    if cr.pixels[k] > 0 {
                        crTotal += 1
                        if hit { crFound += 1 }
                    } else if hit && !explained(x, y) {
                        stray += 1
                    }
                }
            }
        }
        // Measured: 48 of 49 CR pixels, no stray flag.
        #expect(crTotal > 30)
        #expect(Double(crFound) >= 0.9 * Double(crTotal), "\(crFound) of \(crTotal) cosmic-ray pixels flagged")
        #expect(stray <= 2, "\(stray) flags on clean pixels")
    }

    @Test func refusesInputsSharingAFileNameAndWritingOverInputs() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let frame = TestSupport.path("ccdproc/ref/sci_reduced.fits")
        let copy = dir.appendingPathComponent("a").path
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: frame, toPath: copy + "/sci_reduced.fits")
        let same = try TestSupport.runTool(["resample", "outliers", frame, copy + "/sci_reduced.fits",
                                            "--outdir", dir.appendingPathComponent("o").path])
        #expect(same.code != 0 && same.stderr.contains("sci_reduced.fits"), "\(same.stderr)")
        let over = try TestSupport.runTool(["resample", "outliers", copy + "/sci_reduced.fits", frame, "--outdir", copy])
        #expect(over.code != 0, "\(over.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("o").path))
        // The input is untouched.
        #expect(try Data(contentsOf: URL(fileURLWithPath: copy + "/sci_reduced.fits")) == Data(contentsOf: URL(fileURLWithPath: frame)))
    }
}
