import AstroFITS
import AstroImage

/// Writes a copy of an input file (or the file itself, `--in-place`) with some image HDUs
/// replaced, atomically: every other image HDU is carried over with its storage type.
enum SkyFileWriter {
    /// - Parameter replacing: HDU index → the chip as it must be written (float32).
    /// - Throws: `.badData` when the file has a table HDU, which astrotool cannot copy yet.
    static func write(_ file: String, replacing: [Int: Image], to output: String, overwrite: Bool) throws {
        var hdus: [OutputHDU] = []
        for info in try FITS.listHDUs(file) {
            let label = "HDU \(info.index)" + (info.extname.map { " '\($0)'" } ?? "")
            guard info.kind == .image else {
                throw AstroError(.badData, file: file, hdu: label, operation: "copying the file",
                                 reason: "a table HDU, which skymatch cannot carry into its output yet")
            }
            let extver = info.header.int("EXTVER")
            if let chip = replacing[info.index] {
                hdus.append(OutputHDU(chip, extname: info.extname, extver: extver))
                continue
            }
            guard !info.shape.isEmpty, !info.shape.contains(0) else {
                var hdu = OutputHDU.headerOnly(info.header, extname: info.extname)
                hdu.extver = extver
                hdus.append(hdu)
                continue
            }
            hdus.append(try carried(file, info, extver: extver))
        }
        try FITSWriter.write(hdus, to: output, overwrite: overwrite)
    }

    /// An HDU copied with its storage type: 32-bit integers exactly (DQ bits above 2²⁴
    /// included); scaled integers become float32; 64-bit reals pass through float32 precision.
    private static func carried(_ file: String, _ info: HDUInfo, extver: Int?) throws -> OutputHDU {
        let name = "\(file)[\(info.index)]"
        let scaled = (info.header.double("BSCALE") ?? 1) != 1
        let zero = info.header.double("BZERO") ?? 0
        switch info.bitpix {
        case 32 where !scaled && zero == 0:
            let d = try FITSFile(name).readImageDouble()
            return OutputHDU(integers: d.pixels.map { $0.isFinite ? Int32(clamping: Int64($0)) : Int32.min },
                             width: d.width, height: d.height, header: info.header, extname: info.extname, extver: extver)
        default:
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
}
