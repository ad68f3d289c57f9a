internal import CFITSIO
import AstroImage

// cfitsio's long names are macros Swift cannot import; these are the short names used here:
//   ffopentest/astro_fits_open_file = fits_open_file   ffiopn = fits_open_image   ffclos = fits_close_file
//   ffthdu = fits_get_num_hdus   ffghdn = fits_get_hdu_num   ffmahd = fits_movabs_hdu   ffghdt = fits_get_hdu_type
//   ffgidt = fits_get_img_type   ffgidm = fits_get_img_dim   ffgisz = fits_get_img_size
//   ffhdr2str = fits_hdr2str   ffcnvthdr2str = fits_convert_hdr2str   fffree = fits_free_memory
//   ffgpv = fits_read_img   ffgerr = fits_get_errstatus   ffcmsg = fits_clear_errmsg

/// Description of one HDU, as `astrotool info` reports it.
public struct HDUInfo: Sendable {
    public enum Kind: String, Sendable { case image, asciiTable = "ascii_table", binaryTable = "binary_table" }
    /// 0-based, as cfitsio counts from the primary HDU.
    public var index: Int
    public var extname: String?
    public var kind: Kind
    /// Tile-compressed image stored in a binary table.
    public var isCompressed: Bool
    /// Stored BITPIX (16 for unsigned 16-bit data with BZERO 32768); 0 for tables.
    public var bitpix: Int
    /// NAXISn in FITS order (NAXIS1 first); empty for an HDU without data.
    public var shape: [Int]
    public var header: Header
}

/// An open FITS file positioned on one HDU. Owns a cfitsio handle and closes it on deinit.
///
/// Not thread-safe: give each thread its own `FITSFile` (the Debian cfitsio is reentrant,
/// so several handles may read the same file concurrently).
public final class FITSFile {
    /// The name as the user typed it, extended syntax included.
    public let name: String
    var fptr: UnsafeMutablePointer<fitsfile>?
    /// The HDU whose data extent `checkDataExtent` last passed, so reading an image in row
    /// blocks checks it (and inflates GZIP tiles) once, not per block.
    var extentCheckedHDU: Int?

    /// Opens a file read-only. cfitsio extended syntax selects an HDU (`f.fits[SCI]`,
    /// `f.fits[2]`, `f.fits+2`, `f.fits[SCI,2]`); with `image: true` and no HDU named, it
    /// moves to the first HDU that holds image data (skipping an empty primary).
    public init(_ name: String, image: Bool = false) throws {
        try FITSStatus.checkReadable(name)
        self.name = name
        // The headers are checked (`prescan`) through a handle on the primary HDU before cfitsio
        // moves anywhere else; a name that selects an HDU is then opened as given.
        let base = FITSStatus.basePath(name)
        let streamed = base.contains("://") || base == "-"
        if streamed {
            try open(name, image: image)
            return
        }
        try open(base, image: false)
        try prescan()
        if base != name {
            var status: Int32 = 0
            ffclos(fptr, &status)
            fptr = nil
            try open(name, image: image)
        } else if image {
            try moveToFirstImage()
        }
    }

    /// What `fits_open_image` does on opening, on the handle already open: the first HDU with
    /// image data (an image with NAXIS > 0, or a tile-compressed image). When there is none,
    /// the primary stays current and reading it says why.
    private func moveToFirstImage() throws {
        var number: Int32 = 1
        while true {
            var type: Int32 = 0, naxis: Int32 = 0, status: Int32 = 0
            ffmahd(fptr, number, &type, &status)
            if status != 0 { ffcmsg(); break }   // past the last HDU
            ffgidm(fptr, &naxis, &status)
            if status != 0 { ffcmsg() }
            if isCompressed || (status == 0 && type == IMAGE_HDU && naxis > 0) { return }
            number += 1
        }
        try select(hdu: 0)
    }

