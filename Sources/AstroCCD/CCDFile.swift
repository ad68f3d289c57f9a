import AstroFITS
import AstroImage

/// One detector's frame inside a file: the image with its σ and mask, and where it came from.
public struct CCDChip: Sendable {
    public var image: Image
    /// EXTNAME/EXTVER of a multi-extension chip; nil for a frame in the primary HDU.
    public var extname: String?
    public var extver: Int?
    /// `HDU 2 'SCI'`, for messages.
    public var hduLabel: String?
}

/// A CCD file as ccdproc and the HST/JWST pipelines lay it out: either one frame in the primary
/// HDU with optional `ERR`/`UNCERT` and `MASK`/`DQ` extensions (astropy's CCDData layout), or an
/// empty primary and one image extension per chip, companions matched by EXTVER.
public struct CCDFile: Sendable {
    public var path: String
    /// The header-only primary of a multi-extension file; nil when the primary holds the frame.
    public var primaryHeader: Header?
    public var chips: [CCDChip]

    public init(path: String, primaryHeader: Header? = nil, chips: [CCDChip]) {
        self.path = path; self.primaryHeader = primaryHeader; self.chips = chips
    }

    /// Every chip without its σ plane.
    mutating func dropUncertainty() {
        for c in chips.indices { chips[c].image.uncertainty = nil }
    }

    /// The bytes its planes hold in memory (data, σ, mask).
    var byteCount: Int {
        chips.reduce(0) { sum, c in
            sum + c.image.count * (4 + (c.image.uncertainty == nil ? 0 : 4) + (c.image.mask == nil ? 0 : 1))
        }
    }

    static let errorNames: Set<String> = ["ERR", "UNCERT", "ERROR", "SIGMA"]
    static let maskNames: Set<String> = ["MASK", "DQ", "BPM"]
    static let otherCompanions: Set<String> = ["WHT", "CON", "CTX", "VAR_POISSON", "VAR_RNOISE", "VAR_FLAT", "HDRTAB"]

    /// Reads every chip with its companions. `goodBits` clears DQ/MASK bits that count as good;
    /// a DQ value that does not fit the uint8 MASK becomes the `BAD` bit. `uncertainty` false
    /// leaves the σ planes unread.
    public static func read(_ path: String, goodBits: GoodBits = .none, uncertainty: Bool = true) throws -> CCDFile {
        let file = try FITSFile(path)
        if file.namesHDU {
            try file.select(hdu: file.hduIndex)
            let info = try file.info()
            guard info.kind == .image, info.shape.count >= 2, info.shape[0] > 0, info.shape[1] > 0 else {
                throw AstroError(.badData, file: path, hdu: file.hduLabel, operation: "reading frame",
                                 reason: "this HDU holds no 2-D image")
            }
            let image = try file.readImage()
            return CCDFile(path: path, chips: [CCDChip(image: image, extname: info.extname,
                                                      extver: info.header.int("EXTVER"), hduLabel: file.hduLabel)])
        }
        let layout = try Layout(file, path: path)
        var chips: [CCDChip] = []
        for entry in layout.chips {
            try file.select(hdu: entry.science.index)
            let label = file.hduLabel
            var image = try file.readImage()
            if let index = entry.err, uncertainty {
                try file.select(hdu: index)
                let plane = try file.readImage()
                try checkShape(plane, image, path: path, label: file.hduLabel)
                image.uncertainty = sigma(plane.pixels, utype: plane.header.string("UTYPE") ?? plane.header.string("ERRTYPE"))
            }
            if let (index, isDQ) = entry.mask {
                try file.select(hdu: index)
                let (w, h) = try file.imageSize()
                try checkShape((w, h), image, path: path, label: file.hduLabel)
                image.mask = try readMask(file, width: w, height: h, isDQ: isDQ, goodBits: goodBits)
            }
            let info = entry.science
            chips.append(CCDChip(image: image, extname: layout.primaryHeader == nil && info.index == 0 ? nil : info.extname,
                                 extver: info.header.int("EXTVER"), hduLabel: label))
        }
        let primaryHeader = layout.primaryHeader
        return CCDFile(path: path, primaryHeader: primaryHeader, chips: chips)
    }

