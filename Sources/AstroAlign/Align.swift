import AstroFITS
import AstroImage
import AstroWCS
import Foundation

/// `astrotool align`'s settings beyond detection and registration (docs/align.md).
public struct AlignOptions: Sendable {
    public var detection = DetectionOptions()
    public var registration = RegistrationOptions()
    /// How `-tc`/`-sc` catalogues name their columns.
    public var columns = CatalogueColumns()
    /// How a `--ref-cat` RA/Dec catalogue names its columns.
    public var referenceColumns = ReferenceColumns()
    public var interpolation = Interpolation.spline3
    /// Output value where the source does not reach.
    public var fill: Float = .nan
    public var conserveFlux = false
    /// Output grid when there is no template image (default: the source's shape), or to
    /// override the template's.
    public var outputWidth: Int?
    public var outputHeight: Int?
    /// Write the source with a WCS tied to the template's instead of resampling it.
    public var updateWCS = false
    /// Refuse (exit 65, no output) when the fit's RMS exceeds this many pixels.
    public var maxRMS: Double?
    /// Also save the transform and its statistics as JSON here.
    public var transformFile: String?
    /// A mask of the source's shape (non-zero = bad), ORed with the source's own MASK/DQ:
    /// left out of detection, its bits carried into the output MASK.
    public var sourceMask: String?
    /// Grow the output grid from the template's to hold the source's whole footprint.
    public var preserveFootprints = false

    public init() {}
}

/// The template: an image (detected, its WCS and grid used), a catalogue of pixel positions,
/// or a RA/Dec reference catalogue (`--ref-cat`: the source's own WCS is corrected).
public enum AlignTemplate: Sendable {
    case image(String)
    case catalogue(String)
    case reference(String)

    var path: String {
        switch self {
        case .image(let p), .catalogue(let p), .reference(let p): p
        }
    }
}

/// What one run did: the inputs, the output, the transform statistics.
public struct AlignReport: Sendable, Encodable {
    public var source: String
    public var template: String
    public var output: String
    /// `warp` (resampled onto the template grid) or `update-wcs`.
    public var mode: String
    public var width: Int
    public var height: Int
    /// Output pixels no source pixel reaches, and those set NaN by a hole in the source.
    public var noDataPixels: Int?
    public var holePixels: Int?
    /// `--preserve-footprints`: the template pixel at output pixel (0, 0).
    public var templateOffset: [Int]?
    /// `--ref-cat`: catalogue stars projected into the frame, how far the WCS moved the
    /// reference pixel on the sky (arcsec) and the rotation it applied (degrees), and the
    /// fit's RMS in arcsec.
    public var referenceStars: Int?
    public var pointingCorrection: Double?
    public var rollCorrection: Double?
    public var rmsArcsec: Double?
    public var transform: RegistrationReport
}

/// The catalogue format `align detect` writes.
public enum CatalogueFormat: String, Sendable, CaseIterable {
    /// SExtractor ASCII_HEAD text.
    case ascii
    /// SExtractor FITS_LDAC (binary tables LDAC_IMHEAD and LDAC_OBJECTS).
    case ldac

    /// By the name: FITS_LDAC for `.ldac`, `.fits`, `.fit`, `.fts` (also compressed, `.fits.gz`:
    /// the extension under the compression's decides); ASCII_HEAD otherwise.
    public init(path: String) {
        let url = URL(fileURLWithPath: path)
        let inner = Self.compressed(path) ? url.deletingPathExtension() : url
        self = ["ldac", "fits", "fit", "fts"].contains(inner.pathExtension.lowercased()) ? .ldac : .ascii
    }

    /// Whether the name asks for compression (cfitsio compresses FITS tables so named; text is
    /// written as it is).
    static func compressed(_ path: String) -> Bool {
        ["gz", "z", "bz2", "fz"].contains(URL(fileURLWithPath: path).pathExtension.lowercased())
    }
}

