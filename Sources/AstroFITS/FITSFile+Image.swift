internal import CFITSIO
import AstroImage

extension FITSFile {
    /// Width and height of the current HDU's image. Extra axes of length 1 are allowed
    /// (a 1×N×M cube reads as an N×M image); a 1-D image reads as one row. Checks that the file
    /// holds what the header promises (see `checkDataExtent`), so a caller may allocate.
    public func imageSize() throws -> (width: Int, height: Int) {
        var status: Int32 = 0, bitpix: Int32 = 0, naxis: Int32 = 0
        var naxes = [Int](repeating: 0, count: 9)
        ffgipr(fptr, 9, &bitpix, &naxis, &naxes, &status)
        if status == NOT_IMAGE {
            throw AstroError(.badData, file: name, hdu: hduLabel, operation: "reading image",
                             reason: "this HDU is a table, not an image")
        }
        try check(status, "reading image parameters")
        guard naxis > 0 else {
            throw AstroError(.badData, file: name, hdu: hduLabel, operation: "reading image",
                             reason: "this HDU has no image data (NAXIS = 0)")
        }
        // ffgipr fills at most 9 axes; a header may claim up to 999.
        if naxis > 9 || (naxis > 2 && naxes[2..<Int(naxis)].contains(where: { $0 != 1 })) {
            throw AstroError(.badData, file: name, hdu: hduLabel, operation: "reading image",
                             reason: "a \(naxis)-D cube (\(naxes.prefix(min(9, Int(naxis))).map(String.init).joined(separator: "x"))) is not a 2-D image")
        }
        let (width, height) = (naxes[0], naxis >= 2 ? naxes[1] : 1)
        guard width > 0, height > 0 else {
            throw AstroError(.badData, file: name, hdu: hduLabel, operation: "reading image",
                             reason: "the image is empty (\(width)x\(height))")
        }
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        if overflow {
            throw AstroError(.badData, file: name, hdu: hduLabel, operation: "reading image",
                             reason: "\(width)x\(height) pixels are more than can be counted")
        }
        if extentCheckedHDU != hduIndex {
            try checkDataExtent(pixels: pixels)
            extentCheckedHDU = hduIndex
        }
        return (width, height)
    }

    /// Reads the current HDU's image as physical values (BSCALE/BZERO applied, so unsigned
    /// 16-bit data come out right) in `Float`; BLANK pixels become NaN. The header travels along.
    public func readImage() throws -> Image {
        let (width, height) = try imageSize()
        let pixels = try readPixels(rows: 0..<height, width: width)
        return Image(width: width, height: height, pixels: pixels, header: try header())
    }

    /// Reads a block of rows (0-based, FITS row 1 = row 0) for streaming large images.
    public func readPixels(rows: Range<Int>) throws -> [Float] {
        let (width, height) = try imageSize()
        guard rows.lowerBound >= 0, rows.upperBound <= height else {
            throw AstroError(.usage, file: name, hdu: hduLabel, operation: "reading rows \(rows)",
                             reason: "the image has \(height) rows")
        }
        return try readPixels(rows: rows, width: width)
    }

    /// The image in `Double`, for callers that need full precision of 32/64-bit integer data.
    public func readImageDouble() throws -> (width: Int, height: Int, pixels: [Double]) {
        let (width, height) = try imageSize()
        let n = width * height
        try checkMemory(pixels: n, bytesPerPixel: 8)
        var status: Int32 = 0, anynul: Int32 = 0
        var nulval = Double.nan
        let pixels = [Double](unsafeUninitializedCapacity: n) { buf, count in
            ffgpv(fptr, TDOUBLE, 1, Int64(n), &nulval, buf.baseAddress, &anynul, &status)
            count = n
        }
        try check(status, "reading image")
        return (width, height, pixels)
    }

    /// Reads a block of rows into `buffer` (at least rows·width values), so a streaming caller
    /// can reuse one buffer for every block.
    public func readPixels(rows: Range<Int>, into buffer: UnsafeMutableBufferPointer<Float>) throws {
        let (width, height) = try imageSize()
        guard rows.lowerBound >= 0, rows.upperBound <= height, buffer.count >= rows.count * width else {
            throw AstroError(.usage, file: name, hdu: hduLabel, operation: "reading rows \(rows)",
                             reason: "the image has \(height) rows of \(width)")
        }
        try readPixels(rows: rows, width: width, into: buffer.baseAddress!)
    }

    private func readPixels(rows: Range<Int>, width: Int) throws -> [Float] {
        let n = rows.count * width
        var thrown: Error?
        let pixels = [Float](unsafeUninitializedCapacity: n) { buf, count in
            if n > 0 {
                do { try readPixels(rows: rows, width: width, into: buf.baseAddress!) } catch { thrown = error }
            }
            count = n
        }
        if let thrown { throw thrown }
        return pixels
    }

    private func readPixels(rows: Range<Int>, width: Int, into out: UnsafeMutablePointer<Float>) throws {
        let n = rows.count * width
        guard n > 0 else { return }
        if readDirectly(rows: rows, width: width, into: out) { return }
        var status: Int32 = 0, anynul: Int32 = 0
        var nulval = Float.nan   // non-zero null value: cfitsio then maps BLANK to NaN
        ffgpv(fptr, TFLOAT, Int64(rows.lowerBound * width + 1), Int64(n), &nulval, out, &anynul, &status)
        try check(status, "reading image")
    }
}