    /// Which HDUs hold the chips and their companions, found from EXTNAMEs without reading pixels.
    public struct Layout {
        public struct Entry {
            public var science: HDUInfo
            /// HDU index of the σ plane.
            public var err: Int?
            /// HDU index of the mask plane, and whether it is a DQ bitfield.
            public var mask: (Int, Bool)?
        }
        public var primaryHeader: Header?
        public var chips: [Entry]

        public init(_ file: FITSFile, path: String) throws {
            var science: [HDUInfo] = []
            var errors: [Int: Int] = [:], masks: [Int: (Int, Bool)] = [:]
            for i in 0..<file.hduCount {
                try file.select(hdu: i)
                let info = try file.info()
                let hasData = info.kind == .image && info.shape.count >= 2 && info.shape.allSatisfy { $0 > 0 }
                if i == 0 && !hasData { primaryHeader = info.header; continue }
                guard hasData else { continue }
                let name = (info.extname ?? "").uppercased()
                let ver = info.header.int("EXTVER") ?? 1
                if CCDFile.errorNames.contains(name) { errors[ver] = i }
                else if CCDFile.maskNames.contains(name) { masks[ver] = (i, name == "DQ") }
                else if !CCDFile.otherCompanions.contains(name) { science.append(info) }
            }
            guard !science.isEmpty else {
                throw AstroError(.badData, file: path, operation: "reading frame", reason: "no image HDU holds a frame")
            }
            // A companion pairs with its chip by EXTVER; in a single-frame file, with the frame.
            chips = science.map { info in
                let ver = info.header.int("EXTVER") ?? 1
                let single = science.count == 1
                return Entry(science: info, err: errors[ver] ?? (single ? errors.values.first : nil),
                             mask: masks[ver] ?? (single ? masks.values.first : nil))
            }
        }
    }

    /// Writes the chips back in the same layout: one frame in the primary with `ERR` and `MASK`,
    /// or a header-only primary and `SCI`/`ERR`/`MASK` extensions per chip. `BUNIT` is set on
    /// data and σ.
    public func write(to output: String, overwrite: Bool, bitpix: PixelType = .float32) throws {
        var hdus: [OutputHDU] = []
        let multi = primaryHeader != nil || chips.count > 1
        if multi { hdus.append(.headerOnly(primaryHeader ?? Header())) }
        for chip in chips {
            let name = multi ? (chip.extname ?? "SCI") : nil
            let ver = multi ? (chip.extver ?? 1) : nil
            var image = chip.image
            let sigma = image.uncertainty, mask = image.mask
            image.uncertainty = nil
            image.mask = nil
            hdus.append(OutputHDU(image, extname: name, extver: ver, pixelType: bitpix))
            if let sigma {
                var h = Header()
                if let unit = image.header.string("BUNIT") { h.set("BUNIT", unit) }
                h.set("UTYPE", "StdDevUncertainty", comment: "1-sigma uncertainty of the data")
                hdus.append(OutputHDU(Image(width: image.width, height: image.height, pixels: sigma, header: h),
                                      extname: "ERR", extver: ver, pixelType: bitpix))
            }
            if let mask {
                var h = Header()
                h.addComment("non-zero = bad; bits listed in astrotool docs/conventions.md")
                hdus.append(OutputHDU(bytes: mask, width: image.width, height: image.height, header: h, extname: "MASK", extver: ver))
            }
        }
        try FITSWriter.write(hdus, to: output, overwrite: overwrite)
    }

    /// A keyword's value from the chip's header, else the primary's (MEF keeps EXPTIME there).
    public func lookup(_ key: String, chip: Int) -> Header? {
        if chips[chip].image.header.contains(key) { return chips[chip].image.header }
        if let primaryHeader, primaryHeader.contains(key) { return primaryHeader }
        return nil
    }

