import AstroFITS
import AstroImage
import AstroWCS

/// One science array of an input: its pixels, which of them may measure sky, its WCS and its
/// outline on the sky. Not Sendable, because a `WCS` is not: a chip is read on one worker and
/// used after it, and the pair workers each use their own `twin()`.
final class SkyChip {
    /// How the report names the chip: the input as typed, or `file[SCI,2]` for a chip of several.
    let name: String
    /// The input argument it came from (its index in the run's input list).
    let input: Int
    /// The file on disk and the chip's HDU number in it.
    let file: String
    let hdu: Int
    let width: Int
    let height: Int
    var pixels: [Float]
    let header: Header
    /// 1 where the pixel must not measure sky: a bad DQ/MASK bit (after good bits), a non-zero
    /// user mask, or a non-finite value.
    let excluded: [UInt8]
    let wcs: WCS
    let footprint: SphericalPolygon

    init(name: String, input: Int, file: String, hdu: Int, width: Int, height: Int, pixels: [Float], header: Header,
         excluded: [UInt8], wcs: WCS, footprint: SphericalPolygon) {
        self.name = name
        self.input = input
        self.file = file
        self.hdu = hdu
        self.width = width
        self.height = height
        self.pixels = pixels
        self.header = header
        self.excluded = excluded
        self.wcs = wcs
        self.footprint = footprint
    }

    /// The chips of every input, in input order (the mask of input k is `masks[k]` when given).
    static func read(_ paths: [String], goodBits: GoodBits, masks: [String], footprintStep: Int) throws -> [SkyChip] {
        // Reading and decoding is most of the time of small runs: the inputs are read two (or
        // more) at a time; the first failing input in the list is the one reported.
        return try Parallel.tryMap(count: paths.count) { k in
            Unshared(try read(paths[k], input: k, goodBits: goodBits, userMask: masks.isEmpty ? nil : masks[k], footprintStep: footprintStep))
        }.flatMap(\.value)
    }

    /// The chips of one input: the HDU its name selects, else every `SCI` image extension, else
    /// the first HDU with image data. DQ or MASK with the same EXTVER is honoured through
    /// `goodBits`; `userMask` (non-zero = exclude) is a file with an image of the chip's shape
    /// (its HDU of the same EXTVER when it has several).
    /// - Throws: `.badData` for a chip without a celestial WCS, without a finite pixel, an outline
    ///   that does not map onto the sky, or a mask of another shape.
    static func read(_ path: String, input: Int, goodBits: GoodBits, userMask: String?, footprintStep: Int) throws -> [SkyChip] {
        let base = FITS.basePath(path)
        let selected = try FITS.listHDUs(path)
        let all = selected.count == 1 && base != path ? try FITS.listHDUs(base) : selected
        let images = selected.filter { $0.kind == .image && $0.shape.count >= 2 && !$0.shape.contains(0) }
        var chips = images.filter { ($0.extname ?? "").uppercased() == "SCI" }
        if chips.isEmpty, let first = images.first { chips = [first] }
        guard !chips.isEmpty else {
            throw AstroError(.badData, file: path, operation: "finding chips", reason: "no image HDU with data")
        }
        return try chips.map { info in
            let label = "HDU \(info.index)" + (info.extname.map { " '\($0)'" } ?? "")
            let extver = info.header.int("EXTVER") ?? 1
            let name = chips.count == 1 ? path : "\(base)[\(info.extname ?? "\(info.index)"),\(extver)]"
            let image = try FITS.readImage("\(base)[\(info.index)]")
            let wcs = try WCS.read(path: "\(base)[\(info.index)]")
            func fail(_ operation: String, _ reason: String) -> AstroError {
                AstroError(.badData, file: base, hdu: label, operation: operation, reason: reason)
            }
            var excluded = image.pixels.map { $0.isFinite ? UInt8(0) : 1 }
            guard excluded.contains(0) else { throw fail("reading chip", "no finite pixel (all NaN or infinite)") }
            let dq = all.first { ["DQ", "MASK"].contains(($0.extname ?? "").uppercased()) && ($0.header.int("EXTVER") ?? 1) == extver }
            if let dq {
                let plane = try FITSFile("\(base)[\(dq.index)]").readImageDouble()
                guard plane.width == image.width, plane.height == image.height else {
                    throw fail("reading \(dq.extname ?? "DQ")", "it is \(plane.width)x\(plane.height), the chip is \(image.width)x\(image.height)")
                }
                for (k, v) in plane.pixels.enumerated() where !v.isFinite || goodBits.isBad(UInt64(bitPattern: Int64(v))) {
                    excluded[k] = 1
                }
            }
            if let userMask {
                let m = try FITS.readUserMask(userMask, extver: extver, width: image.width, height: image.height, image: name)
                for (k, v) in m.enumerated() where v != 0 { excluded[k] = 1 }
            }
            let outline = wcs.footprint(width: image.width, height: image.height, step: footprintStep)
            guard let polygon = SphericalPolygon(ra: outline.map(\.ra), dec: outline.map(\.dec)) else {
                throw fail("computing footprint", "the chip's outline does not map onto the sky through its WCS")
            }
            guard polygon.radius <= SphericalPolygon.maxRadius else {
                throw fail("computing footprint", "the chip spans more than 60 degrees, which skymatch does not handle")
            }
            return SkyChip(name: name, input: input, file: base, hdu: info.index, width: image.width, height: image.height,
                           pixels: image.pixels, header: image.header, excluded: excluded, wcs: wcs, footprint: polygon)
        }
    }
}

extension SkyChip {
    /// The same chip (its arrays shared, not copied) with its own copy of the WCS, for another thread.
    func twin() -> SkyChip {
        SkyChip(name: name, input: input, file: file, hdu: hdu, width: width, height: height, pixels: pixels, header: header,
                excluded: excluded, wcs: wcs.copy(), footprint: footprint)
    }
}
