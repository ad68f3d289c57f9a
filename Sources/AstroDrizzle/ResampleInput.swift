import AstroFITS
import AstroImage
import AstroWCS

/// One input chip of a resampling: its science pixels, WCS and the companions found by EXTNAME
/// beside it (same EXTVER): ERR or UNCERT, DQ or MASK, VAR_RNOISE — so `ccdproc process` output
/// and HST/JWST files drizzle as they are.
struct ResampleInput {
    let path: String
    /// How messages name the chip's HDU, e.g. `HDU 1 'SCI'`.
    let hdu: String
    let image: Image
    let wcs: WCS
    let err: [Float]?
    let dq: [Float]?
    let varRnoise: [Float]?
    let varPoisson: [Float]?
    let varFlat: [Float]?
    /// The file's primary header, for keywords a chip leaves to it (EXPTIME in HST files).
    let primary: Header

    init(_ path: String) throws {
        self.path = path
        let file = try FITSFile(path, image: true)
        let science = try file.readImage()
        image = science
        hdu = file.hduLabel
        wcs = try WCS.read(path: path)
        try wcs.checkRoundTrip(width: science.width, height: science.height, file: path, hdu: hdu)
        let base = FITS.basePath(path)
        let ver = science.header.int("EXTVER") ?? 1
        let hdus = try FITS.listHDUs(base)
        primary = hdus.first?.header ?? Header()
        func companion(_ names: [String]) throws -> [Float]? {
            for name in names {
                // EXTVER defaults to 1, which also pairs a single frame with its ERR and MASK.
                guard let found = hdus.first(where: { ($0.extname ?? "").uppercased() == name && ($0.header.int("EXTVER") ?? 1) == ver })
                else { continue }
                let plane = try FITS.readImage("\(base)[\(found.index)]")
                guard plane.width == science.width, plane.height == science.height else {
                    throw AstroError(.badData, file: base, hdu: "HDU \(found.index) '\(name)'", operation: "reading a companion",
                                     reason: "it is \(plane.width)x\(plane.height), the science is \(science.width)x\(science.height)")
                }
                return plane.pixels
            }
            return nil
        }
        err = try companion(["ERR", "UNCERT"])
        dq = try companion(["DQ", "MASK"])
        varRnoise = try companion(["VAR_RNOISE"])
        varPoisson = try companion(["VAR_POISSON"])
        varFlat = try companion(["VAR_FLAT"])
    }

    /// A numeric card of the chip, else of the primary header.
    func double(_ key: String) -> Double? {
        image.header.double(key) ?? primary.double(key)
    }
}
