import Foundation
import Testing
import AstroFITS
import AstroImage
import AstroTestSupport

/// Every way reading can fail gives an `AstroError` of the right kind naming the file.
@Suite struct ErrorPathTests {
    func expectError(_ kind: AstroError.Kind, naming needle: String, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected \(kind) error")
        } catch let e as AstroError {
            #expect(e.kind == kind, "\(e)")
            #expect(e.description.contains(needle), "\(e)")
        } catch {
            Issue.record("unexpected error type \(error)")
        }
    }

    @Test func missingFile() {
        expectError(.noInput, naming: "nope.fits") { _ = try FITS.readImage("/tmp/nope.fits") }
        expectError(.noInput, naming: "nope.fits[SCI]") { _ = try FITS.readImage("/tmp/nope.fits[SCI]") }
    }

    /// cfitsio reads https:// and ftps:// through libcurl, which astrotool does not link: a
    /// clear refusal instead of cfitsio's "could not open" (status 104).
    @Test func tlsNamesAreRefused() {
        expectError(.noInput, naming: "download the file first") { _ = try FITS.readImage("https://example.org/sky.fits") }
        expectError(.noInput, naming: "ftps://") { _ = try FITS.readHeader("FTPS://example.org/sky.fits[1]") }
    }

    @Test func notFITS() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let path = dir.appendingPathComponent("text.fits").path
        try "this is not a FITS file\n".write(toFile: path, atomically: true, encoding: .utf8)
        expectError(.badData, naming: path) { _ = try FITS.readImage(path) }
    }

    @Test func truncatedFile() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let path = dir.appendingPathComponent("cut.fits").path
        let data = try Data(contentsOf: URL(fileURLWithPath: TestSupport.path("fits/m13.fits")))
        try data.prefix(2880 * 3).write(to: URL(fileURLWithPath: path))
        expectError(.badData, naming: path) { _ = try FITS.readImage(path) }
    }

    @Test func hduNotFound() {
        let gmos = TestSupport.path("fits/gmos.fits")
        expectError(.badData, naming: "NOSUCH") { _ = try FITS.readImage(gmos + "[NOSUCH]") }
        expectError(.badData, naming: "gmos.fits") { _ = try FITS.readImage(gmos + "[9]") }
    }

    @Test func notAnImage() {
        let chips = TestSupport.path("fits/2chipC.fits.gz")
        // HDU 0 of gmos is an empty primary: no image data.
        expectError(.badData, naming: "no image data") {
            _ = try FITSFile(TestSupport.path("fits/gmos.fits")).readImage()
        }
        expectError(.badData, naming: "table") {
            let f = try FITSFile(chips)
            let tableIndex = try FITS.listHDUs(chips).first { $0.kind != .image }!.index
            try f.select(hdu: tableIndex)
            _ = try f.readImage()
        }
    }
}
