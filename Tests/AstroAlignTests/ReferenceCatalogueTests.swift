@testable import AstroAlign
import AstroFITS
import AstroImage
import AstroTestSupport
import AstroWCS
import Foundation
import Testing

/// `align --update-wcs --ref-cat`: simulated exposures whose header WCS is off by a pointing
/// and roll error, fitted to the night's Gaia-like catalogue, compared with the true WCS.
@Suite struct ReferenceCatalogueTests {
    /// The true WCS of one exposure, from `truth/wcs_NNN.hdr`.
    static func truthWCS(_ path: String) throws -> WCS {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try WCS(header: Header(cardImages: text))
    }

    /// RMS and largest distance, in pixels, between where `truth` and `fitted` put the sky
    /// positions of a 16×16 grid of pixels over a `size × size` frame.
    static func compare(_ fitted: WCS, _ truth: WCS, size: Int) -> (rms: Double, max: Double) {
        var gx: [Double] = [], gy: [Double] = []
        for j in 0..<16 {
            for i in 0..<16 {
                gx.append(Double(i) * Double(size - 1) / 15)
                gy.append(Double(j) * Double(size - 1) / 15)
            }
        }
        let sky = truth.pixelToWorld(x: gx, y: gy)
        let back = fitted.worldToPixel(ra: sky.ra, dec: sky.dec)
        var sum = 0.0, worst = 0.0
        for k in gx.indices {
            let d2 = (back.x[k] - gx[k]) * (back.x[k] - gx[k]) + (back.y[k] - gy[k]) * (back.y[k] - gy[k])
            sum += d2
            worst = max(worst, d2.squareRoot())
        }
        return ((sum / Double(gx.count)).squareRoot(), worst)
    }

    @Test func simulatedPointingErrorsAreCorrected() throws {
        let dir = TestSupport.scratch("align-refcat"); defer { TestSupport.cleanup(dir) }
        let night = dir.appendingPathComponent("night").path
        let size = 384
        let sim = try TestSupport.runTool(["simulate", "night", "--outdir", night, "--shape", "\(size)", "\(size)",
                                           "--nbias", "0", "--ndark", "0", "--nflat", "0", "--nsci", "3", "--stars", "800",
                                           "--pointing-error", "5", "--roll-error", "0.3", "--seed", "12", "-q"])
        #expect(sim.code == 0, "\(sim.stderr)")
        for k in 1...3 {
            let name = String(format: "%03d", k)
            let source = "\(night)/sci_R_\(name).fits", out = dir.appendingPathComponent("reg_\(name).fits").path
            let truth = try Self.truthWCS("\(night)/truth/wcs_\(name).hdr")
            let before = Self.compare(try WCS.read(path: source), truth, size: size)
            var o = AlignOptions()
            o.updateWCS = true
            let r = try Align.run(source: source, template: .reference("\(night)/truth/refcat.csv"), sourceCatalogue: nil,
                                  output: out, options: o, overwrite: false)
            let fitted = try WCS.read(path: out)
            let after = Self.compare(fitted, truth, size: size)
            print(String(format: "refcat exposure %d: header WCS off by %.2f px RMS; fitted WCS vs truth %.4f px RMS (max %.4f), %@ fit of %d/%d matches, rms %.4f px, moved %.3f\"",
                         k, before.rms, after.rms, after.max, r.transform.model, r.transform.used, r.transform.matches,
                         r.transform.rms, r.pointingCorrection ?? .nan))
            #expect(before.rms > 1)
            #expect(after.rms <= 0.02)
            #expect(after.max <= 0.05)
            // CRPIX kept, pixels and layout untouched, provenance written.
            #expect(abs(fitted.referencePixel.x - truth.referencePixel.x) < 1e-9)
            let a = try FITS.readImage(source), b = try FITS.readImage(out)
            #expect(a.pixels == b.pixels && b.header.string("CTYPE1") == "RA---TAN")
            #expect(b.header.history.contains { $0.contains("RA/Dec catalogue") })
            #expect(b.header.string("IMAGETYP") == "OBJECT" && b.header.double("GAIN") == 1.5)
        }
    }

    /// Headers with SIP distortion (`simulate night --distortion sip`): the catalogue goes
    /// through the header's linear part and a polynomial of its SIP order is written as TAN-SIP.
    @Test func distortedHeadersAreFittedAsSIP() throws {
        let dir = TestSupport.scratch("align-refcat-sip"); defer { TestSupport.cleanup(dir) }
        let night = dir.appendingPathComponent("night").path
        let size = 512
        let sim = try TestSupport.runTool(["simulate", "night", "--outdir", night, "--shape", "\(size)", "\(size)",
                                           "--nbias", "0", "--ndark", "0", "--nflat", "0", "--nsci", "2", "--stars", "1200",
                                           "--distortion", "sip", "--pointing-error", "5", "--roll-error", "0.3", "--seed", "21", "-q"])
        #expect(sim.code == 0, "\(sim.stderr)")
        for k in 1...2 {
            let name = String(format: "%03d", k)
            let source = "\(night)/sci_R_\(name).fits", out = dir.appendingPathComponent("reg_\(name).fits").path
            let truth = try Self.truthWCS("\(night)/truth/wcs_\(name).hdr")
            let before = Self.compare(try WCS.read(path: source), truth, size: size)
            var o = AlignOptions()
            o.updateWCS = true
            let r = try Align.run(source: source, template: .reference("\(night)/truth/refcat.csv"), sourceCatalogue: nil,
                                  output: out, options: o, overwrite: false)
            let after = Self.compare(try WCS.read(path: out), truth, size: size)
            print(String(format: "refcat SIP exposure %d: header off by %.2f px RMS; fitted %@ vs truth %.4f px RMS (max %.4f), %d/%d matches",
                         k, before.rms, r.transform.model, after.rms, after.max, r.transform.used, r.transform.matches))
            #expect(r.transform.model == "poly3" && before.rms > 1)
            #expect(after.rms <= 0.03 && after.max <= 0.1)
            #expect(try FITS.readImage(out).header.string("CTYPE2") == "DEC--TAN-SIP")
        }
    }