    private func open(_ path: String, image: Bool) throws {
        var status: Int32 = 0
        if image {
            ffiopn(&fptr, path, READONLY, &status)
        } else {
            astro_fits_open_file(&fptr, path, READONLY, &status)
        }
        if status != 0 {
            if let f = fptr { var s: Int32 = 0; ffclos(f, &s) }
            fptr = nil
            // The file exists and is readable (checked above), so any failure here is its content.
            var error = FITSStatus.error(status, file: name, hdu: nil, operation: "opening")
            error.kind = .badData
            switch status {
            case FILE_NOT_OPENED, UNKNOWN_REC, NO_SIMPLE:
                error.reason = "not a readable FITS file (cfitsio status \(status))"
            case BAD_HDU_NUM:
                error.reason = "HDU not found (cfitsio status \(status))"
            default:
                break
            }
            throw error
        }
    }

    deinit {
        if let fptr { var status: Int32 = 0; ffclos(fptr, &status) }
    }

    /// Whether the name itself selects an HDU (then tools act on that HDU only).
    public var namesHDU: Bool {
        name.contains("[") || FITSStatus.basePath(name) != name
    }

    func check(_ status: Int32, _ operation: String) throws {
        if status != 0 { throw FITSStatus.error(status, file: name, hdu: hduLabel, operation: operation) }
    }

    // MARK: Navigation

    public var hduCount: Int {
        var n: Int32 = 0, status: Int32 = 0
        ffthdu(fptr, &n, &status)
        return Int(n)
    }

    /// 0-based index of the current HDU.
    public var hduIndex: Int {
        var n: Int32 = 0
        ffghdn(fptr, &n)
        return Int(n) - 1
    }

    public func select(hdu index: Int) throws {
        var status: Int32 = 0, type: Int32 = 0
        ffmahd(fptr, Int32(index + 1), &type, &status)
        if status != 0 {
            throw AstroError(.badData, file: name, hdu: "HDU \(index)", operation: "selecting HDU",
                             reason: "HDU not found (the file has \(hduCount))")
        }
    }

    /// `HDU 1 'SCI'`: how messages name the current HDU.
    public var hduLabel: String {
        let ext = extname
        return ext.map { "HDU \(hduIndex) '\($0)'" } ?? "HDU \(hduIndex)"
    }

    var extname: String? {
        var value = [CChar](repeating: 0, count: Int(FLEN_VALUE)), status: Int32 = 0
        ffgkys(fptr, "EXTNAME", &value, nil, &status)
        if status != 0 { ffcmsg(); return nil }
        let s = value.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return s.isEmpty ? nil : s
    }

    var isCompressed: Bool {
        var status: Int32 = 0
        return fits_is_compressed_image(fptr, &status) == 1
    }

    // MARK: Header

    /// All cards of the current HDU. For a tile-compressed image, the header of the image it
    /// holds (as if uncompressed), not of the binary table that stores it.
    public func header() throws -> Header {
        var text: UnsafeMutablePointer<CChar>? = nil, nkeys: Int32 = 0, status: Int32 = 0
        if isCompressed {
            ffcnvthdr2str(fptr, 0, nil, 0, &text, &nkeys, &status)
        } else {
            ffhdr2str(fptr, 0, nil, 0, &text, &nkeys, &status)
        }
        defer { if let text { var s: Int32 = 0; fffree(text, &s) } }
        try check(status, "reading header")
        return Header(cardImages: String(cString: text!))
    }

    public func info() throws -> HDUInfo {
        var status: Int32 = 0, type: Int32 = 0
        ffghdt(fptr, &type, &status)
        try check(status, "reading HDU type")
        let header = try header()
        var kind: HDUInfo.Kind = type == IMAGE_HDU ? .image : (type == ASCII_TBL ? .asciiTable : .binaryTable)
        var bitpix = 0
        var shape: [Int] = []
        if kind == .image || isCompressed {
            kind = .image
            var bp: Int32 = 0, naxis: Int32 = 0
            var naxes = [Int](repeating: 0, count: 9)
            ffgipr(fptr, 9, &bp, &naxis, &naxes, &status)
            try check(status, "reading image parameters")
            bitpix = Int(bp)
            shape = Array(naxes.prefix(max(0, min(9, Int(naxis)))))
        } else {
            shape = [header.int("NAXIS1") ?? 0, header.int("NAXIS2") ?? 0]
        }
        return HDUInfo(index: hduIndex, extname: extname, kind: kind, isCompressed: isCompressed,
                       bitpix: bitpix, shape: shape, header: header)
    }
}
