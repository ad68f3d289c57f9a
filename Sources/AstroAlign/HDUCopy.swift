import AstroFITS
import AstroImage

/// A file's image HDUs as output HDUs with their storage types, so `--update-wcs` can write
/// the source again with one header changed and every plane (ERR, MASK, DQ…) untouched.
enum HDUCopy {
    /// - Parameter headers: HDU index → the header that replaces that HDU's own.
    /// - Throws: `.badData` for a file with a table HDU, which astrotool cannot copy yet.
    static func hdus(of file: String, headers: [Int: Header]) throws -> [OutputHDU] {
        try FITS.listHDUs(file).map { info in
            guard info.kind == .image else {
                let label = "HDU \(info.index)" + (info.extname.map { " '\($0)'" } ?? "")
                throw AstroError(.badData, file: file, hdu: label, operation: "copying the file",
                                 reason: "a table HDU, which align cannot carry into its output yet")
            }
            let extver = info.header.int("EXTVER")
            var hdu: OutputHDU
            if info.shape.isEmpty || info.shape.contains(0) {
                hdu = OutputHDU.headerOnly(info.header, extname: info.extname)
                hdu.extver = extver
            } else {
                hdu = try carried(file, info, extver: extver)
            }
            if let header = headers[info.index] { hdu.image.header = header }
            return hdu
        }
    }

    /// One HDU with its storage type: 32-bit integers exactly; unscaled 8/16-bit integers as
    /// such; scaled integers become float32; 64-bit reals stay 64-bit on disk but pass
    /// through float32 precision (the writer takes `Float` planes).
    private static func carried(_ file: String, _ info: HDUInfo, extver: Int?) throws -> OutputHDU {
        let name = "\(file)[\(info.index)]"
        let scaled = (info.header.double("BSCALE") ?? 1) != 1
        let zero = info.header.double("BZERO") ?? 0
        if info.bitpix == 32 && !scaled && zero == 0 {
            let d = try FITSFile(name).readImageDouble()
            return OutputHDU(integers: d.pixels.map { $0.isFinite ? Int32(clamping: Int64($0)) : Int32.min },
                             width: d.width, height: d.height, header: info.header, extname: info.extname, extver: extver)
        }
        let image = try FITS.readImage(name)
        let type: PixelType = switch info.bitpix {
        case 8 where !scaled && zero == 0: .uint8
        case 16 where !scaled && zero == 32768: .uint16
        case 16 where !scaled && zero == 0: .int16
        case -64: .float64
        default: .float32
        }
        return OutputHDU(image, extname: info.extname, extver: extver, pixelType: type)
    }
}
