import AstroFITS
import AstroImage

/// One input of a combination, kept open so line blocks stream from it without re-reading the
/// file per block (ccdproc re-reads every file per tile, issue #1012).
final class CombineInput {
    let path: String
    let file: FITSFile
    let dataHDU: Int
    let errHDU: Int?
    let maskHDU: (Int, Bool)?
    let width: Int
    let height: Int
    let header: Header
    /// A multi-extension file's header-only primary (EXPTIME and friends often live there).
    let primaryHeader: Header?
    var extname: String? { header.string("EXTNAME") }
    var extver: Int? { header.int("EXTVER") }

    /// How many chips a combination of this file runs: its science HDUs, or 1 when its name
    /// picks an HDU.
    static func chipCount(_ path: String) throws -> Int {
        let file = try FITSFile(path)
        return file.namesHDU ? 1 : try CCDFile.Layout(file, path: path).chips.count
    }

    /// A numeric card of the chip's header, else of the primary's.
    func double(_ key: String) -> Double? { header.double(key) ?? primaryHeader?.double(key) }

    /// Chip `chip` of a multi-extension file, or the file's only frame (or the HDU its name picks).
    init(_ path: String, chip: Int? = nil) throws {
        self.path = path
        file = try FITSFile(path)
        if file.namesHDU {
            dataHDU = file.hduIndex
            errHDU = nil
            maskHDU = nil
            primaryHeader = nil
        } else {
            let layout = try CCDFile.Layout(file, path: path)
            guard chip != nil || layout.chips.count == 1 else {
                throw AstroError(.badData, file: path, operation: "reading a frame to combine",
                                 reason: "it holds \(layout.chips.count) chips; name one (f.fits[SCI,2])")
            }
            let entry = layout.chips[chip ?? 0]
            dataHDU = entry.science.index
            errHDU = entry.err
            maskHDU = entry.mask
            primaryHeader = layout.primaryHeader
        }
        try file.select(hdu: dataHDU)
        let info = try file.info()
        guard info.kind == .image, info.shape.count >= 2, info.shape[0] > 0, info.shape[1] > 0 else {
            throw AstroError(.badData, file: path, hdu: file.hduLabel, operation: "reading a frame to combine",
                             reason: "this HDU holds no 2-D image")
        }
        width = info.shape[0]
        height = info.shape[1]
        header = info.header
    }

    func data(rows: Range<Int>) throws -> [Float] {
        try file.select(hdu: dataHDU)
        return try file.readPixels(rows: rows)
    }

    func data(rows: Range<Int>, into buffer: UnsafeMutableBufferPointer<Float>) throws {
        try file.select(hdu: dataHDU)
        try file.readPixels(rows: rows, into: buffer)
    }

    /// Reads ERR rows; the caller has checked that there is an ERR plane.
    func sigma(rows: Range<Int>, into buffer: UnsafeMutableBufferPointer<Float>) throws {
        guard let errHDU else { return }
        try file.select(hdu: errHDU)
        try file.readPixels(rows: rows, into: buffer)
    }

    func mask(rows: Range<Int>, goodBits: GoodBits) throws -> [UInt8]? {
        guard let (hdu, isDQ) = maskHDU else { return nil }
        try file.select(hdu: hdu)
        return CCDFile.maskPlane(try file.readPixels(rows: rows), isDQ: isDQ, goodBits: goodBits)
    }
}
