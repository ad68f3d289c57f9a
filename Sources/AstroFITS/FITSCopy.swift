import AstroImage

/// A file's image HDUs read back as output HDUs with their storage types, so an engine can write
/// the file again with a header or a plane changed and everything else as it was (align's
/// `--update-wcs`, skymatch's copies, resample's flagged outliers).
public enum FITSCopy {
    /// Every HDU of `file`, in order.
    /// - Parameter operation: what the caller is doing, for the refusal of a table HDU.
    /// - Throws: `.badData` for a table HDU, which astrotool cannot copy yet.
    public static func hdus(of file: String, operation: String) throws -> [OutputHDU] {
        try FITS.listHDUs(file).map { info in
            guard info.kind == .image else {
                let label = "HDU \(info.index)" + (info.extname.map { " '\($0)'" } ?? "")
                throw AstroError(.badData, file: file, hdu: label, operation: operation,
                                 reason: "a table HDU, which astrotool cannot copy into its output yet")
            }
            guard !info.shape.isEmpty, !info.shape.contains(0) else {
                var empty = OutputHDU.headerOnly(info.header, extname: info.extname)
                empty.extver = info.header.int("EXTVER")
                return empty
            }
            return try hdu(of: file, info)
        }
    }

    /// The storage type an HDU has on disk, as the writer names it: unscaled 8/16-bit integers
    /// (and uint16 through BZERO 32768) as such, 32-bit integers as int32, 64-bit reals as
    /// float64, scaled integers and everything else as float32.
    public static func storage(_ info: HDUInfo) -> PixelType {
        let scaled = (info.header.double("BSCALE") ?? 1) != 1
        let zero = info.header.double("BZERO") ?? 0
        return switch info.bitpix {
        case 8 where !scaled && zero == 0: .uint8
        case 16 where !scaled && zero == 32768: .uint16
        case 16 where !scaled && zero == 0: .int16
        case 32 where !scaled && zero == 0: .int32
        case -64: .float64
        default: .float32
        }
    }

    /// One HDU with its storage type: its data unit's bytes as they are when they can be copied
    /// verbatim (an uncompressed file, an exact storage type), else read and converted:
    /// 32-bit integers exactly (DQ bits above 2²⁴ included); 64-bit reals stay 64-bit on disk but
    /// pass through float32 precision (the writer takes `Float` planes).
    public static func hdu(of file: String, _ info: HDUInfo) throws -> OutputHDU {
        let name = "\(file)[\(info.index)]", extver = info.header.int("EXTVER")
        if info.shape.count == 2, let stored = try FITSFile(name).storedData(index: info.index, width: info.shape[0], height: info.shape[1]) {
            return OutputHDU(stored: stored, header: info.header, extname: info.extname, extver: extver)
        }
        return try decoded(name, info, extver: extver)
    }

    /// A stored HDU read and converted, for a writer that cannot copy bytes (a compressed output).
    static func decoded(_ hdu: OutputHDU) throws -> OutputHDU {
        guard let stored = hdu.stored else { return hdu }
        let name = "\(stored.path)[\(stored.index)]"
        let info = try FITSFile(name).info()
        var copy = try decoded(name, info, extver: hdu.extver)
        copy.image.header = hdu.image.header
        copy.extname = hdu.extname
        return copy
    }

    private static func decoded(_ name: String, _ info: HDUInfo, extver: Int?) throws -> OutputHDU {
        let type = storage(info)
        if type == .int32 {
            // Undefined values (NaN once read) go back to the BLANK code, with the card.
            let d = try FITSFile(name).readImageDouble(), blank = info.header.int("BLANK")
            let code = blank.map { Int32(truncatingIfNeeded: $0) } ?? Int32.min
            var hdu = OutputHDU(integers: d.pixels.map { $0.isFinite ? Int32(clamping: Int64($0)) : code },
                                width: d.width, height: d.height, header: info.header, extname: info.extname, extver: extver)
            hdu.integerBlank = blank
            return hdu
        }
        return OutputHDU(try FITS.readImage(name), extname: info.extname, extver: extver, pixelType: type)
    }
}

/// An HDU's data unit as it lies in a file: copied byte for byte into an output, never decoded.
/// Copying skips two conversions of every pixel (align's `--update-wcs`, skymatch's and
/// resample's copies carry planes they do not change).
public struct StoredData: Sendable {
    public var path: String
    /// The HDU's index in the file (for a writer that has to decode it instead).
    public var index: Int
    /// Byte offset of the data unit.
    public var offset: Int
    public var width: Int
    public var height: Int
    public var pixelType: PixelType
    /// The integer code of undefined pixels (BLANK), written again with the copy.
    public var blank: Int?

    var byteCount: Int { width * height * abs(pixelType.bitpix) / 8 }
}
