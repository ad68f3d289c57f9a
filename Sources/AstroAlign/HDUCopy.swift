import AstroFITS
import AstroImage

/// A file's image HDUs as output HDUs with their storage types, so `--update-wcs` can write
/// the source again with one header changed and every plane (ERR, MASK, DQ…) untouched.
enum HDUCopy {
    /// - Parameter headers: HDU index → the header that replaces that HDU's own.
    /// - Throws: `.badData` for a file with a table HDU, which astrotool cannot copy yet.
    static func hdus(of file: String, headers: [Int: Header]) throws -> [OutputHDU] {
        var hdus = try FITSCopy.hdus(of: file, operation: "copying the file")
        // Integer planes keep their header in `image.header` too.
        for (index, header) in headers where index < hdus.count { hdus[index].image.header = header }
        return hdus
    }
}
