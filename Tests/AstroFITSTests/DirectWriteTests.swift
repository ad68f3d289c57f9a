import Foundation
import Testing
import AstroFITS
import AstroImage
import AstroTestSupport

/// Plain outputs are written without cfitsio (FITSWriter+Direct.swift); compressed names still go
/// through it. Both must give the same bytes: every pixel type, with and without NaN, header-only
/// primaries, integer planes, EXTNAME/EXTVER, long strings, HISTORY.
@Suite struct DirectWriteTests {
    static func hdus() -> [OutputHDU] {
        var header = Header()
        header.set("OBJECT", "direct")
        header.set("EXPTIME", 30.5, comment: "[s]")
        header.set("LONGSTR", String(repeating: "long value ", count: 12))
        header.addHistory("made by a test")
        let withNaN: [Float] = [0, 1, 2.5, -3.5, 255, 256, 65535, 70000, -40000, .nan, 12.4, 12.6]
        let without = withNaN.map { $0.isNaN ? 7 : $0 }
        var out = [OutputHDU.headerOnly(header)]
        for (k, type) in PixelType.allCases.enumerated() {
            out.append(OutputHDU(Image(width: 4, height: 3, pixels: withNaN, header: header), extname: "NAN", extver: k + 1, pixelType: type))
            out.append(OutputHDU(Image(width: 3, height: 4, pixels: without, header: Header()), extname: "PLAIN", extver: k + 1, pixelType: type))
        }
        out.append(OutputHDU(integers: [Int32.min, -1, 0, 1, Int32.max, 42], width: 3, height: 2, extname: "CON"))
        out.append(OutputHDU(integers: [0, 1, 32, 255, 7, 42], width: 3, height: 2, extname: "DQ", storage: .uint8))
        out.append(OutputHDU(integers: [0, -1, 32767, -32768, 4096, 42], width: 3, height: 2, extname: "DQ", extver: 2, storage: .int16))
        out.append(OutputHDU(bytes: [0, 1, 32, 255, 7, 42], width: 2, height: 3, header: header, extname: "MASK"))
        return out
    }

