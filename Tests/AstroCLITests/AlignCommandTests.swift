import AstroFITS
import AstroImage
import AstroTestSupport
import Foundation
import Testing

/// `astrotool align` from the command line: warp, --update-wcs, detect, catalogues, bad input.
@Suite struct AlignCommandTests {
    static let n = 300

    /// A TAN header at 0.5"/px centred on (ra, 10) with the y axis rotated `rotation` degrees.
    static func header(ra: Double, rotation: Double, object: String) -> Header {
        var h = Header()
        for (k, v) in [("CTYPE1", "RA---TAN"), ("CTYPE2", "DEC--TAN"), ("CUNIT1", "deg"), ("CUNIT2", "deg"), ("OBJECT", object)] { h.set(k, v) }
        let s = 0.5 / 3600, t = rotation * Double.pi / 180
        h.set("CRPIX1", Double(n + 1) / 2); h.set("CRPIX2", Double(n + 1) / 2)
        h.set("CRVAL1", ra); h.set("CRVAL2", 10.0)
        h.set("CD1_1", -s * cos(t)); h.set("CD1_2", s * sin(t)); h.set("CD2_1", s * sin(t)); h.set("CD2_2", s * cos(t))
        return h
    }

    /// Template and source of one field; the source is rotated by 20° and shifted.
    static func pair(in dir: URL) throws -> (template: String, source: String) {
        let c = Double(n - 1) / 2, t = 20 * Double.pi / 180
        let pair = SyntheticStars.pair(width: n, height: n, stars: 120, seed: 21) { x, y in
            (c + cos(t) * (x - c) - sin(t) * (y - c) + 6.5, c + sin(t) * (x - c) + cos(t) * (y - c) - 4.25)
        }
        let template = dir.appendingPathComponent("template.fits").path
        let source = dir.appendingPathComponent("source.fits").path
        try FITSWriter.write([OutputHDU(Image(width: n, height: n, pixels: pair.template, header: header(ra: 200, rotation: 0, object: "tmpl")))],
                             to: template, overwrite: false)
        try FITSWriter.write([OutputHDU(Image(width: n, height: n, pixels: pair.source, header: header(ra: 200.0005, rotation: 0, object: "src"))),
                              OutputHDU(Image(width: n, height: n, value: 3), extname: "ERR")],
                             to: source, overwrite: false)
        return (template, source)
    }

    static func files(_ dir: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
    }

    @Test func warpWithJSONAndTransformFile() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let (template, source) = try Self.pair(in: dir)
        let out = dir.appendingPathComponent("out.fits").path, t = dir.appendingPathComponent("t.json").path
        let run = try TestSupport.runTool(["align", source, out, "-tf", template, "--json", "--transform", t])
        #expect(run.code == 0, "\(run.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
        let stats = json["transform"] as! [String: Any]
        #expect(json["mode"] as? String == "warp" && (stats["rms"] as! Double) < 0.3 && (stats["used"] as! Int) >= 20)
        #expect(abs((stats["rotation"] as! Double) + 20) < 0.05)
        #expect(FileManager.default.fileExists(atPath: t))
        let image = try FITS.readImage(out)
        #expect(image.header.string("OBJECT") == "src" && image.header.double("CRVAL1") == 200)
        #expect(try FITS.listHDUs(out).map(\.extname) == [nil, "MASK"])

        let text = try TestSupport.runTool(["align", source, out, "-tf", template, "--overwrite", "--interp", "bilinear"])
        #expect(text.code == 0 && text.stdout.contains("Matched") && text.stdout.contains("rms"))
        let again = try TestSupport.runTool(["align", source, out, "-tf", template])
        #expect(again.code == 73 && again.stderr.contains("output exists"))