/// `astrotool align detect`'s summary.
public struct DetectReport: Sendable, Encodable {
    public var image: String
    public var catalogue: String
    public var format: String
    public var regions: String?
    public var detections: Int
    public var background: Double
    public var rms: Double
}

/// The file-level runs: detect to a catalogue; register a source onto a template and write it
/// warped onto the template grid or with its WCS corrected.
public enum Align {
    /// Detects the sources of an image and writes them as a SExtractor catalogue, ASCII_HEAD or
    /// FITS_LDAC (`format`, by default from the catalogue's name), and DS9 regions, atomically.
    public static func detect(image path: String, catalogue: String, format: CatalogueFormat? = nil, regions: String?,
                              options: DetectionOptions, overwrite: Bool) throws -> DetectReport {
        let format = format ?? CatalogueFormat(path: catalogue)
        if format == .ascii && CatalogueFormat.compressed(catalogue) {
            throw AstroError(.usage, file: catalogue, operation: "writing the catalogue",
                             reason: "ASCII_HEAD catalogues are written uncompressed: drop the compression suffix, or write FITS_LDAC (.fits.gz)")
        }
        let output = try AtomicOutput(catalogue, overwrite: overwrite)
        let regionOutput = try regions.map { try AtomicOutput($0, overwrite: overwrite) }
        let image = try FITS.readImage(path)
        let (found, bg) = try AstroError.naming(path) { try Detector.detectWithBackground(image, options: options) }
        let sorted = found.sorted { $0.flux > $1.flux }
        switch format {
        case .ascii:
            try output.write { tmp in try writeText(Catalogue.text(sorted), to: tmp, path: output.path) }
        case .ldac:
            try FITSWriter.writeTables(Catalogue.ldacTables(sorted, header: image.header, width: image.width, height: image.height), to: output)
        }
        if let regionOutput {
            try regionOutput.write { tmp in try writeText(Catalogue.regions(sorted), to: tmp, path: regionOutput.path) }
        }
        return DetectReport(image: path, catalogue: catalogue, format: format.rawValue, regions: regions, detections: sorted.count,
                            background: Double(bg.globalLevel), rms: Double(bg.globalRMS))
    }

