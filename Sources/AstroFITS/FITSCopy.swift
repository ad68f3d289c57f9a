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
            let extver = info.header.int("EXTVER")
            guard !info.shape.isEmpty, !info.shape.contains(0) else {
                var hdu = OutputHDU.headerOnly(info.header, extname: info.extname)
                hdu.extver = extver
                return hdu
            }
            return try carried(file, info, extver: extver)
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

    /// One HDU with its storage type: 32-bit integers exactly (DQ bits above 2²⁴ included);
    /// 64-bit reals stay 64-bit on disk but pass through float32 precision (the writer takes
    /// `Float` planes).
    private static func carried(_ file: String, _ info: HDUInfo, extver: Int?) throws -> OutputHDU {
        let name = "\(file)[\(info.index)]"
        let type = storage(info)
        if type == .int32 {
            let d = try FITSFile(name).readImageDouble()
            return OutputHDU(integers: d.pixels.map { $0.isFinite ? Int32(clamping: Int64($0)) : Int32.min },
                             width: d.width, height: d.height, header: info.header, extname: info.extname, extver: extver)
        }
        return OutputHDU(try FITS.readImage(name), extname: info.extname, extver: extver, pixelType: type)
    }
}