    /// The chip matching another file's chip: same EXTNAME/EXTVER, or the only one.
    public func chip(matching other: CCDChip) -> CCDChip? {
        if chips.count == 1 { return chips[0] }
        return chips.first { ($0.extname ?? "SCI") == (other.extname ?? "SCI") && ($0.extver ?? 1) == (other.extver ?? 1) }
    }

    static func checkShape(_ plane: Image, _ image: Image, path: String, label: String) throws {
        try checkShape((plane.width, plane.height), image, path: path, label: label)
    }

    static func checkShape(_ plane: (width: Int, height: Int), _ image: Image, path: String, label: String) throws {
        guard plane.width == image.width, plane.height == image.height else {
            throw AstroError(.badData, file: path, hdu: label, operation: "reading companion",
                             reason: "it is \(plane.width)x\(plane.height), the frame is \(image.width)x\(image.height)")
        }
    }

    /// σ from an astropy UTYPE: StdDev (default), Variance or InverseVariance.
    static func sigma(_ values: [Float], utype: String?) -> [Float] {
        switch utype?.lowercased() ?? "" {
        case let t where t.hasPrefix("var"): values.map { $0.squareRoot() }
        case let t where t.hasPrefix("inverse") || t == "ivar": values.map { 1 / $0.squareRoot() }
        default: values
        }
    }

    /// The mask of `values`: bits that are not good kept (a DQ plane's, or a value past 255,
    /// become the one bad bit), NaN bad.
    static func maskPlane(_ values: [Float], isDQ: Bool, goodBits: GoodBits) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: values.count) { out, filled in
            values.withUnsafeBufferPointer { maskBits($0, isDQ: isDQ, goodBits: goodBits, into: out.baseAddress!) }
            filled = values.count
        }
    }

    /// The current HDU's mask, read in blocks of rows through one Float buffer: not a whole
    /// plane of Floats faulted in only to become bytes.
    static func readMask(_ file: FITSFile, width: Int, height: Int, isDQ: Bool, goodBits: GoodBits) throws -> [UInt8] {
        let block = max(1, (1 << 18) / max(width, 1))
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: min(height, block) * width)
        defer { buffer.deallocate() }
        var thrown: (any Error)?
        let mask = [UInt8](unsafeUninitializedCapacity: width * height) { out, filled in
            do {
                for first in stride(from: 0, to: height, by: block) {
                    let rows = first..<min(height, first + block)
                    try file.readPixels(rows: rows, into: buffer)
                    maskBits(UnsafeBufferPointer(rebasing: buffer[..<(rows.count * width)]), isDQ: isDQ, goodBits: goodBits,
                             into: out.baseAddress! + first * width)
                }
                filled = width * height
            } catch { thrown = error; filled = 0 }
        }
        if let thrown { throw thrown }
        return mask
    }

    private static func maskBits(_ values: UnsafeBufferPointer<Float>, isDQ: Bool, goodBits: GoodBits, into out: UnsafeMutablePointer<UInt8>) {
        let src = SendableBuffer(values), dst = SendableMutableBuffer(UnsafeMutableBufferPointer(start: out, count: values.count))
        Parallel.forEachBlock(count: values.count, minBlock: 1 << 16) { r in
            for p in r {
                let v = src[p]
                var m: UInt8 = 0
                if v != 0 {
                    if v.isNaN { m = MaskBits.bad.rawValue } else if v.isFinite {
                        let bits = UInt64(max(0, v.rounded()))
                        if goodBits.isBad(bits) {
                            let kept = bits & ~goodBits.good
                            m = !isDQ && kept <= 255 ? UInt8(kept) : MaskBits.bad.rawValue
                        }
                    }
                }
                (dst.base + p).initialize(to: m)
            }
        }
    }
}
