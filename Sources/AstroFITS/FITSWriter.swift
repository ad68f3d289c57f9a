internal import CFITSIO
import AstroImage

// Writer names: ffinit = fits_create_file   ffcrim = fits_create_img   ffprec = fits_write_record
//   ffukys/ffukyj = fits_update_key_str/lng   ffppr = fits_write_img   ffpdat = fits_write_date

/// How pixels are stored on disk. Integer types round to nearest, clamp to their range,
/// and store NaN as the BLANK value.
public enum PixelType: String, Sendable, CaseIterable {
    case uint8, int16, uint16, int32, float32, float64

    public var bitpix: Int {
        switch self {
        case .uint8: 8
        case .int16, .uint16: 16
        case .int32: 32
        case .float32: -32
        case .float64: -64
        }
    }
}

/// One HDU of an output file: the image (pixels and header), its EXTNAME and storage type.
public struct OutputHDU: Sendable {
    public var image: Image
    public var extname: String?
    /// EXTVER, to tell apart several HDUs of one EXTNAME (`f.fits[SCI,2]`).
    public var extver: Int?
    public var pixelType: PixelType
    /// Exact 32-bit integers written instead of `image.pixels` (a bit mask such as drizzle's
    /// context, which a Float cannot hold); `image` then gives only the shape and header.
    public var integers: [Int32]?
    /// Bytes written as they are (a uint8 mask) instead of `image.pixels`: no Float copy of a
    /// mask to make and convert back; `image` then gives only the header.
    public var bytes: [UInt8]?
    /// The shape of `integers` or `bytes` (width, height).
    var integerShape = (0, 0)
    /// The shape when the pixels are `integers` or `bytes`; nil when they are `image.pixels`.
    var exactShape: (Int, Int)? { integers == nil && bytes == nil ? nil : integerShape }
    /// The BLANK card of `integers` (the code their undefined values carry), when a copied plane had one.
    var integerBlank: Int?
    /// Data copied byte for byte from a file instead of `image.pixels`; `image` then gives only
    /// the header.
    public var stored: StoredData?

    public init(_ image: Image, extname: String? = nil, extver: Int? = nil, pixelType: PixelType = .float32) {
        self.image = image
        self.extname = extname
        self.extver = extver
        self.pixelType = pixelType
    }

    /// An integer image from exact integers, stored as int32 or, when every value fits, as
    /// `storage` (uint8 or int16) to save space.
    public init(integers: [Int32], width: Int, height: Int, header: Header = Header(), extname: String? = nil, extver: Int? = nil,
                storage: PixelType = .int32) {
        precondition(integers.count == width * height, "integers must fill the image")
        precondition([.uint8, .int16, .int32].contains(storage), "integers are stored as uint8, int16 or int32")
        self.init(Image(width: 0, height: 0, pixels: [], header: header), extname: extname, extver: extver, pixelType: storage)
        self.integers = integers
        integerShape = (width, height)
    }

    /// A uint8 image from its bytes.
    public init(bytes: [UInt8], width: Int, height: Int, header: Header = Header(), extname: String? = nil, extver: Int? = nil) {
        precondition(bytes.count == width * height, "bytes must fill the image")
        self.init(Image(width: 0, height: 0, pixels: [], header: header), extname: extname, extver: extver, pixelType: .uint8)
        self.bytes = bytes
        integerShape = (width, height)
    }

    /// An HDU whose data unit is copied from a file as it is, under `header`'s cards.
    public init(stored: StoredData, header: Header, extname: String? = nil, extver: Int? = nil) {
        self.init(Image(width: 0, height: 0, pixels: [], header: header), extname: extname, extver: extver, pixelType: stored.pixelType)
        self.stored = stored
    }

    /// An HDU with cards but no data (NAXIS = 0), such as the primary of a multi-extension
    /// file; readers that want an image skip it.
    public static func headerOnly(_ header: Header, extname: String? = nil) -> OutputHDU {
        OutputHDU(Image(width: 0, height: 0, pixels: [], header: header), extname: extname, pixelType: .uint8)
    }
}

public enum FITSWriter {
    /// Writes the HDUs (the first is the primary) to `path` atomically: into a temporary
    /// file beside it, renamed on success, removed on failure. Each HDU's header keeps the
    /// image header's non-structural cards; EXTNAME comes from `extname`.
    public static func write(_ hdus: [OutputHDU], to path: String, overwrite: Bool) throws {
        precondition(!hdus.isEmpty, "FITSWriter.write needs at least one HDU")
        let output = try AtomicOutput(path, overwrite: overwrite)
        try output.write { tmp in
            if writesDirectly(tmp) { return try writeDirectly(hdus, to: tmp, path: path) }
            var fptr: UnsafeMutablePointer<fitsfile>? = nil
            var status: Int32 = 0
            ffinit(&fptr, tmp, &status)
            if status != 0 {
                throw FITSStatus.error(status, file: path, hdu: nil, operation: "creating output")
            }
            var closed = false
            defer { if !closed { var s: Int32 = 0; ffclos(fptr, &s) } }
            for (i, hdu) in hdus.enumerated() {
                try writeHDU(try FITSCopy.decoded(hdu), index: i, fptr: fptr, path: path)
            }
            ffclos(fptr, &status)
            closed = true
            if status != 0 { throw FITSStatus.error(status, file: path, hdu: nil, operation: "closing output") }
        }
    }