    /// Registers `source` onto `template` and writes `output`: the source resampled onto the
    /// template grid with the template's WCS and a MASK extension, or (`updateWCS`) the source
    /// file with its science header's WCS tied to the template's. Everything is read and fitted
    /// before anything is written; a failure leaves no output.
    /// - Throws: ``AstroError``: `.badData` naming the file for an image without finite pixels,
    ///   too few usable stars, no consistent transform, an RMS above `maxRMS`, a catalogue
    ///   without the needed columns, `updateWCS` without a template WCS; `.cannotCreate` for
    ///   an existing output without `overwrite`.
    public static func run(source: String, template: AlignTemplate, sourceCatalogue: String?, output: String,
                           options o: AlignOptions, overwrite: Bool) throws -> AlignReport {
        if case .reference(let catalogue) = template {
            return try fitToReference(source: source, catalogue: catalogue, sourceCatalogue: sourceCatalogue, output: output,
                                      options: o, overwrite: overwrite)
        }
        let transformOut = try reserveOutputs(output, o, overwrite: overwrite)
        let detection = o.detection
        // The source read, and its detections (with its background map) or its catalogue's.
        let readAndDetectSource: @Sendable () throws
            -> (read: (image: Image, hduIndex: Int, base: String), detections: [Detection], background: BackgroundMap?) = {
            let read = try readSource(source, userMask: o.sourceMask)
            if let sourceCatalogue { return (read, try Catalogue.read(sourceCatalogue, columns: o.columns), nil) }
            let r = try AstroError.naming(source) { try Detector.detectWithBackground(read.image, options: detection) }
            return (read, r.detections, r.background)
        }
        var templateWCS: WCS?
        var templateGrid: (width: Int, height: Int)?
        var templateFrame: PixelFrame?
        let sourceRead: (image: Image, hduIndex: Int, base: String)
        let sourceDetections: [Detection], templateDetections: [Detection], background: BackgroundMap?
        switch template {
        case .image(let path):
            // Both images are read and searched at once: each has serial stretches (reading,
            // components, meshes) that would leave a core idle.
            let (s, t) = try Parallel.both(readAndDetectSource) {
                let timage = try FITS.readImage(path)
                guard timage.pixels.contains(where: { $0.isFinite }) else {
                    throw AstroError(.badData, file: path, operation: "reading image", reason: "no finite pixel (all NaN or infinite)")
                }
                return (detections: try AstroError.naming(path) { try Detector.detect(timage, options: detection) },
                        width: timage.width, height: timage.height)
            }
            (sourceRead, sourceDetections, background, templateDetections) = (s.read, s.detections, s.background, t.detections)
            templateWCS = try? WCS.read(path: path)
            templateGrid = (o.outputWidth ?? t.width, o.outputHeight ?? t.height)
            templateFrame = (t.width, t.height)
        case .catalogue(let path):
            (sourceRead, sourceDetections, background) = try readAndDetectSource()
            templateDetections = try Catalogue.read(path, columns: o.columns)
        case .reference:
            preconditionFailure("handled by fitToReference")
        }
        let image = sourceRead.image
        let (hduIndex, base) = (sourceRead.hduIndex, sourceRead.base)
        var grid = templateGrid ?? (width: o.outputWidth ?? image.width, height: o.outputHeight ?? image.height)
        let sourceFrame: PixelFrame = (image.width, image.height)
        for (name, list, frame, side) in [(sourceCatalogue ?? source, sourceDetections, sourceFrame, "source"),
                                          (template.path, templateDetections, templateFrame, "template")] {
            let usable = Registrar.select(list, o.registration).count
            guard usable >= 3 else {
                throw AstroError(.badData, file: name, operation: "registering",
                                 reason: "too few stars: \(usable) usable of \(list.count) detected (need at least 3)")
            }
            try Registrar.checkQuads(list, frame: frame, side: side, file: name, options: o.registration)
        }
        let reg = try AstroError.naming(source) {
            try Registrar.register(source: sourceDetections, template: templateDetections, options: o.registration,
                                   sourceFrame: sourceFrame, templateFrame: templateFrame)
        }
        if let limit = o.maxRMS, !(reg.report.rms <= limit) {
            throw AstroError(.badData, file: source, operation: "registering",
                             reason: String(format: "transform RMS %.4f px exceeds --max-rms %g", reg.report.rms, limit))
        }

        var header = image.header
        let r = reg.report
        var report = AlignReport(source: source, template: template.path, output: output, mode: o.updateWCS ? "update-wcs" : "warp",
                                 width: image.width, height: image.height, transform: r)
        func provenance(_ h: inout Header) { Align.provenance(&h, r, source: base, template: template.path) }

        if o.updateWCS {
            guard let templateWCS else {
                throw AstroError(.badData, file: template.path, operation: "updating the WCS",
                                 reason: "--update-wcs needs a template image with a celestial WCS")
            }
            header = try AstroError.naming(template.path) {
                try AlignWCS.tied(header, template: templateWCS, registration: reg)
            }
            provenance(&header)
            header.addHistory("align: WCS tied to the template's; pixels unchanged")
            try write(try HDUCopy.hdus(of: base, headers: [hduIndex: header]), to: output, report: report, transform: transformOut,
                      overwrite: overwrite)
            return report
        }
        // The background replaces non-finite source pixels; without any, no plane is needed.
        let fillPlane = !image.pixels.contains(where: { !$0.isFinite }) ? []
            : (background ?? BackgroundMap(pixels: image.pixels, width: image.width, height: image.height,
                                           meshSize: o.detection.meshSize, filterSize: o.detection.meshFilter))?.planes().level
            ?? [Float](repeating: 0, count: image.count)
        let footprint = o.preserveFootprints ? FootprintGrid(grid: grid, source: sourceFrame, registration: reg) : nil
        let offset = (x: footprint?.offsetX ?? 0, y: footprint?.offsetY ?? 0)
        if let footprint { grid = (footprint.width, footprint.height) }
        let pull = footprint?.pull(reg.pullMap) ?? reg.pullMap
        header = templateWCS.map { AlignWCS.onTemplateGrid(header, template: $0, offset: offset) } ?? AlignWCS.withoutWCS(header)
        provenance(&header)
        if footprint != nil {
            report.templateOffset = [offset.x, offset.y]
            header.addHistory("align: grid grown to the source's footprint; template pixel (\(offset.x), \(offset.y)) at (0, 0)")
        }
        header.addHistory("align: resampled with \(o.interpolation.rawValue)\(o.conserveFlux ? ", flux conserved" : "")")
        var maskHeader = Header()
        maskHeader.addComment("align: 32 no_data (outside the source), 64 non_finite (source hole), source MASK bits")
        report.width = grid.width
        report.height = grid.height
        let warp = { (bandRows: Int, sink: (Range<Int>, [Float], [UInt8]) throws -> Void) throws -> (noData: Int, holes: Int) in
            try Warp.warp(image, fillPlane: fillPlane, pull: pull, width: grid.width, height: grid.height,
                          interpolation: o.interpolation, fill: o.fill, conserveFlux: o.conserveFlux, bandRows: bandRows, sink)
        }
        func planes(_ rows: Int, _ pixels: [Float], _ mask: [UInt8]) -> [OutputHDU] {
            [OutputHDU(Image(width: grid.width, height: rows, pixels: pixels, header: header)),
             OutputHDU(integers: mask.map(Int32.init), width: grid.width, height: rows, header: maskHeader, extname: "MASK", storage: .uint8)]
        }
        guard FITSWriter.writesDirectly(output) else {
            // A compressed output is written at once.
            var hdus: [OutputHDU] = []
            (report.noDataPixels, report.holePixels) = try warp(grid.height) { rows, pixels, mask in hdus = planes(rows.count, pixels, mask) }
            try write(hdus, to: output, report: report, transform: transformOut, overwrite: overwrite)
            return report
        }
        // Bands of 256 rows go to disk behind the warp: the writing overlaps the next band's
        // work, and the whole image is never held twice.
        let stream = try FITSStreamWriter(to: output, overwrite: overwrite, plans: [
            .init(width: grid.width, height: grid.height, pixelType: .float32, header: header),
            .init(width: grid.width, height: grid.height, pixelType: .uint8, extname: "MASK", header: maskHeader)],
            spareCards: 0)  // (the headers are final)
        (report.noDataPixels, report.holePixels) = try warp(256) { rows, pixels, mask in
            for (k, hdu) in planes(rows.count, pixels, mask).enumerated() { stream.writeBehind(rows: rows.lowerBound, of: k, hdu) }
        }
        try stream.finish(headers: [header, maskHeader])
        if let transformOut { try writeTransform(try json(report), to: transformOut) }
        return report
    }

