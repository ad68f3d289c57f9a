import AstroFITS
import AstroImage
import AstroWCS

/// One input chip of a resampling, as far as its headers tell: WCS, shape, keywords and where
/// its companions are (by EXTNAME beside it, same EXTVER: ERR or UNCERT, DQ or MASK, VAR_RNOISE,
/// VAR_POISSON, VAR_FLAT — so `ccdproc process` output and HST/JWST files drizzle as they are).
/// The pixels are read by `load()` when the chip's turn comes, so memory does not grow with the
/// number of inputs.
struct ResampleInput {
    let path: String
    /// How messages name the chip's HDU, e.g. `HDU 1 'SCI'`.
    let hdu: String
    let wcs: WCS
    let width: Int
    let height: Int
    /// The chip's header.
    let header: Header
    /// The file's primary header, for keywords a chip leaves to it (EXPTIME in HST files).
    let primary: Header
    /// HDU indices of the companions found, by role.
    private let companions: [Companion: Int]
    /// The DQ/MASK plane's storage: 8, 16, or 32 for anything wider (uint16, int32, floats).
    let dqBitpix: Int?

    enum Companion: CaseIterable {
        case err, dq, varRnoise, varPoisson, varFlat
        var names: [String] {
            switch self {
            case .err: ["ERR", "UNCERT"]
            case .dq: ["DQ", "MASK"]
            case .varRnoise: ["VAR_RNOISE"]
            case .varPoisson: ["VAR_POISSON"]
            case .varFlat: ["VAR_FLAT"]
            }
        }
    }

    /// Every input chip of `paths` (`FITS.sciChips`), headers read and checked on all cores
    /// (its headers, WCS and the WCS's round-trip check: ~2 ms a chip); the first failure in
    /// input order is thrown.
    static func read(_ paths: [String]) throws -> [ResampleInput] {
        let chips = try paths.flatMap(FITS.sciChips)
        return try Parallel.tryMap(count: chips.count) { k in Unshared(try ResampleInput(chips[k])) }.map(\.value)
    }

    /// Reads the headers, checks the WCS and the companions' shapes; no pixels yet.
    init(_ path: String) throws {
        self.path = path
        let file = try FITSFile(path, image: true)
        let info = try file.info()
        hdu = file.hduLabel
        guard info.shape.count >= 2, info.shape[0] > 0, info.shape[1] > 0 else {
            throw AstroError(.badData, file: path, hdu: hdu, operation: "reading image", reason: "no 2-D image in this HDU")
        }
        (width, height) = (info.shape[0], info.shape[1])
        header = info.header
        wcs = try WCS.read(path: path)
        try wcs.checkRoundTrip(width: width, height: height, file: path, hdu: hdu)
        let base = FITS.basePath(path)
        let ver = header.int("EXTVER") ?? 1
        let hdus = try FITS.listHDUs(base)
        primary = hdus.first?.header ?? Header()
        var found: [Companion: Int] = [:], dqBits: Int?
        for role in Companion.allCases {
            for name in role.names {
                // EXTVER defaults to 1, which also pairs a single frame with its ERR and MASK.
                guard let h = hdus.first(where: { ($0.extname ?? "").uppercased() == name && ($0.header.int("EXTVER") ?? 1) == ver })
                else { continue }
                guard h.shape.count >= 2, h.shape[0] == width, h.shape[1] == height else {
                    let shape = h.shape.map(String.init).joined(separator: "x")
                    throw AstroError(.badData, file: base, hdu: "HDU \(h.index) '\(name)'", operation: "reading a companion",
                                     reason: "it is \(shape.isEmpty ? "empty" : shape), the science is \(width)x\(height)")
                }
                found[role] = h.index
                if role == .dq { dqBits = h.bitpix == 8 ? 8 : h.bitpix == 16 && (h.header.double("BZERO") ?? 0) == 0 ? 16 : 32 }
                break
            }
        }
        companions = found
        dqBitpix = dqBits
    }

    /// The chip's pixels and its companions' (whole, or a range of rows).
    struct Planes {
        let data: [Float]
        let err: [Float]?
        let dq: [Float]?
        let varRnoise: [Float]?
        let varPoisson: [Float]?
        let varFlat: [Float]?
        /// The chip row of the planes' first row (they may hold only some rows).
        var firstRow = 0
    }

    func has(_ role: Companion) -> Bool { companions[role] != nil }

    /// The chip's pixels and its companions', all rows or only `rows`.
    func load(rows: Range<Int>? = nil) throws -> Planes {
        let base = FITS.basePath(path)
        func read(_ name: String) throws -> [Float] {
            let file = try FITSFile(name, image: true)
            return try rows.map { try file.readPixels(rows: $0) } ?? file.readImage().pixels
        }
        func plane(_ role: Companion) throws -> [Float]? { try companions[role].map { try read("\(base)[\($0)]") } }
        return Planes(data: try read(path), err: try plane(.err), dq: try plane(.dq),
                      varRnoise: try plane(.varRnoise), varPoisson: try plane(.varPoisson), varFlat: try plane(.varFlat),
                      firstRow: rows?.lowerBound ?? 0)
    }

    /// A numeric card of the chip, else of the primary header.
    func double(_ key: String) -> Double? {
        header.double(key) ?? primary.double(key)
    }
}