        // A forced polynomial warps (its pull map) and says so; --update-wcs writes it as TAN-SIP.
        let poly = try TestSupport.runTool(["align", source, out, "-tf", template, "--overwrite", "--model", "poly", "--poly-order", "2", "--json"])
        #expect(poly.code == 0, "\(poly.stderr)")
        let pj = (try JSONSerialization.jsonObject(with: Data(poly.stdout.utf8)) as! [String: Any])["transform"] as! [String: Any]
        #expect(pj["model"] as? String == "poly2" && pj["pullPoly"] != nil && (pj["rms"] as! Double) < 0.3)
        #expect(try FITS.readImage(out).header.history.contains { $0.contains("polynomial of order 2") })
        #expect(try TestSupport.runTool(["align", "--update-wcs", source, out, "-tf", template, "--overwrite", "--model", "poly"]).code == 0)
        #expect(try FITS.readImage(out).header.string("CTYPE1") == "RA---TAN-SIP")
        #expect(try TestSupport.runTool(["align", source, out, "-tf", template, "--overwrite", "--poly-order", "7"]).code == 64)
    }

    /// `--model spline`: reported in the JSON and the header; `--spline-order 0` is the affine
    /// fit; no WCS can carry it.
    @Test func splineModel() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let (template, source) = try Self.pair(in: dir)
        let out = dir.appendingPathComponent("out.fits").path, t = dir.appendingPathComponent("t.json").path
        func transform(_ stdout: String) throws -> [String: Any] {
            (try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as! [String: Any])["transform"] as! [String: Any]
        }
        let run = try TestSupport.runTool(["align", source, out, "-tf", template, "--model", "spline", "--json", "--transform", t])
        #expect(run.code == 0, "\(run.stderr)")
        let sj = try transform(run.stdout)
        let spline = try #require(sj["spline"] as? [String: Any])
        #expect(sj["model"] as? String == "spline3" && sj["splineOrder"] as? Int == 3 && (sj["rms"] as! Double) < 0.3)
        #expect((spline["knotsX"] as? [Double])?.count == 8 && (spline["coefficientsX"] as? [Double])?.count == 16 && spline["linear"] != nil)
        #expect(try transform(try String(contentsOfFile: t, encoding: .utf8))["model"] as? String == "spline3")
        #expect(try FITS.readImage(out).header.string("ALIGNMOD") == "spline3")
        let text = try TestSupport.runTool(["align", source, out, "-tf", template, "--overwrite", "--model", "spline", "--spline-order", "2"])
        #expect(text.code == 0 && text.stdout.contains("spline of degree 2"), "\(text.stderr)")

        let zero = try TestSupport.runTool(["align", source, out, "-tf", template, "--overwrite", "--model", "spline", "--spline-order", "0", "--json"])
        let affine = try TestSupport.runTool(["align", source, out, "-tf", template, "--overwrite", "--model", "affine", "--json"])
        let zj = try transform(zero.stdout), aj = try transform(affine.stdout)
        #expect(zj["model"] as? String == "affine" && zj["spline"] == nil)
        #expect(NSDictionary(dictionary: zj["push"] as! [String: Any]) == NSDictionary(dictionary: aj["push"] as! [String: Any]))
        #expect(zj["rms"] as? Double == aj["rms"] as? Double)

        let reg = dir.appendingPathComponent("reg.fits").path
        let wcs = try TestSupport.runTool(["align", "--update-wcs", source, reg, "-tf", template, "--model", "spline"])
        #expect(wcs.code == 64 && wcs.stderr.contains("--update-wcs cannot carry a spline"))
        #expect(try TestSupport.runTool(["align", "--update-wcs", source, reg, "-tf", template, "--model", "spline", "--spline-order", "0"]).code == 0)
        for bad in [["--model", "spline", "--spline-order", "6"], ["--spline-order", "2"], ["--spline-order", "0"], ["--spline-smoothing", "2"], ["--model", "spline", "--spline-smoothing", "0"]] {
            #expect(try TestSupport.runTool(["align", source, out, "-tf", template, "--overwrite"] + bad).code == 64, "\(bad)")
        }
    }

    @Test func updateWCSAndCatalogues() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let (template, source) = try Self.pair(in: dir)
        let reg = dir.appendingPathComponent("reg.fits").path
        let run = try TestSupport.runTool(["align", "--update-wcs", source, reg, "-tf", template, "-q"])
        #expect(run.code == 0, "\(run.stderr)")
        let before = try FITS.readImage(source), after = try FITS.readImage(reg)
        #expect(before.pixels == after.pixels && after.header.history.contains { $0.contains("WCS tied") })
        #expect(abs(after.header.double("CD1_1")! - (-0.5 / 3600 * cos(20 * Double.pi / 180))) < 1e-8)
        #expect(try FITS.listHDUs(reg).map(\.extname) == [nil, "ERR"])

        // detect → catalogues → register from catalogues alone (no template image: source grid).
        let tc = dir.appendingPathComponent("t.cat").path, sc = dir.appendingPathComponent("s.cat").path
        let regions = dir.appendingPathComponent("t.reg").path
        let d1 = try TestSupport.runTool(["align", "detect", template, "-o", tc, "--regions", regions])
        #expect(d1.code == 0 && d1.stdout.contains("sources"), "\(d1.stderr)")
        #expect(try String(contentsOfFile: regions, encoding: .utf8).contains("circle("))
        #expect(try TestSupport.runTool(["align", "detect", source, "-o", sc, "--json"]).code == 0)
        let out = dir.appendingPathComponent("fromcat.fits").path
        let cat = try TestSupport.runTool(["align", source, out, "-tc", tc, "-sc", sc, "--json"])
        #expect(cat.code == 0, "\(cat.stderr)")
        let stats = (try JSONSerialization.jsonObject(with: Data(cat.stdout.utf8)) as! [String: Any])["transform"] as! [String: Any]
        #expect(abs((stats["rotation"] as! Double) + 20) < 0.05)

        // FITS_LDAC by the name (or --format), read back as a template catalogue.
        let ldac = dir.appendingPathComponent("t.ldac").path
        let d2 = try TestSupport.runTool(["align", "detect", template, "-o", ldac])
        #expect(d2.code == 0 && d2.stdout.contains("FITS_LDAC"), "\(d2.stderr)")
        #expect(try TestSupport.runTool(["align", "detect", template, "-o", ldac]).code == 73)
        #expect(try TestSupport.runTool(["align", "detect", template, "-o", dir.appendingPathComponent("x.cat").path, "--format", "votable"]).code == 64)
        let fromLDAC = try TestSupport.runTool(["align", source, out, "-tc", ldac, "-sc", sc, "--json", "--overwrite"])
        #expect(fromLDAC.code == 0, "\(fromLDAC.stderr)")
        let ls = (try JSONSerialization.jsonObject(with: Data(fromLDAC.stdout.utf8)) as! [String: Any])["transform"] as! [String: Any]
        #expect(abs((ls["rotation"] as! Double) + 20) < 0.05)
    }

    @Test func updateWCSFromReferenceCatalogue() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let night = dir.appendingPathComponent("night").path
        let sim = try TestSupport.runTool(["simulate", "night", "--outdir", night, "--shape", "256", "256", "--nbias", "0",
                                           "--ndark", "0", "--nflat", "0", "--nsci", "1", "--stars", "600",
                                           "--pointing-error", "5", "--roll-error", "0.3", "-q"])
        #expect(sim.code == 0, "\(sim.stderr)")
        let source = night + "/sci_R_001.fits", refcat = night + "/truth/refcat.csv"
        let out = dir.appendingPathComponent("reg.fits").path
        let run = try TestSupport.runTool(["align", "--update-wcs", source, out, "--ref-cat", refcat, "--json"])
        #expect(run.code == 0, "\(run.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
        #expect(json["mode"] as? String == "update-wcs" && (json["referenceStars"] as? Int ?? 0) > 20)
        #expect((json["pointingCorrection"] as? Double ?? 0) > 0.1)
        let text = try TestSupport.runTool(["align", "--update-wcs", source, out, "--ref-cat", refcat, "--overwrite"])
        #expect(text.code == 0 && text.stdout.contains("reference catalogue"))

        // Without --update-wcs, or with a catalogue lacking RA: refused, nothing written.
        let other = dir.appendingPathComponent("other.fits").path
        #expect(try TestSupport.runTool(["align", source, other, "--ref-cat", refcat]).code == 64)
        #expect(try TestSupport.runTool(["align", "--update-wcs", source, other, "--ref-cat", refcat, "-tf", source]).code == 64)
        let bad = dir.appendingPathComponent("bad.csv").path
        try "x,y\n1,2\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let noRA = try TestSupport.runTool(["align", "--update-wcs", source, other, "--ref-cat", bad])
        #expect(noRA.code == 65 && noRA.stderr.contains("bad.csv") && noRA.stderr.contains("no ra column"), "\(noRA.stderr)")
        let named = try TestSupport.runTool(["align", "--update-wcs", source, other, "--ref-cat", bad, "--ra-col", "x", "--dec-col", "y"])
        #expect(named.code == 65 && named.stderr.contains("too few catalogue stars in the frame"), "\(named.stderr)")
        #expect(!FileManager.default.fileExists(atPath: other))
    }

    @Test func badInputLeavesNoOutput() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let (template, _) = try Self.pair(in: dir)
        let nan = dir.appendingPathComponent("nan.fits").path
        try FITSWriter.write([OutputHDU(Image(width: 64, height: 64, value: .nan))], to: nan, overwrite: false)
        let out = dir.appendingPathComponent("out.fits").path
        let allNaN = try TestSupport.runTool(["align", nan, out, "-tf", template])
        #expect(allNaN.code == 65 && allNaN.stderr.contains("nan.fits") && allNaN.stderr.contains("no finite pixel"))
        #expect(allNaN.stderr.split(separator: "\n").count == 1)

        let few = dir.appendingPathComponent("few.fits").path
        let pixels = SyntheticStars.render([SyntheticStars.Star(x: 100, y: 100, flux: 50_000), SyntheticStars.Star(x: 200, y: 150, flux: 50_000)],
                                           width: Self.n, height: Self.n, fwhm: 3, seed: 4)
        try FITSWriter.write([OutputHDU(Image(width: Self.n, height: Self.n, pixels: pixels))], to: few, overwrite: false)
        let tooFew = try TestSupport.runTool(["align", few, out, "-tf", template])
        #expect(tooFew.code == 65 && tooFew.stderr.contains("few.fits") && tooFew.stderr.contains("too few stars"), "\(tooFew.stderr)")

        let badCat = dir.appendingPathComponent("bad.cat").path
        try "#   1 NUMBER\n#   2 X_IMAGE\n#   3 Y_IMAGE\n1 10 10\n".write(toFile: badCat, atomically: true, encoding: .utf8)
        let cat = try TestSupport.runTool(["align", few, out, "-tc", badCat])
        #expect(cat.code == 65 && cat.stderr.contains("bad.cat") && cat.stderr.contains("no flux column"))

        #expect(try TestSupport.runTool(["align", few, out, "-tf", template, "--model", "curve"]).code == 64)
        #expect(try TestSupport.runTool(["align", few, out]).code == 64)
        #expect(try Self.files(dir) == ["bad.cat", "few.fits", "nan.fits", "source.fits", "template.fits"])
    }
}
