import AstroFITS
import AstroImage
import AstroTestSupport
import Foundation
import Testing

/// `astrotool wcs` as scripts call it.
@Suite struct WCSCommandTests {
    let chip = TestSupport.path("fits/2chipA.fits.gz") + "[SCI,1]"

    @Test func pix2skyAndBack() throws {
        let r = try TestSupport.runTool(["wcs", "pix2sky", chip, "0", "0", "2047.5", "1023.5"])
        #expect(r.code == 0, "\(r.stderr)")
        let rows = r.stdout.split(separator: "\n").map { $0.split(separator: " ").compactMap { Double($0) } }
        #expect(rows.count == 2 && rows.allSatisfy { $0.count == 4 })
        // FITS pixels are ours + 1.
        let fits = try TestSupport.runTool(["wcs", "pix2sky", chip, "1", "1", "--fits-pixels"])
        func sky(_ line: Substring) -> String { line.split(separator: " ").suffix(2).joined(separator: " ") }
        #expect(sky(fits.stdout.split(separator: "\n")[0]) == sky(r.stdout.split(separator: "\n")[0]))
        let back = try TestSupport.runTool(["wcs", "sky2pix", chip, String(rows[1][2]), String(rows[1][3]), "--json"])
        #expect(back.code == 0)
        let json = try JSONSerialization.jsonObject(with: Data(back.stdout.utf8)) as! [[String: Double]]
        #expect(abs(json[0]["x"]! - 2047.5) < 1e-6 && abs(json[0]["y"]! - 1023.5) < 1e-6)
    }

    @Test func footprintCornersAndRegions() throws {
        let r = try TestSupport.runTool(["wcs", "footprint", chip])
        #expect(r.code == 0 && r.stdout.split(separator: "\n").count == 4)
        let reg = try TestSupport.runTool(["wcs", "footprint", chip, "--regions"])
        #expect(reg.stdout.contains("fk5") && reg.stdout.contains("polygon("))
        let edges = try TestSupport.runTool(["wcs", "footprint", chip, "--edges", "--step", "5", "--json"])
        #expect(edges.code == 0 && edges.stdout.hasPrefix("[["))
    }

    @Test func missingLookupTableIsOneLine() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        // The chip alone, without the WCSDVARR extensions its header names.
        let sci = try FITS.readImage(chip)
        let lonely = dir.appendingPathComponent("lonely.fits").path
        try FITSWriter.write([OutputHDU.headerOnly(Header()), OutputHDU(sci, extname: "SCI", extver: 1)], to: lonely, overwrite: false)
        let r = try TestSupport.runTool(["wcs", "pix2sky", lonely + "[SCI,1]", "0", "0"])
        #expect(r.code == 65)
        #expect(r.stderr.contains("lonely.fits") && r.stderr.contains("WCSDVARR,1") && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    }
}