    /// Refuses existing outputs (the image, and `--transform`'s file) before any work.
    static func reserveOutputs(_ output: String, _ o: AlignOptions, overwrite: Bool) throws -> AtomicOutput? {
        _ = try AtomicOutput(output, overwrite: overwrite)
        return try o.transformFile.map { try AtomicOutput($0, overwrite: overwrite) }
    }

    /// The source's image (the first image HDU unless named) with its mask, its HDU index and
    /// file; refused when no pixel is finite. The mask is read first so that detection skips it.
    static func readSource(_ source: String, userMask: String?) throws -> (image: Image, hduIndex: Int, base: String) {
        let file = try FITSFile(source, image: true)
        var image = try file.readImage()
        guard image.pixels.contains(where: { $0.isFinite }) else {
            throw AstroError(.badData, file: source, operation: "reading image", reason: "no finite pixel (all NaN or infinite)")
        }
        let base = FITS.basePath(source)
        image.mask = try sourceMask(base, like: image, user: userMask, name: source)
        return (image, file.hduIndex, base)
    }

    /// Writes the output, then the transform's JSON when asked for.
    static func write(_ hdus: [OutputHDU], to output: String, report: AlignReport, transform: AtomicOutput?, overwrite: Bool) throws {
        let transformJSON = try transform.map { _ in try json(report) }
        try FITSWriter.write(hdus, to: output, overwrite: overwrite)
        if let transform, let transformJSON { try writeTransform(transformJSON, to: transform) }
    }

