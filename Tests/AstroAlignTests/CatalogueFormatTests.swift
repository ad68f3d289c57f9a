import AstroAlign
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
