import Testing
import Foundation
import AstroImage
import AstroFITS
import AstroWCS
import AstroTestSupport
@testable import AstroSim

/// `--pointing-error` / `--roll-error` (the header WCS is off, the truth is kept) and
/// `truth/refcat.csv` (a Gaia-like catalogue of the brighter stars).
@Suite struct PointingErrorTests {
    static func truthWCS(_ path: String) throws -> WCS {
        try WCS(header: Header(cardImages: String(contentsOfFile: path, encoding: .utf8)))
    }

    @Test func headerWCSIsOffByTheDrawnErrorAndTruthIsKept() throws {
        let dir = TestSupport.scratch("sim-pointing")
        defer { TestSupport.cleanup(dir) }
        var o = SimTest.tinyOptions(dir.path + "/off")
        o.nsci = 4
        o.pointingError = 5
        o.rollError = 0.3
        _ = try NightSimulator.run(o)
        var exact = o
        exact.outdir = dir.path + "/exact"
        exact.pointingError = 0
        exact.rollError = 0
        _ = try NightSimulator.run(exact)

        let table = try SimTest.csv(o.outdir + "/truth/exposures.csv")
        let xi = SimTest.column(table, "pointing_error_xi"), eta = SimTest.column(table, "pointing_error_eta")
        let roll = SimTest.column(table, "roll_error_deg")
        #expect(xi.count == 4 && roll.count == 4)
        for k in 0..<4 {
            let name = String(format: "%03d", k + 1)
            let offset = (xi[k] * xi[k] + eta[k] * eta[k]).squareRoot()
            #expect(offset <= 5 && abs(roll[k]) <= 0.3)
            let header = try WCS.read(path: o.outdir + "/sci_R_\(name).fits")
            let truth = try Self.truthWCS(o.outdir + "/truth/wcs_\(name).hdr")
            // The truth of the erroneous night is the exact night's WCS: only headers differ.
            let exactHeader = try WCS.read(path: exact.outdir + "/sci_R_\(name).fits")
            let centre = (x: Double(o.nx - 1) / 2, y: Double(o.ny - 1) / 2)
            let t = truth.pixelToWorld(x: centre.x, y: centre.y)!, e = exactHeader.pixelToWorld(x: centre.x, y: centre.y)!
            #expect(abs(t.ra - e.ra) < 1e-12 && abs(t.dec - e.dec) < 1e-12)
            // The header's pointing is the truth's moved by (ξ, η) arcsec; its roll differs by the drawn angle.
            let h = header.pixelToWorld(x: centre.x, y: centre.y)!
            let plane = TangentPlane(ra: t.ra, dec: t.dec)
            let d = plane.project(ra: h.ra, dec: h.dec)
            #expect(abs(d.xi - xi[k]) < 1e-4 && abs(d.eta - eta[k]) < 1e-4, "\(d) vs \(xi[k]), \(eta[k])")
            let hc = try FITS.readHeader(o.outdir + "/sci_R_\(name).fits")
            let tc = Header(cardImages: try String(contentsOfFile: o.outdir + "/truth/wcs_\(name).hdr", encoding: .utf8))
            let angle = { (h: Header) in atan2(h.double("CD1_2")!, h.double("CD2_2")!) * 180 / .pi }
            #expect(abs(angle(hc) - angle(tc) - roll[k]) < 1e-6)   // the CSV keeps 6 decimals
        }
        // Same stars, same pixels where they fall: the image data is that of the exact night.
        let a = try FITS.readImage(o.outdir + "/sci_R_002.fits"), b = try FITS.readImage(exact.outdir + "/sci_R_002.fits")
        #expect(a.pixels == b.pixels)
        // Without errors the header is the truth and exposures.csv keeps its columns.
        let exactTable = try SimTest.csv(exact.outdir + "/truth/exposures.csv")
        #expect(!exactTable.header.contains("roll_error_deg"))
        let hdr = try FITS.readHeader(exact.outdir + "/sci_R_001.fits")
        let tdr = Header(cardImages: try String(contentsOfFile: exact.outdir + "/truth/wcs_001.hdr", encoding: .utf8))
        for key in ["CRVAL1", "CRVAL2", "CD1_1", "CD1_2", "CRPIX1"] { #expect(hdr.double(key) == tdr.double(key)) }
    }

    @Test func referenceCatalogueHoldsTheBrighterStarsWithMasNoise() throws {
        let dir = TestSupport.scratch("sim-refcat")
        defer { TestSupport.cleanup(dir) }
        var o = SimTest.tinyOptions(dir.path + "/n")
        o.stars = 400
        let summary = try NightSimulator.run(o)
        #expect(summary.truth.contains("truth/refcat.csv"))
        let stars = try SimTest.csv(o.outdir + "/truth/stars.csv"), ref = try SimTest.csv(o.outdir + "/truth/refcat.csv")
        #expect(ref.header == ["id", "ra", "dec", "mag"])
        let flux = SimTest.column(stars, "flux"), sra = SimTest.column(stars, "ra"), sdec = SimTest.column(stars, "dec")
        let ids = SimTest.column(ref, "id").map { Int($0) - 1 }
        let ra = SimTest.column(ref, "ra"), dec = SimTest.column(ref, "dec"), mag = SimTest.column(ref, "mag")
        #expect(ids.count == flux.filter { $0 >= 1000 }.count && ids.count > 20)
        var sum = 0.0
        for (k, i) in ids.enumerated() {
            #expect(flux[i] >= 1000)
            #expect(abs(mag[k] - (25 - 2.5 * log10(flux[i]))) < 1e-3)
            let d = TangentPlane(ra: sra[i], dec: sdec[i]).project(ra: ra[k], dec: dec[k])
            sum += d.xi * d.xi + d.eta * d.eta
        }
        let rmsMas = (sum / Double(2 * ids.count)).squareRoot() * 1000
        #expect(rmsMas > 1.5 && rmsMas < 4.5, "per-axis noise \(rmsMas) mas")
    }
}
