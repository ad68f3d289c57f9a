import Foundation
import Testing
import AstroFITS
import AstroImage
import AstroTestSupport

/// Copies of a file's HDUs (`FITSCopy`) take the data units' bytes as they are when the storage
/// type is exact, and read and convert them otherwise; either way the copy holds what the file held.
@Suite struct StoredCopyTests {
    func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    /// Every pixel type (integers with BLANK for NaN), integer planes, EXTNAME/EXTVER: the copy is
    /// the file, byte for byte, written directly or through cfitsio (a compressed name, which
    /// decodes the planes: an int32 plane kept its BLANK card only since this test).
    @Test func copyIsTheFile() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let original = dir.appendingPathComponent("original.fits").path
        // (Without the long string: its trailing blank, insignificant in FITS, is not read back.)
        let hdus = DirectWriteTests.hdus().map { hdu in
            var hdu = hdu
            hdu.image.header.remove("LONGSTR")
            return hdu
        }
        try FITSWriter.write(hdus, to: original, overwrite: false)
        let copies = try FITSCopy.hdus(of: original, operation: "testing")
        #expect(copies.dropFirst().allSatisfy { $0.stored != nil })
        let direct = dir.appendingPathComponent("copy.fits").path
        try FITSWriter.write(copies, to: direct, overwrite: false)
        #expect(try bytes(direct) == bytes(original))

        let viaCfitsio = dir.appendingPathComponent("copy.fits.gz").path
        try FITSWriter.write(copies, to: viaCfitsio, overwrite: false)
        let gunzip = Process()
        gunzip.executableURL = URL(fileURLWithPath: "/bin/sh")
        gunzip.arguments = ["-c", "gzip -dc '\(viaCfitsio)' > '\(dir.path)/unzipped.fits'"]
        try gunzip.run(); gunzip.waitUntilExit()
        #expect(try bytes(dir.path + "/unzipped.fits") == bytes(original))
    }

    /// A replaced header goes out with the data unit untouched.
    @Test func replacedHeaderKeepsTheData() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let original = dir.appendingPathComponent("original.fits").path
        let pixels: [Float] = (0..<12).map { Float($0) * 1.5 - 4 }
        try FITSWriter.write([OutputHDU(Image(width: 4, height: 3, pixels: pixels)),
                              OutputHDU(Image(width: 4, height: 3, pixels: pixels.map { $0 * 2 }), extname: "ERR")],
                             to: original, overwrite: false)
        var copies = try FITSCopy.hdus(of: original, operation: "testing")
        copies[0].image.header.set("SKYVALUE", 12.5)
        let path = dir.appendingPathComponent("copy.fits").path
        try FITSWriter.write(copies, to: path, overwrite: false)
        let sci = try FITS.readImage(path)
        #expect(sci.header.double("SKYVALUE") == 12.5)
        #expect(sci.pixels == pixels)
        #expect(try FITS.readImage(path + "[ERR]").pixels == pixels.map { $0 * 2 })
    }

    /// A scaled integer HDU (BSCALE/BZERO the writer does not produce) is read and written as
    /// its physical values in float32.
    @Test func scaledDataIsConverted() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let path = dir.appendingPathComponent("scaled.fits").path
        let cards = ["SIMPLE  =                    T", "BITPIX  =                   16", "NAXIS   =                    2",
                     "NAXIS1  =                    2", "NAXIS2  =                    2", "BSCALE  =                  2.0",
                     "BZERO   =                 10.0", "END"]
        var file = Data(cards.map { $0.padding(toLength: 80, withPad: " ", startingAt: 0) }.joined().utf8)
        file += Data(repeating: UInt8(ascii: " "), count: 2880 - file.count)
        var data = Data()
        for v: Int16 in [1, -2, 300, 0] { withUnsafeBytes(of: v.bigEndian) { data += $0 } }
        file += data + Data(repeating: 0, count: 2880 - data.count)
        try file.write(to: URL(fileURLWithPath: path))
        let copies = try FITSCopy.hdus(of: path, operation: "testing")
        #expect(copies[0].stored == nil && copies[0].pixelType == .float32)
        let out = dir.appendingPathComponent("copy.fits").path
        try FITSWriter.write(copies, to: out, overwrite: false)
        #expect(try FITS.readImage(out).pixels == [12, 6, 610, 10])
    }
}
