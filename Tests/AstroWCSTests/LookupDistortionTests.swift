import AstroFITS
import AstroImage
import AstroTestSupport
import AstroWCS
import Foundation
import Testing

/// HST chips through SIP and FITS Paper IV lookup tables, against astropy 8.0.2's
/// all_pix2world on grids over each whole detector (testdata/wcs/lookup.json, made by
/// scripts/fixtures/wcs_lookup.py).
@Suite struct LookupDistortionTests {
    struct Chip: Decodable {
        var file: String
        var extver: Int
        var detector: [Int]
        var x: [Double], y: [Double], ra: [Double], dec: [Double]
        var footprint: [[Double]]
        var naxis: [Int]
    }
    struct Doc: Decodable { var chips: [Chip] }
    static let chips: [Chip] = try! JSONDecoder().decode(Doc.self, from: Data(contentsOf: URL(fileURLWithPath: TestSupport.path("wcs/lookup.json")))).chips

    static func wcs(_ c: Chip) throws -> WCS {
        if c.file.hasSuffix(".hdr") { return try Fixture.wcs(URL(fileURLWithPath: c.file).lastPathComponent) }
        return try WCS.read(path: TestSupport.path(c.file) + "[SCI,\(c.extver)]")
    }

    @Test(arguments: 0..<7)
    func pixelToWorldMatchesAstropy(index: Int) throws {
        let c = Self.chips[index]
        let w = try Self.wcs(c)
        let r = w.pixelToWorld(x: c.x, y: c.y)
        var worst = 0.0
        for i in c.x.indices {
            var dra = abs(r.ra[i] - c.ra[i]); if dra > 180 { dra = 360 - dra }
            worst = max(worst, dra * cos(c.dec[i] * .pi / 180), abs(r.dec[i] - c.dec[i]))
        }
        #expect(worst < 1e-9, "\(c.file)[SCI,\(c.extver)]: \(worst) deg")
        // And back to the start.
        let back = w.worldToPixel(ra: r.ra, dec: r.dec)
        var far = 0.0
        for i in c.x.indices { far = max(far, abs(back.x[i] - c.x[i]), abs(back.y[i] - c.y[i])) }
        #expect(far < 1e-6, "\(c.file)[SCI,\(c.extver)]: round trip \(far) px")
        // astropy's footprint: the corners (1,1), (1,ny), (nx,ny), (nx,1) in FITS pixels.
        let nx = Double(c.naxis[0]), ny = Double(c.naxis[1])
        let corners = w.pixelToWorld(x: [0, 0, nx - 1, nx - 1], y: [0, ny - 1, ny - 1, 0])
        for k in 0..<4 {
            #expect(abs(corners.ra[k] - c.footprint[k][0]) * cos(c.dec[0] * .pi / 180) < 1e-9 && abs(corners.dec[k] - c.footprint[k][1]) < 1e-9)
        }
    }

    @Test func lookupChipsReportTheirParts() throws {
        let w = try WCS.read(path: TestSupport.path("fits/2chipA.fits.gz[SCI,1]"))
        #expect(w.lookupDistortion == "SIP order 4, CPDIS1 lookup 10x10, CPDIS2 lookup 10x10")
        #expect(try WCS.read(path: TestSupport.path("fits/2chipC.fits.gz[SCI,1]")).lookupDistortion == nil)
    }

    @Test func missingTableIsNamed() throws {
        let h = try FITS.readHeader(TestSupport.path("fits/2chipA.fits.gz[SCI,1]"))
        do {
            _ = try WCS(header: h, file: "x.fits", hdu: "HDU 1 'SCI'") { name, ver in
                throw AstroError(.badData, file: "x.fits", operation: "reading", reason: "no \(name),\(ver)")
            }
            Issue.record("accepted a missing WCSDVARR")
        } catch let e as AstroError {
            #expect(e.kind == .badData && e.reason.contains("WCSDVARR,1"))
        }
        #expect(throws: AstroError.self) { try WCS(header: h) }
    }
}

/// D2IM (detector to image) tables, modern and AXISCORR forms, on a plain TAN header.
@Suite struct D2IMTests {
    static func tan() -> Header {
        var h = Header()
        for (k, v) in [("CTYPE1", "RA---TAN"), ("CTYPE2", "DEC--TAN")] { h.set(k, v) }
        for (k, v) in [("CRPIX1", 50.0), ("CRPIX2", 40.0), ("CRVAL1", 150.0), ("CRVAL2", 2.0),
                       ("CD1_1", -1e-4), ("CD1_2", 0.0), ("CD2_1", 0.0), ("CD2_2", 1e-4)] { h.set(k, v) }
        return h
    }

    /// A 3x2 table, everywhere `offset`, spanning the detector at 64-pixel steps.
    static func table(_ offset: Float) -> Image {
        var h = Header()
        h.set("CRPIX1", 1.0); h.set("CRPIX2", 1.0); h.set("CRVAL1", 1.0); h.set("CRVAL2", 1.0)
        h.set("CDELT1", 64.0); h.set("CDELT2", 64.0)
        return Image(width: 3, height: 2, pixels: [Float](repeating: offset, count: 6), header: h)
    }

    @Test func tablesShiftTheDetector() throws {
        let plain = try WCS(header: Self.tan())
        var h = Self.tan()
        h.set("D2IMDIS1", "Lookup")
        h.cards.append(Card("D2IM1", .string("EXTVER: 1")))
        h.cards.append(Card("D2IM1", .string("AXIS.1: 1")))
        let shifted = try WCS(header: h) { name, ver in
            #expect(name == "D2IMARR" && ver == 1)
            return Self.table(0.25)
        }
        let x = [0.0, 10, 99.5], y = [0.0, 20, 79]
        let a = shifted.pixelToWorld(x: x, y: y), b = plain.pixelToWorld(x: x.map { $0 + 0.25 }, y: y)
        for i in 0..<3 { #expect(abs(a.ra[i] - b.ra[i]) < 1e-12 && abs(a.dec[i] - b.dec[i]) < 1e-12) }
        let back = shifted.worldToPixel(ra: a.ra, dec: a.dec)
        for i in 0..<3 { #expect(abs(back.x[i] - x[i]) < 1e-8 && abs(back.y[i] - y[i]) < 1e-8) }
        // The older AXISCORR form: one D2IMARR row correcting axis 2.
        var old = Self.tan()
        old.set("AXISCORR", 2)
        let oldShifted = try WCS(header: old) { _, _ in Self.table(-0.5) }
        let c = oldShifted.pixelToWorld(x: x, y: y), d = plain.pixelToWorld(x: x, y: y.map { $0 - 0.5 })
        for i in 0..<3 { #expect(abs(c.ra[i] - d.ra[i]) < 1e-12 && abs(c.dec[i] - d.dec[i]) < 1e-12) }
    }
}

/// A WCSDVARR of the wrong shape is refused, naming it.
@Suite struct LookupShapeTests {
    @Test func oneDimensionalTableForATwoAxisRecord() throws {
        let h = try FITS.readHeader(TestSupport.path("fits/2chipA.fits.gz[SCI,1]"))
        do {
            _ = try WCS(header: h, file: "x.fits", hdu: "HDU 1 'SCI'") { _, _ in Image(width: 10, height: 1, pixels: [Float](repeating: 0, count: 10)) }
            Issue.record("accepted a 1-D table")
        } catch let e as AstroError {
            #expect(e.kind == .badData && e.description == "x.fits[HDU 1 'SCI']: parsing WCS: WCSDVARR,1 is 10x1, but DP1 NAXES = 2 asks for a 2-D table")
        }
    }
}