    /// `--transform`'s file: the report as JSON.
    static func writeTransform(_ text: String, to transform: AtomicOutput) throws {
        try transform.write { tmp in try writeText(text, to: tmp, path: transform.path) }
    }

    /// ALIGNMOD, ALIGNNST, ALIGNRMS and HISTORY lines naming the files, the fit and the map.
    static func provenance(_ h: inout Header, _ r: RegistrationReport, source base: String, template: String) {
        h.set("ALIGNMOD", r.model, comment: "align: transform model")
        h.set("ALIGNNST", r.used, comment: "align: matched stars used in the fit")
        h.set("ALIGNRMS", r.rms, comment: "[pixel] align: RMS of the fit residuals")
        h.addHistory("astrotool align: \(URL(fileURLWithPath: base).lastPathComponent) onto \(URL(fileURLWithPath: template).lastPathComponent)")
        h.addHistory("align: \(r.model) fit, \(r.used) of \(r.matches) matches, "
                     + String(format: "rms %.4f px, robust %.4f px", r.rms, r.robustRMS))
        let p = r.push
        if let k = r.polyOrder {
            h.addHistory(String(format: "align: polynomial of order %d, at most %.4f px from its affine part:", k, r.polyMaxDeviation ?? .nan))
        }
        if let k = r.splineOrder {
            h.addHistory(String(format: "align: spline of degree %d, %d interior knots, at most %.4f px off linear:", k, r.splineKnots ?? 0, r.splineMaxDeviation ?? .nan))
        }
        h.addHistory(String(format: "align: source->template x' = %.10g x + %.10g y + %.10g", p.a, p.b, p.c))
        h.addHistory(String(format: "align: source->template y' = %.10g x + %.10g y + %.10g", p.d, p.e, p.f))
    }

    /// The source's MASK (bits kept) or DQ (any bit → 1, bad) plane of the same EXTVER, if the
    /// file has one of the image's shape, ORed with `--source-mask` (values 1…255 are MASK
    /// bits, any other non-zero value is 1, bad).
    private static func sourceMask(_ base: String, like image: Image, user: String?, name: String) throws -> [UInt8]? {
        let extver = image.header.int("EXTVER") ?? 1
        let own = try ownMask(base, like: image, extver: extver)
        guard let user else { return own }
        let values = try FITS.readUserMask(user, extver: extver, width: image.width, height: image.height, image: name)
        return values.enumerated().map { k, v in
            let bits = v == 0 ? 0 : v >= 1 && v <= 255 && v == v.rounded() ? UInt8(v) : MaskBits.bad.rawValue
            return bits | (own?[k] ?? 0)
        }
    }

    private static func ownMask(_ base: String, like image: Image, extver: Int) throws -> [UInt8]? {
        let planes = try FITS.listHDUs(base).filter {
            $0.kind == .image && ["MASK", "DQ"].contains(($0.extname ?? "").uppercased()) && ($0.header.int("EXTVER") ?? 1) == extver
                && $0.shape == [image.width, image.height]
        }
        guard let plane = planes.first else { return nil }
        let values = try FITSFile("\(base)[\(plane.index)]").readImageDouble().pixels
        let isMask = (plane.extname ?? "").uppercased() == "MASK"
        return values.map { v in
            guard v.isFinite else { return 1 }
            return isMask ? UInt8(clamping: Int64(v)) : (v != 0 ? 1 : 0)
        }
    }

    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
    }

    static func writeText(_ text: String, to tmp: String, path: String) throws {
        guard FileManager.default.createFile(atPath: tmp, contents: Data(text.utf8)) else {
            throw AstroError(.io, file: path, operation: "writing", reason: "cannot write the file")
        }
    }
}