    private static func writeHDU(_ hdu: OutputHDU, index: Int, fptr: UnsafeMutablePointer<fitsfile>?,
                                 path: String) throws {
        let label = hdu.extname.map { "HDU \(index) '\($0)'" } ?? "HDU \(index)"
        var status: Int32 = 0
        func check(_ operation: String) throws {
            if status != 0 { throw FITSStatus.error(status, file: path, hdu: label, operation: operation) }
        }
        let image = hdu.image
        var naxes = hdu.exactShape.map { [$0.0, $0.1] } ?? [image.width, image.height]
        let imgType: Int32 = switch hdu.pixelType {
        case .uint8: BYTE_IMG
        case .int16: SHORT_IMG
        case .uint16: USHORT_IMG
        case .int32: LONG_IMG
        case .float32: FLOAT_IMG
        case .float64: DOUBLE_IMG
        }
        ffcrim(fptr, imgType, naxes[0] * naxes[1] == 0 ? 0 : 2, &naxes, &status)
        try check("creating image HDU")

        for card in image.header.userCards.cards where !(card.keyword == "EXTNAME" || card.keyword == "EXTVER") {
            for record in card.images {
                ffprec(fptr, record, &status)
                try check("writing header card \(card.keyword)")
            }
        }
        if let extname = hdu.extname {
            ffukys(fptr, "EXTNAME", extname, "extension name", &status)
            try check("writing EXTNAME")
        }
        if let extver = hdu.extver {
            ffukyj(fptr, "EXTVER", Int64(extver), "extension version", &status)
            try check("writing EXTVER")
        }
        if let ints = hdu.integers {
            if let blank = hdu.integerBlank { ffukyj(fptr, "BLANK", Int64(blank), "value of undefined pixels", &status) }
            if !ints.isEmpty { writeRaw(ints, datatype: TINT, fptr: fptr, status: &status) }
        } else if let bytes = hdu.bytes {
            if !bytes.isEmpty { writeRaw(bytes, datatype: TBYTE, fptr: fptr, status: &status) }
        } else {
            writePixels(image.pixels, type: hdu.pixelType, fptr: fptr, status: &status)
        }
        try check("writing image")
    }

    /// Integer types reserve their lowest code for NaN (BLANK) only when the image has NaNs;
    /// real values are then clamped above it so they never read back as undefined.
    private static func writePixels(_ pixels: [Float], type: PixelType, fptr: UnsafeMutablePointer<fitsfile>?,
                                    status: inout Int32) {
        let n = Int64(pixels.count)
        guard n > 0 else { return }
        switch type {
        case .float32:
            writeRaw(pixels, datatype: TFLOAT, fptr: fptr, status: &status)
        case .float64:
            var p = pixels.map(Double.init)
            ffppr(fptr, TDOUBLE, 1, n, &p, &status)
        // BLANK is in stored units: for uint16 (BZERO 32768) stored −32768 is physical 0.
        case .uint8: writeIntegers(pixels, as: UInt8.self, datatype: TBYTE, blank: 0, fptr: fptr, status: &status)
        case .int16: writeIntegers(pixels, as: Int16.self, datatype: TSHORT, blank: Int(Int16.min), fptr: fptr, status: &status)
        case .uint16: writeIntegers(pixels, as: UInt16.self, datatype: TUSHORT, blank: Int(Int16.min), fptr: fptr, status: &status)
        case .int32: writeIntegers(pixels, as: Int32.self, datatype: TINT, blank: Int(Int32.min), fptr: fptr, status: &status)
        }
    }

    /// Hands the caller's array to cfitsio without the copy that `&array` would make of a
    /// shared buffer (cfitsio reads the values; it converts into its own buffer).
    private static func writeRaw<T>(_ values: [T], datatype: Int32, fptr: UnsafeMutablePointer<fitsfile>?, status: inout Int32) {
        values.withUnsafeBufferPointer { b in
            _ = ffppr(fptr, datatype, 1, Int64(b.count), UnsafeMutableRawPointer(mutating: b.baseAddress!), &status)
        }
    }

    /// Writes BLANK (only when there are NaNs) and the pixels converted to `T`.
    private static func writeIntegers<T: FixedWidthInteger>(_ pixels: [Float], as _: T.Type, datatype: Int32, blank: Int,
                                                            fptr: UnsafeMutablePointer<fitsfile>?, status: inout Int32) {
        let hasNaN = pixels.contains { $0.isNaN }
        if hasNaN { ffukyj(fptr, "BLANK", Int64(blank), "value of undefined pixels", &status) }
        var p: [T] = integers(pixels, reserveBlank: hasNaN)
        ffppr(fptr, datatype, 1, Int64(pixels.count), &p, &status)
    }

    /// Rounds to nearest and clamps into `T`; NaN becomes `T.min`, which real values then avoid.
    private static func integers<T: FixedWidthInteger>(_ pixels: [Float], reserveBlank: Bool) -> [T] {
        let lo = Int(T.min) + (reserveBlank ? 1 : 0)
        return pixels.map { $0.isNaN ? T.min : T(clamping: max(lo, roundedInt($0))) }
    }

    @inline(__always)
    private static func roundedInt(_ v: Float) -> Int {
        if v >= 9.2e18 { return Int.max }
        if v <= -9.2e18 { return Int.min }
        return Int(v.rounded(.toNearestOrAwayFromZero))
    }
}
