@testable import AstroAlign
import AstroFITS
import AstroImage
import AstroTestSupport
import Foundation
import Testing

/// SExtractor's two catalogue formats read alike. The fixtures are Debian's source-extractor
/// 2.25 run on testdata/align/hrc_cutout.fits (DETECT_THRESH 5, PHOT_APERTURES 5,10; parameters
/// NUMBER X_IMAGE Y_IMAGE FLUX_AUTO FLUXERR_AUTO FLUX_APER(2) FWHM_IMAGE FLAGS), once as
/// ASCII_HEAD and once as FITS_LDAC.
@Suite struct CatalogueFormatTests {
    @Test func fitsLDACReadsAsASCIIHead() throws {
        let ascii = try Catalogue.read(TestSupport.path("align/hrc_sex.cat"))
        let ldac = try Catalogue.read(TestSupport.path("align/hrc_sex.ldac"))
        #expect(ascii.count == 348 && ldac.count == 348)
        // Object 1 (ASCII row: 222.5454 36.6761 flux 1532758 fwhm 14.84 flags 7), 0-based.
        #expect(abs(ldac[0].x - 221.5454) < 1e-4 && abs(ldac[0].y - 35.6761) < 1e-4)
        #expect(abs(ldac[0].flux / 1532758 - 1) < 1e-6 && abs(ldac[0].fwhm - 14.84) < 0.01 && ldac[0].flags == 7)
        for (a, l) in zip(ascii, ldac) {
            #expect(abs(a.x - l.x) <= 5.1e-5 && abs(a.y - l.y) <= 5.1e-5)
            #expect(abs(a.flux - l.flux) <= 5e-7 * max(abs(l.flux), 1) + 1e-3)
            #expect(a.flags == l.flags)
        }
        // The vector column FLUX_APER gives its first aperture.
        var columns = CatalogueColumns()
        columns.flux = "FLUX_APER"
        let aperture = try Catalogue.read(TestSupport.path("align/hrc_sex.ldac"), columns: columns)
        #expect(abs(aperture[0].flux / 960009.4 - 1) < 1e-6)
    }

    /// `align detect` writes FITS_LDAC by the name (or `format`): the reader gives the
    /// detections back, the ASCII_HEAD catalogue agrees, LDAC_IMHEAD carries the image header.
    @Test func ldacWrittenReadsBackAsTheDetections() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let image = TestSupport.path("align/hrc_cutout.fits")
        let ldac = dir.appendingPathComponent("hrc.ldac").path, ascii = dir.appendingPathComponent("hrc.cat").path
        let forced = dir.appendingPathComponent("hrc.txt").path
        let r = try Align.detect(image: image, catalogue: ldac, regions: nil, options: DetectionOptions(), overwrite: false)
        #expect(r.format == "ldac")
        #expect(try Align.detect(image: image, catalogue: ascii, regions: nil, options: DetectionOptions(), overwrite: false).format == "ascii")
        #expect(try Align.detect(image: image, catalogue: forced, format: .ldac, regions: nil, options: DetectionOptions(), overwrite: false).format == "ldac")
        let found = try Detector.detectWithBackground(try FITS.readImage(image), options: DetectionOptions()).detections.sorted { $0.flux > $1.flux }
        let back = try Catalogue.read(ldac), text = try Catalogue.read(ascii), other = try Catalogue.read(forced)
        #expect(back.count == found.count && text.count == found.count && found.count > 100 && other == back)
        for (d, b) in zip(found, back) {
            // Positions are doubles (1D, exact but for the 1-based shift), the rest SExtractor's floats (1E).
            #expect(abs(b.x - d.x) < 1e-12 && abs(b.y - d.y) < 1e-12 && b.flags == d.flags)
            let f = (flux: Double(Float(d.flux)), fwhm: Double(Float(d.fwhm)), error: Double(Float(d.positionError)))
            #expect(b.flux == f.flux && b.fwhm == f.fwhm && b.positionError == f.error)
        }
        for (t, b) in zip(text, back) { #expect(abs(t.x - b.x) < 5.1e-5 && abs(t.flux - b.flux) <= 5e-6 * abs(b.flux)) }

        let hdus = try FITS.listHDUs(ldac)
        #expect(hdus.map(\.extname) == [nil, "LDAC_IMHEAD", "LDAC_OBJECTS"] && hdus[0].shape.isEmpty)
        let objects = hdus[2].header
        #expect(objects.string("TTYPE4") == "XWIN_IMAGE" && objects.string("TUNIT4") == "pixel" && objects.string("TFORM4") == "1D")
        #expect(objects.comment("TTYPE4") == "Windowed position estimate along x" && objects.string("TUNIT15") == "pixel**2")
        let imhead = hdus[1].header
        let cards = try #require(imhead.string("TFORM1").flatMap { Int($0.dropLast()) }) / 80
        #expect(imhead.string("TTYPE1") == "Field Header Card" && imhead.string("TDIM1") == "(80,\(cards))")
        // The cell: the image's header as card images, from SIMPLE to END.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: ldac))
        let start = try #require(bytes.range(of: Data("SIMPLE  =".utf8), in: 2880..<bytes.count)).lowerBound
        let cell = Header(cardImages: String(decoding: bytes[start..<(start + 80 * cards)], as: UTF8.self))
        let source = try FITS.readImage(image).header
        #expect(cell.int("NAXIS1") == 256 && cell.string("TELESCOP") == source.string("TELESCOP") && cell.double("CRVAL1") == source.double("CRVAL1"))
        #expect(String(decoding: bytes[(start + 80 * (cards - 1))..<(start + 80 * (cards - 1) + 3)], as: UTF8.self) == "END")
    }

    @Test func fitsTableWithoutPositionsIsRefused() throws {
        let path = TestSupport.path("align/hrc_sex.ldac")
        var columns = CatalogueColumns()
        columns.x = "XWIN_WORLD"
        #expect { try Catalogue.read(path, columns: columns) } throws: { error in
            let e = error as! AstroError
            return e.kind == .badData && e.file == path && e.reason.contains("no binary table with an x column (XWIN_WORLD)")
        }
    }
}
