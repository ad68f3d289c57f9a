import AstroFITS
import AstroImage

extension WCS {
    /// The WCS of one HDU of a FITS file (the first image HDU, or the one the name picks, e.g.
    /// `f.fits[SCI,2]`), with the lookup tables its header names read from the same file.
    public static func read(path: String) throws -> WCS {
        let file = try FITSFile(path, image: true)
        let header = try file.header()
        let base = FITS.basePath(path)
        return try WCS(header: header, file: path, hdu: file.hduLabel) { extname, extver in
            try FITS.readImage("\(base)[\(extname),\(extver)]")
        }
    }
}
