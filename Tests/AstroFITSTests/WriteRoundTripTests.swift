import Foundation
import Testing
import AstroFITS
import AstroImage
import AstroTestSupport

@Suite struct WriteRoundTripTests {
    static func sampleImage() -> Image {
        var header = Header()
        header.set("OBJECT", "round trip")
        header.set("EXPTIME", 30.5, comment: "[s]")
        header.set("LONGSTR", String(repeating: "long value ", count: 12))
        header.addHistory("made by a test")
        let pixels: [Float] = [0, 1, 2.5, -3.5, 255, 256, 65535, 70000, -40000, .nan, 12.4, 12.6]
        return Image(width: 4, height: 3, pixels: pixels, header: header)
    }

    @Test(arguments: PixelType.allCases)
    func everyPixelTypeRoundTrips(type: PixelType) throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let path = dir.appendingPathComponent("out.fits").path
        let image = Self.sampleImage()
        try FITSWriter.write([OutputHDU(image, pixelType: type)], to: path, overwrite: false)
        let back = try FITS.readImage(path)
        let info = try FITS.listHDUs(path)[0]
        #expect(info.bitpix == type.bitpix)
        let range: ClosedRange<Double> = switch type {
        case .uint8: 1...255
        case .int16: -32767...32767
        case .uint16: 1...65535
        case .int32: -2_147_483_647...2_147_483_647
        case .float32, .float64: -Double.infinity...Double.infinity
        }
        for (a, b) in zip(image.pixels, back.pixels) {
            if a.isNaN {
                #expect(b.isNaN, "NaN survives as BLANK in \(type)")
                continue
            }
            // With NaNs present the BLANK code is reserved, so real values clamp inside it.
            let want: Double = type == .float32 || type == .float64
                ? Double(a) : min(max(Double(a).rounded(.toNearestOrAwayFromZero), range.lowerBound), range.upperBound)
            #expect(Double(b) == want, "\(type): wrote \(a), read \(b)")
        }
        #expect(back.header.string("OBJECT") == "round trip")
        #expect(back.header.double("EXPTIME") == 30.5)
        #expect(back.header.string("LONGSTR") == String(repeating: "long value ", count: 12).trimmingCharacters(in: .whitespaces))
        #expect(back.header.history.contains("made by a test"))
    }

    /// Byte images are written eight pixels at a time: rounding half away from zero, clamping
    /// and NaN there must be the scalar rule's, with and without a BLANK code reserved.
    @Test(arguments: [false, true])
    func bytePixelsRoundAndClampAsOneAtATime(withNaN: Bool) throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let path = dir.appendingPathComponent("bytes.fits").path
        let edges: [Float] = [-.infinity, -1e30, -3.5, -0.5, -0.49999997, -0.0, 0, 0.49999997, 0.5, 1.4999999, 1.5, 2.5,
                              3.5, 7.49999, 254.49998, 254.5, 255, 255.5, 256, 8_388_607.5, 1e30, .infinity]
        var pixels = edges + edges.reversed() + edges.map { $0 / 3 }
        if withNaN { pixels[13] = .nan }
        let image = Image(width: pixels.count, height: 1, pixels: pixels, header: Header())
        try FITSWriter.write([OutputHDU(image, pixelType: .uint8)], to: path, overwrite: false)
        let back = try FITS.readImage(path)
        let low = withNaN ? 1.0 : 0.0
        for (a, b) in zip(pixels, back.pixels) {
            if a.isNaN { #expect(b.isNaN); continue }
            let want = min(max(Double(a).rounded(.toNearestOrAwayFromZero), low), 255)
            #expect(Double(b) == want, "wrote \(a), read \(b)")
        }
    }

    /// A product written from a product keeps one copy of the FITS standard's reference
    /// comment, not one more per step (the chain's masters carried three).
    @Test(arguments: [PixelType.float32, .int16])
    func standardReferenceIsNotInherited(type: PixelType) throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        var path = dir.appendingPathComponent("0.fits").path
        try FITSWriter.write([OutputHDU(Self.sampleImage(), pixelType: type)], to: path, overwrite: false)
        for step in 1...3 {
            var image = try FITS.readImage(path)
            image.header = image.header.userCards
            path = dir.appendingPathComponent("\(step).fits").path
            try FITSWriter.write([OutputHDU(image, pixelType: type)], to: path, overwrite: false)
        }
        let comments = try FITS.readHeader(path).cards.filter { $0.keyword == "COMMENT" }.map(\.comment)
        #expect(comments.filter { $0.contains("Flexible Image Transport System") }.count == 1)
        #expect(comments.filter { $0.contains("2001A&A...376..359H") }.count == 1)
    }

    @Test func uint16UsesBzero() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let path = dir.appendingPathComponent("raw.fits").path
        let image = Image(width: 3, height: 1, pixels: [0, 32768, 65535])
        try FITSWriter.write([OutputHDU(image, pixelType: .uint16)], to: path, overwrite: false)
        let header = try FITS.readHeader(path)
        #expect(header.int("BITPIX") == 16)
        #expect(header.double("BZERO") == 32768)
        #expect(try FITS.readImage(path).pixels == [0, 32768, 65535])
    }

    @Test func multiExtensionWithNames() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let path = dir.appendingPathComponent("mef.fits").path
        let sci = Image(width: 2, height: 2, pixels: [1, 2, 3, 4])
        let err = Image(width: 2, height: 2, pixels: [0.1, 0.2, 0.3, 0.4])
        let dq = Image(width: 2, height: 2, pixels: [0, 4, 0, 1])
        try FITSWriter.write([OutputHDU(sci), OutputHDU(err, extname: "ERR"),
                              OutputHDU(dq, extname: "DQ", pixelType: .int16),
                              OutputHDU(sci, extname: "SCI", extver: 2)], to: path, overwrite: false)
        #expect(try FITS.readImage(path + "[DQ]").pixels == [0, 4, 0, 1])
        #expect(try FITS.readImage(path + "[ERR]").pixels == err.pixels)
        #expect(try FITS.readImage(path + "[SCI,2]").pixels == sci.pixels)
        #expect(try FITS.listHDUs(path).map(\.extname) == [nil, "ERR", "DQ", "SCI"])
    }

    @Test func refusesExistingOutputAndLeavesNoTemporaryFiles() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let path = dir.appendingPathComponent("x.fits").path
        let image = Image(width: 2, height: 1, pixels: [1, 2])
        try FITSWriter.write([OutputHDU(image)], to: path, overwrite: false)
        #expect(throws: AstroError.self) {
            try FITSWriter.write([OutputHDU(image)], to: path, overwrite: false)
        }
        do {
            try FITSWriter.write([OutputHDU(image)], to: path, overwrite: false)
        } catch let e as AstroError {
            #expect(e.kind == .cannotCreate)
            #expect(e.description.contains(path))
        }
        try FITSWriter.write([OutputHDU(Image(width: 1, height: 1, pixels: [9]))], to: path, overwrite: true)
        #expect(try FITS.readImage(path).pixels == [9])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["x.fits"])
    }

    @Test func missingFolderIsCannotCreate() throws {
        let path = "/nonexistent-\(UUID().uuidString)/x.fits"
        do {
            try FITSWriter.write([OutputHDU(Image(width: 1, height: 1))], to: path, overwrite: false)
            Issue.record("expected an error")
        } catch let e as AstroError {
            #expect(e.kind == .cannotCreate)
        }
    }

    @Test func rowBlocksReassembleTheImage() throws {
        let image = try FITS.readImage(TestSupport.path("fits/m13.fits"))
        let f = try FITSFile(TestSupport.path("fits/m13.fits"), image: true)
        var joined: [Float] = []
        for start in stride(from: 0, to: 300, by: 64) {
            joined += try f.readPixels(rows: start..<min(300, start + 64))
        }
        #expect(joined == image.pixels)
    }
}

@Suite struct HeaderOnlyHDUTests {
    @Test func emptyPrimaryIsSkippedByImageReaders() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let path = dir.appendingPathComponent("mef.fits").path
        var primary = Header()
        primary.set("OBJECT", "two chips")
        try FITSWriter.write([.headerOnly(primary),
                              OutputHDU(Image(width: 2, height: 1, pixels: [1, 2]), extname: "SCI", extver: 1)],
                             to: path, overwrite: false)
        let hdus = try FITS.listHDUs(path)
        #expect(hdus[0].shape.isEmpty)
        #expect(hdus[0].header.string("OBJECT") == "two chips")
        #expect(try FITS.readImage(path).pixels == [1, 2])
    }
}
