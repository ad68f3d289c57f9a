import AstroFITS
import AstroImage

/// Writes a copy of an input file (or the file itself, `--in-place`) with some image HDUs
/// replaced, atomically: every other HDU is carried over with its storage type.
enum SkyFileWriter {
    /// - Parameter replacing: HDU index → the chip as it must be written (float32).
    /// - Throws: `.badData` when the file has a table HDU, which astrotool cannot copy yet.
    static func write(_ file: String, replacing: [Int: Image], to output: String, overwrite: Bool) throws {
        var hdus = try FITSCopy.hdus(of: file, operation: "copying the file")
        for (index, chip) in replacing where index < hdus.count {
            hdus[index] = OutputHDU(chip, extname: hdus[index].extname, extver: hdus[index].extver)
        }
        try FITSWriter.write(hdus, to: output, overwrite: overwrite)
    }
}
