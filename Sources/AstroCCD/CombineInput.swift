import AstroFITS
import AstroImage

/// One input of a combination, kept open so line blocks stream from it without re-reading the
/// file per block (ccdproc re-reads every file per tile, issue #1012); or a frame already in
/// memory (combine's own calibrated inputs, when they fit its memory limit).
final class CombineInput {
    let path: String
    private let source: Source
    let width: Int
    let height: Int
    let header: Header
    /// A multi-extension file's header-only primary (EXPTIME and friends often live there).
    let primaryHeader: Header?
    let extname: String?
    let extver: Int?
    let hasErr: Bool
    let hasMask: Bool

    private enum Source {
        case file(FITSFile, data: Int, err: Int?, mask: (hdu: Int, isDQ: Bool)?)
        /// Its mask holds the final bits (good bits were applied when the frame was read).
        case memory(Image)
    }

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
        let file = try FITSFile(path)
        let dataHDU: Int, errHDU: Int?, maskHDU: (Int, Bool)?
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
        extname = header.string("EXTNAME")
        extver = header.int("EXTVER")
        hasErr = errHDU != nil
        hasMask = maskHDU != nil
        source = .file(file, data: dataHDU, err: errHDU, mask: maskHDU.map { (hdu: $0.0, isDQ: $0.1) })
    }

    /// True for a frame in memory: its rows are copied, not read.
    var inMemory: Bool {
        if case .memory = source { return true }
        return false
    }

    /// Chip `chip` of a frame in memory, named `path` in messages and IMCMB cards.
    init(_ frame: CCDFile, chip: Int, path: String) {
        self.path = path
        let c = frame.chips[chip]
        width = c.image.width
        height = c.image.height
        header = c.image.header
        primaryHeader = frame.primaryHeader
        extname = c.extname
        extver = c.extver
        hasErr = c.image.uncertainty != nil
        hasMask = c.image.mask != nil
        source = .memory(c.image)
    }

    /// Calls `body` with the pixels and the mask (if any) of `rows`: a frame in memory lends its
    /// own planes, a file's rows are read.
    func withRows<R>(_ rows: Range<Int>, goodBits: GoodBits,
                     _ body: (UnsafeBufferPointer<Float>, UnsafeBufferPointer<UInt8>?) throws -> R) throws -> R {
        let span = (rows.lowerBound * width)..<(rows.upperBound * width)
        switch source {
        case let .file(file, data, _, _):
            try file.select(hdu: data)
            let pixels = try file.readPixels(rows: rows), mask = try mask(rows: rows, goodBits: goodBits)
            return try pixels.withUnsafeBufferPointer { p in
                guard let mask else { return try body(p, nil) }
                return try mask.withUnsafeBufferPointer { try body(p, $0) }
            }
        case let .memory(image):
            return try image.pixels.withUnsafeBufferPointer { p in
                let pixels = UnsafeBufferPointer(rebasing: p[span])
                guard let mask = image.mask else { return try body(pixels, nil) }
                return try mask.withUnsafeBufferPointer { try body(pixels, UnsafeBufferPointer(rebasing: $0[span])) }
            }
        }
    }

    func data(rows: Range<Int>, into buffer: UnsafeMutableBufferPointer<Float>) throws {
        switch source {
        case let .file(file, data, _, _):
            try file.select(hdu: data)
            try file.readPixels(rows: rows, into: buffer)
        case let .memory(image):
            Self.copy(image.pixels, rows, width, into: buffer)
        }
    }

    /// Reads ERR rows; the caller has checked that there is an ERR plane.
    func sigma(rows: Range<Int>, into buffer: UnsafeMutableBufferPointer<Float>) throws {
        switch source {
        case let .file(file, _, err, _):
            guard let err else { return }
            try file.select(hdu: err)
            try file.readPixels(rows: rows, into: buffer)
        case let .memory(image):
            if let sigma = image.uncertainty { Self.copy(sigma, rows, width, into: buffer) }
        }
    }

    func mask(rows: Range<Int>, goodBits: GoodBits) throws -> [UInt8]? {
        switch source {
        case let .file(file, _, _, mask):
            guard let (hdu, isDQ) = mask else { return nil }
            try file.select(hdu: hdu)
            return CCDFile.maskPlane(try file.readPixels(rows: rows), isDQ: isDQ, goodBits: goodBits)
        case let .memory(image):
            return image.mask.map { Array($0[rows.lowerBound * width..<rows.upperBound * width]) }
        }
    }

    private static func copy(_ plane: [Float], _ rows: Range<Int>, _ width: Int, into buffer: UnsafeMutableBufferPointer<Float>) {
        plane.withUnsafeBufferPointer { p in
            buffer.baseAddress!.update(from: p.baseAddress! + rows.lowerBound * width, count: rows.count * width)
        }
    }
}
