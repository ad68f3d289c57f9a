import AstroFITS
import AstroImage
import AstroTestSupport
import Foundation
import Testing

/// Bad input to `astrotool resample` (drizzle, blot, outliers): a clear result, or one line on
/// stderr naming the file and the reason, exit 65 and no output (issue #10).
@Suite struct ResampleBadInputTests {
    static let size = 24, scale = 0.1 / 3600

    /// A TAN frame of 0.1"/px at (ra, dec); `cards` replace or add header cards.
    static func header(ra: Double = 150, dec: Double = 2, _ cards: [(String, CardValue)] = []) -> Header {
        var h = Header()
        h.set("CTYPE1", "RA---TAN"); h.set("CTYPE2", "DEC--TAN")
        h.set("CRVAL1", ra); h.set("CRVAL2", dec)
        h.set("CRPIX1", Double(size) / 2 + 0.5); h.set("CRPIX2", Double(size) / 2 + 0.5)
        h.set("CD1_1", -scale); h.set("CD1_2", 0.0); h.set("CD2_1", 0.0); h.set("CD2_2", scale)
        h.set("EXPTIME", 100.0)
        for (key, value) in cards { h.set(key, value) }
        return h
    }

    /// Writes a frame of value 10 (or `pixels`) with `header` and companion planes.
    @discardableResult
    static func frame(_ dir: URL, _ name: String, _ header: Header, pixels: [Float]? = nil,
                      companions: [(String, Int, Int, [Float]?)] = []) throws -> String {
        let path = dir.appendingPathComponent(name).path
        let n = size * size
        var hdus = [OutputHDU(Image(width: size, height: size, pixels: pixels ?? [Float](repeating: 10, count: n), header: header))]
        for (extname, w, h, plane) in companions {
            hdus.append(OutputHDU(Image(width: w, height: h, pixels: plane ?? [Float](repeating: 1, count: w * h)), extname: extname))
        }
        try FITSWriter.write(hdus, to: path, overwrite: false)
        return path
    }

    /// Runs astrotool; expects exit 65, one stderr line `astrotool: error: FILE…: …REASON…`, no `output`.
    static func expectRefused(_ arguments: [String], naming file: String, because reason: String, output: String,
                              sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try TestSupport.runTool(arguments)
        let lines = r.stderr.split(separator: "\n")
        #expect(r.code == 65, "\(r.stderr)", sourceLocation: sourceLocation)
        #expect(lines.count == 1 && lines[0].hasPrefix("astrotool: error: "), "\(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains(file) && r.stderr.contains(reason), "\(r.stderr)", sourceLocation: sourceLocation)
        #expect(!FileManager.default.fileExists(atPath: output), sourceLocation: sourceLocation)
    }