    /// A uint8 plane given as bytes reads back as those values, as the same plane given as Floats.
    @Test func bytesAsTheyAre() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let bytes: [UInt8] = (0..<20).map { UInt8(($0 * 37) % 256) }
        let a = dir.appendingPathComponent("bytes.fits").path, b = dir.appendingPathComponent("floats.fits").path
        try FITSWriter.write([OutputHDU(bytes: bytes, width: 5, height: 4, extname: "MASK")], to: a, overwrite: false)
        try FITSWriter.write([OutputHDU(Image(width: 5, height: 4, pixels: bytes.map(Float.init)), extname: "MASK", pixelType: .uint8)], to: b, overwrite: false)
        #expect(try Data(contentsOf: URL(fileURLWithPath: a)) == Data(contentsOf: URL(fileURLWithPath: b)))
        let back = try FITS.readImage(a)
        #expect(back.width == 5 && back.height == 4 && back.pixels == bytes.map(Float.init))
    }

    @Test func sameBytesAsCfitsio() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let direct = dir.appendingPathComponent("direct.fits").path, viaCfitsio = dir.appendingPathComponent("cfitsio.fits.gz").path
        for primary in [Self.hdus(), Array(Self.hdus().dropFirst())] {
            try FITSWriter.write(primary, to: direct, overwrite: true)
            try FITSWriter.write(primary, to: viaCfitsio, overwrite: true)
            let gunzip = Process()
            gunzip.executableURL = URL(fileURLWithPath: "/bin/sh")
            gunzip.arguments = ["-c", "gzip -dc '\(viaCfitsio)' > '\(dir.path)/cfitsio.fits'"]
            try gunzip.run(); gunzip.waitUntilExit()
            let a = try Data(contentsOf: URL(fileURLWithPath: direct)), b = try Data(contentsOf: URL(fileURLWithPath: dir.path + "/cfitsio.fits"))
            #expect(a.count == b.count)
            if let k = zip(a, b).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
                let block = k / 80 * 80
                Issue.record("first difference at byte \(k): '\(String(decoding: a[block..<min(block + 80, a.count)], as: UTF8.self))' vs '\(String(decoding: b[block..<min(block + 80, b.count)], as: UTF8.self))'")
            }
        }
    }

    /// Empty stretches (64 KiB of zero bytes) are left as holes: the file reads back the same and
    /// takes less room on disk than its length.
    @Test func zeroStretchesBecomeHoles() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let path = dir.appendingPathComponent("sparse.fits").path
        let n = 1024 * 1024
        var pixels = [Float](repeating: 0, count: n)
        for k in stride(from: 0, to: n, by: 100_003) { pixels[k] = Float(k) }
        pixels[n - 1] = 3
        try FITSWriter.write([OutputHDU(Image(width: 1024, height: 1024, pixels: [Float](repeating: 1, count: n))),
                              OutputHDU(Image(width: 1024, height: 1024, pixels: pixels), extname: "WHT"),
                              OutputHDU(integers: [Int32](repeating: 0, count: n), width: 1024, height: 1024, extname: "CON")],
                             to: path, overwrite: false)
        #expect(try FITS.readImage(path + "[WHT]").pixels == pixels)
        #expect(try FITS.readImage(path + "[CON]").pixels.allSatisfy { $0 == 0 })
        var st = stat()
        #expect(stat(path, &st) == 0)
        #expect(Int(st.st_size) == 2880 * 3 + 3 * ((n * 4 + 2879) / 2880 * 2880))
        #expect(Int(st.st_blocks) * 512 < Int(st.st_size) / 2, "\(st.st_blocks * 512) bytes on disk for \(st.st_size)")
    }

    /// Short zero stretches (under 64 KiB, as at the ends of a rotated mosaic's rows) are
    /// written, not left as holes: a file riddled with small holes took ext4 0.28 s to delete.
    @Test func shortZeroStretchesAreWritten() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let path = dir.appendingPathComponent("dense.fits").path
        let n = 1024 * 1024
        var pixels = [Float](repeating: 0, count: n)
        for k in stride(from: 0, to: n, by: 12 * 1024) { pixels[k] = 1 }   // a value every 48 KiB
        try FITSWriter.write([OutputHDU(Image(width: 1024, height: 1024, pixels: pixels))], to: path, overwrite: false)
        #expect(try FITS.readImage(path).pixels == pixels)
        var st = stat()
        #expect(stat(path, &st) == 0)
        #expect(Int(st.st_blocks) * 512 >= Int(st.st_size) - 4096, "\(st.st_blocks * 512) bytes on disk for \(st.st_size)")
    }

    /// A plane larger than one conversion block (8 MiB) comes back whole.
    @Test func largePlaneRoundTrips() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let path = dir.appendingPathComponent("big.fits").path
        let n = 1500 * 1500
        let pixels = (0..<n).map { Float($0 % 9973) - 0.5 }
        try FITSWriter.write([OutputHDU(Image(width: 1500, height: 1500, pixels: pixels)),
                              OutputHDU(integers: (0..<n).map { Int32($0) }, width: 1500, height: 1500, extname: "CON")], to: path, overwrite: false)
        #expect(try FITS.readImage(path).pixels == pixels)
        #expect(try FITS.readImage(path + "[CON]").pixels[n - 1] == Float(n - 1))
    }

    /// Bands written behind the caller (`writeBehind`, on the writer's own thread) make the same
    /// planes as one write; nothing is at the path until `finish`.
    @Test func bandsWrittenBehindMakeTheSamePlanes() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let path = dir.appendingPathComponent("behind.fits").path
        let (w, h) = (300, 217)
        let pixels = (0..<(w * h)).map { Float($0 % 977) * 0.25 - 3 }
        let bits = (0..<(w * h)).map { Int32($0 % 256) }
        var header = Header()
        header.set("OBJECT", "behind")
        let stream = try FITSStreamWriter(to: path, overwrite: false, plans: [
            .init(width: w, height: h, pixelType: .float32, header: header),
            .init(width: w, height: h, pixelType: .uint8, extname: "MASK")], spareCards: 0)
        for first in stride(from: 0, to: h, by: 64) {
            let rows = first..<min(h, first + 64)
            stream.writeBehind(rows: first, of: 0, OutputHDU(Image(width: w, height: rows.count, pixels: Array(pixels[(first * w)..<(rows.upperBound * w)]))))
            stream.writeBehind(rows: first, of: 1, OutputHDU(integers: Array(bits[(first * w)..<(rows.upperBound * w)]), width: w,
                                                             height: rows.count, storage: .uint8))
        }
        #expect(!FileManager.default.fileExists(atPath: path))
        try stream.finish(headers: [header, Header()])
        #expect(try FITS.readImage(path).pixels == pixels)
        #expect(try FITS.readImage(path).header.string("OBJECT") == "behind")
        #expect(try FITS.readImage(path + "[MASK]").pixels == bits.map(Float.init))
    }
}