    /// A two-chip exposure (MEF) named without an HDU: each SCI chip's WCS is fitted on its own.
    @Test func everyChipOfAMultiChipExposureIsFitted() throws {
        let dir = TestSupport.scratch("align-refcat-mef"); defer { TestSupport.cleanup(dir) }
        let night = dir.appendingPathComponent("night").path
        let size = 384
        let sim = try TestSupport.runTool(["simulate", "night", "--outdir", night, "--chips", "2", "--shape", "\(size)", "\(size)",
                                           "--nbias", "0", "--ndark", "0", "--nflat", "0", "--nsci", "1", "--stars", "1500",
                                           "--pointing-error", "5", "--roll-error", "0.3", "--seed", "4", "-q"])
        #expect(sim.code == 0, "\(sim.stderr)")
        let source = "\(night)/sci_R_001.fits", out = dir.appendingPathComponent("reg.fits").path
        var o = AlignOptions()
        o.updateWCS = true
        _ = try Align.run(source: source, template: .reference("\(night)/truth/refcat.csv"), sourceCatalogue: nil,
                          output: out, options: o, overwrite: false)
        for chip in 1...2 {
            let truth = try Self.truthWCS("\(night)/truth/wcs_001_\(chip).hdr")
            let before = Self.compare(try WCS.read(path: "\(source)[SCI,\(chip)]"), truth, size: size)
            let after = Self.compare(try WCS.read(path: "\(out)[SCI,\(chip)]"), truth, size: size)
            print(String(format: "refcat MEF chip %d: header off by %.2f px RMS, fitted %.4f px", chip, before.rms, after.rms))
            #expect(before.rms > 1 && after.rms <= 0.03)
        }
        #expect(try FITS.readImage("\(out)[SCI,2]").pixels == FITS.readImage("\(source)[SCI,2]").pixels)
    }

    @Test func csvAndFITSCataloguesRead() throws {
        let dir = TestSupport.scratch("align-refcat-read"); defer { TestSupport.cleanup(dir) }
        let csv = dir.appendingPathComponent("c.csv").path
        try "# a comment\nsource_id,RA_ICRS,DE_ICRS,phot_g_mean_mag\n1,10.5,41.25,15.5\n2,10.6,,16\n3,10.7,41.3,\n"
            .write(toFile: csv, atomically: true, encoding: .utf8)
        let c = try ReferenceCatalogue.read(csv)
        #expect(c.ra == [10.5, 10.7] && c.dec == [41.25, 41.3] && c.mag == [15.5, .infinity])
        var named = ReferenceColumns()
        named.ra = "source_id"
        #expect(try ReferenceCatalogue.read(csv, columns: named).ra == [1, 3])
        named.ra = "nope"
        #expect(throws: AstroError.self) { try ReferenceCatalogue.read(csv, columns: named) }

        // A FITS binary table: an empty primary, then TTYPE ra (D), dec (E), flag (J).
        func card(_ s: String) -> String { s.padding(toLength: 80, withPad: " ", startingAt: 0) }
        func block(_ cards: [String]) -> [UInt8] {
            var text = (cards + [card("END")]).joined()
            while text.count % 2880 != 0 { text += " " }
            return Array(text.utf8)
        }
        var bytes = block([card("SIMPLE  =                    T"), card("BITPIX  =                    8"), card("NAXIS   =                    0")])
        bytes += block([card("XTENSION= 'BINTABLE'"), card("BITPIX  =                    8"), card("NAXIS   =                    2"),
                        card("NAXIS1  =                   16"), card("NAXIS2  =                    2"), card("PCOUNT  =                    0"),
                        card("GCOUNT  =                    1"), card("TFIELDS =                    3"),
                        card("TTYPE1  = 'ra      '"), card("TFORM1  = 'D       '"), card("TTYPE2  = 'dec     '"),
                        card("TFORM2  = 'E       '"), card("TTYPE3  = 'flag    '"), card("TFORM3  = '1J      '")])
        var rows: [UInt8] = []
        for (ra, dec, flag) in [(201.25, Float(-30.5), Int32(7)), (201.5, Float(-30.75), Int32(-1))] {
            rows += withUnsafeBytes(of: ra.bitPattern.bigEndian, Array.init)
            rows += withUnsafeBytes(of: dec.bitPattern.bigEndian, Array.init)
            rows += withUnsafeBytes(of: flag.bigEndian, Array.init)
        }
        bytes += rows + [UInt8](repeating: 0, count: 2880 - rows.count)
        let fits = dir.appendingPathComponent("c.fits").path
        try Data(bytes).write(to: URL(fileURLWithPath: fits))
        let f = try ReferenceCatalogue.read(fits)
        #expect(f.ra == [201.25, 201.5] && f.dec == [-30.5, -30.75] && f.mag == nil)
        var flagAsMag = ReferenceColumns()
        flagAsMag.mag = "flag"
        #expect(try ReferenceCatalogue.read(fits, columns: flagAsMag).mag == [7, -1])
    }
}