    @Test func noCelestialWCS() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let out = dir.appendingPathComponent("out.fits").path, outdir = dir.appendingPathComponent("flagged").path
        let good = try Self.frame(dir, "good.fits", Self.header())
        var bare = Header(); bare.set("EXPTIME", 100.0)
        let none = try Self.frame(dir, "none.fits", bare)
        let linear = try Self.frame(dir, "linear.fits", Self.header([("CTYPE1", .string("LINEAR")), ("CTYPE2", .string("LINEAR"))]))
        try Self.expectRefused(["resample", none, "-o", out], naming: none, because: "no celestial WCS: the header has no CTYPEn keywords", output: out)
        try Self.expectRefused(["resample", good, linear, "-o", out], naming: linear, because: "not a celestial WCS", output: out)
        try Self.expectRefused(["resample", good, "--ref", linear, "-o", out], naming: linear, because: "not a celestial WCS", output: out)
        try Self.expectRefused(["resample", "blot", good, "--ref", linear, "-o", out], naming: linear, because: "not a celestial WCS", output: out)
        try Self.expectRefused(["resample", "outliers", good, linear, "--outdir", outdir], naming: linear, because: "not a celestial WCS", output: outdir)
    }

    @Test func wcsWithoutSkyPositions() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let out = dir.appendingPathComponent("out.fits").path
        let good = try Self.frame(dir, "good.fits", Self.header())
        // SIN: every pixel lies beyond the projection's edge, so pixel -> sky gives nothing.
        let nosky = try Self.frame(dir, "nosky.fits", Self.header([("CTYPE1", .string("RA---SIN")), ("CTYPE2", .string("DEC--SIN")),
                                                                   ("CRPIX1", .real(-3000)), ("CD1_1", .real(-0.02)), ("CD2_2", .real(0.02))]))
        let reason = "checking the WCS: the centre pixel (11.50, 11.50) has no sky position"
        try Self.expectRefused(["resample", nosky, "-o", out], naming: nosky, because: reason, output: out)
        try Self.expectRefused(["resample", nosky, "--ref", good, "-o", out], naming: nosky, because: reason, output: out)
        try Self.expectRefused(["resample", good, "--ref", nosky, "-o", out], naming: nosky, because: reason, output: out)
        try Self.expectRefused(["resample", "blot", good, "--ref", nosky, "-o", out], naming: nosky, because: reason, output: out)
    }

    @Test func wcsThatDoesNotInvert() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let out = dir.appendingPathComponent("out.fits").path, outdir = dir.appendingPathComponent("flagged").path
        let good = try Self.frame(dir, "good.fits", Self.header())
        // A SIP term that folds the frame over itself: two pixels share a sky position.
        let fold = try Self.frame(dir, "fold.fits", Self.header([("CTYPE1", .string("RA---TAN-SIP")), ("CTYPE2", .string("DEC--TAN-SIP")),
                                                                 ("A_ORDER", .integer(2)), ("B_ORDER", .integer(2)), ("A_2_0", .real(0.1))]))
        let reason = "checking the WCS: it does not invert: pixel (0.00, 0.00) -> sky -> pixel ("
        try Self.expectRefused(["resample", fold, "-o", out], naming: fold, because: reason, output: out)
        try Self.expectRefused(["resample", good, "--ref", fold, "-o", out], naming: fold, because: reason, output: out)
        try Self.expectRefused(["resample", "blot", fold, "--ref", good, "-o", out], naming: fold, because: reason, output: out)
        try Self.expectRefused(["resample", "outliers", good, fold, "--outdir", outdir], naming: fold, because: reason, output: outdir)
        // A singular CD matrix: every pixel on one line of the sky (this crashed the kernels).
        let singular = try Self.frame(dir, "singular.fits", Self.header([("CD1_1", .real(-1e-5)), ("CD1_2", .real(1e-5)),
                                                                         ("CD2_1", .real(-1e-5)), ("CD2_2", .real(1e-5))]))
        try Self.expectRefused(["resample", singular, "--ref", good, "-o", out], naming: singular,
                               because: "checking the WCS: the centre pixel has no area on the sky", output: out)
    }

    @Test func noOverlapWithTheOutputGrid() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let out = dir.appendingPathComponent("out.fits").path, outdir = dir.appendingPathComponent("flagged").path
        let good = try Self.frame(dir, "good.fits", Self.header())
        let near = try Self.frame(dir, "near.fits", Self.header(ra: 150.00001))
        let far = try Self.frame(dir, "far.fits", Self.header(ra: 200, dec: -30))
        let reason = "it does not overlap the output grid (24x24): no pixel centre lands on it"
        // Alone, or with nothing else landing: refused.
        try Self.expectRefused(["resample", far, "--ref", good, "-o", out], naming: far, because: "drizzling: " + reason, output: out)
        try Self.expectRefused(["resample", "blot", far, "--ref", good, "-o", out], naming: far, because: "the two grids do not overlap", output: out)
        try Self.expectRefused(["resample", "outliers", good, far, "--ref", good, "--outdir", outdir], naming: far,
                               because: "at least two exposures must land on the grid, 1 of 2 do", output: outdir)
        // With others that land: drizzled without it, a warning names it, --json lists it.
        let r = try TestSupport.runTool(["resample", good, far, "--ref", good, "-o", out, "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stderr == "astrotool: warning: \(far)[HDU 0]: drizzling: \(reason); left out\n", "\(r.stderr)")
        #expect(r.stdout.contains("\"unused\":[{\"hdu\":\"HDU 0\",\"input\":\"\(far)\",\"reason\":\"\(reason)\"}]"), "\(r.stdout)")
        let h = try FITS.readHeader(out)
        #expect(h.int("NDRIZIM") == 1 && h.double("EXPTIME") == 100)
        #expect(try FITS.readImage(out).pixels.allSatisfy { abs($0 - 10) < 1e-4 })
        let o = try TestSupport.runTool(["resample", "outliers", good, near, far, "--ref", good, "--outdir", outdir])
        #expect(o.code == 0, "\(o.stderr)")
        #expect(o.stderr.contains("astrotool: warning: \(far)[HDU 0]: finding outliers: \(reason); not tested, copied unflagged"), "\(o.stderr)")
    }

    @Test func inputsTooFarApartForOneGrid() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let out = dir.appendingPathComponent("out.fits").path
        let good = try Self.frame(dir, "good.fits", Self.header())
        let far = try Self.frame(dir, "far.fits", Self.header(ra: 200, dec: -30))
        let opposite = try Self.frame(dir, "opposite.fits", Self.header(ra: 330, dec: -2))
        // Both used to be fatal: a grid of terabytes, or one larger than TAN can hold.
        let r = try TestSupport.runTool(["resample", good, far, "-o", out])
        #expect(r.code == 65 && r.stderr.hasPrefix("astrotool: error: building the output grid: the inputs span ") && r.stderr.split(separator: "\n").count == 1,
                "\(r.stderr)")
        try Self.expectRefused(["resample", good, opposite, "-o", out], naming: opposite,
                               because: "building the output grid: it reaches 90 deg or more from the grid centre", output: out)
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func companionOfAnotherShape() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let out = dir.appendingPathComponent("out.fits").path, outdir = dir.appendingPathComponent("flagged").path
        let good = try Self.frame(dir, "good.fits", Self.header())
        let n = Self.size
        for (extname, w, h) in [("ERR", n, n / 2), ("DQ", n - 1, n), ("VAR_RNOISE", n, n + 1)] {
            let bad = try Self.frame(dir, "\(extname).fits", Self.header(), companions: [(extname, w, h, nil)])
            let reason = "[HDU 1 '\(extname)']: reading a companion: it is \(w)x\(h), the science is \(n)x\(n)"
            try Self.expectRefused(["resample", bad, "-o", out], naming: bad + reason, because: reason, output: out)
            try Self.expectRefused(["resample", "outliers", good, bad, "--outdir", outdir], naming: bad + reason, because: reason, output: outdir)
        }
    }

    @Test func nonFiniteDataAndErrWeighNothing() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let n = Self.size
        var data = [Float](repeating: 10, count: n * n), err = [Float](repeating: 1, count: n * n)
        for k in [5 * n + 5, 5 * n + 6, 6 * n + 5] { data[k] = .nan }
        data[12 * n + 3] = .infinity; data[3 * n + 12] = -.infinity
        for k in [15 * n + 15, 15 * n + 16] { err[k] = .nan }
        err[18 * n + 8] = .infinity
        let bad = try Self.frame(dir, "bad.fits", Self.header(), pixels: data, companions: [("ERR", n, n, err)])
        let good = try Self.frame(dir, "good.fits", Self.header())
        for (kernel, weights) in [("square", "ivm"), ("square", "exptime"), ("point", "none"), ("lanczos3", "ivm"), ("gaussian", "exptime")] {
            let out = dir.appendingPathComponent("\(kernel)-\(weights).fits").path
            let r = try TestSupport.runTool(["resample", bad, "--ref", good, "-o", out, "--kernel", kernel, "--weight-type", weights, "-q"])
            #expect(r.code == 0 && r.stderr.isEmpty, "\(r.stderr)")
            let sci = try FITS.readImage(out).pixels, wht = try FITS.readImage(out + "[WHT]").pixels
            let oerr = try FITS.readImage(out + "[ERR]").pixels, dq = try FITS.readImage(out + "[DQ]").pixels
            // Where anything landed: the good value and a finite ERR, never NaN or Inf. ERR is the
            // propagated error of each output value (never above the inputs' 1): exactly 1 where
            // square or point copy a pixel at full weight (the grid is the input's); less where
            // an output value averages several inputs (Lanczos, Gaussian, or slivers of the
            // neighbours filling a hole).
            let landed = wht.indices.filter { wht[$0] > 0 }
            #expect(landed.count > n * n - 20, "\(kernel) \(weights)")
            #expect(landed.allSatisfy { abs(sci[$0] - 10) < 1e-3 && oerr[$0].isFinite && oerr[$0] > 0 && oerr[$0] < 1 + 1e-3 },
                    "\(kernel) \(weights)")
            if kernel == "square" || kernel == "point" {
                let full = wht.max()! * 0.99
                #expect(landed.filter { wht[$0] >= full }.allSatisfy { abs(oerr[$0] - 1) < 1e-3 }, "\(kernel) \(weights)")
            }
            // Elsewhere: the fill value and DQ no_data.
            #expect(wht.indices.allSatisfy { wht[$0] > 0 || (sci[$0].isNaN && dq[$0] == 32) }, "\(kernel) \(weights)")
            // The point kernel maps pixel to pixel: exactly the non-finite ones are empty.
            if kernel == "point" {
                let empty = Set(wht.indices.filter { wht[$0] == 0 })
                #expect(empty == Set([5 * n + 5, 5 * n + 6, 6 * n + 5, 12 * n + 3, 3 * n + 12, 15 * n + 15, 15 * n + 16, 18 * n + 8]))
            }
        }
        // An input with no finite pixel adds nothing: refused alone, left out with a warning otherwise.
        let out = dir.appendingPathComponent("out.fits").path
        let empty = try Self.frame(dir, "empty.fits", Self.header(), pixels: [Float](repeating: .nan, count: n * n))
        let reason = "every pixel has weight 0 (NaN or infinite data or ERR, flagged DQ, or zero weights)"
        try Self.expectRefused(["resample", empty, "-o", out], naming: empty, because: "drizzling: " + reason, output: out)
        let r = try TestSupport.runTool(["resample", good, empty, "--ref", good, "-o", out])
        #expect(r.code == 0 && r.stderr.contains("astrotool: warning: \(empty)[HDU 0]: drizzling: \(reason); left out"), "\(r.stderr)")
        // An exposure time of 0 with counts would make every value infinite.
        let zero = try Self.frame(dir, "zero.fits", Self.header([("EXPTIME", .real(0))]))
        let out2 = dir.appendingPathComponent("out2.fits").path
        try Self.expectRefused(["resample", zero, "-o", out2, "--units", "counts"], naming: zero,
                               because: "resampling: EXPTIME = 0.0: --units counts divides by it", output: out2)
    }
}
