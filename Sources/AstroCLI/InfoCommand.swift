import ArgumentParser
import AstroFITS
import AstroImage
import AstroWCS

/// `astrotool info`: what is in a FITS file, HDU by HDU.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Describe FITS files: HDUs, shapes, key cards, WCS and pixel statistics.",
        discussion: """
        Each FILE may use cfitsio extended syntax (f.fits[SCI], f.fits[2], f.fits[SCI,2]) to \
        describe one HDU only, or be an @list file naming one input per line. Statistics skip \
        NaN pixels; std is the population value (ddof 0, as numpy); the clipped figures are \
        astropy sigma_clipped_stats(sigma=3, maxiters=5, cenfunc=median).
        """
    )

    @Argument(help: "FITS files (or @list files).")
    var files: [String]

    @Flag(help: "Print every header card of each HDU.")
    var header = false

    @Flag(name: .customLong("no-stats"), help: "Skip pixel statistics (headers only; fast).")
    var noStats = false

    @Option(help: ArgumentHelp("Keep only files whose header matches KEY=VALUE (repeatable; all must match).",
                               discussion: "Values compare case-insensitively, ignoring surrounding blanks; * in VALUE matches any text.",
                               valueName: "KEY=VALUE"))
    var `where`: [String] = []

    @Flag(help: "Print only the names of the files that match --where, one per line (for make and shell scripts).")
    var names = false

    @Option(help: ArgumentHelp("With --names: print LABEL:FILE for each file whose header matches every KEY=VALUE (repeatable: one call sorts a night's frames into bias, dark, flat, ...).",
                               discussion: "The conditions compare as --where's; a file is printed once per label it matches.",
                               valueName: "LABEL:KEY=VALUE[,KEY=VALUE...]"))
    var label: [String] = []

    @OptionGroup var region: SectionOptions

    @OptionGroup var common: CommonOptions

    func validate() throws {
        for w in `where` where !w.contains("=") || w.hasPrefix("=") {
            throw ValidationError("--where takes KEY=VALUE, not '\(w)'")
        }
        if !label.isEmpty && !names { throw ValidationError("--label goes with --names") }
        for l in label where Self.labelled(l) == nil {
            throw ValidationError("--label takes LABEL:KEY=VALUE[,KEY=VALUE...], not '\(l)'")
        }
    }

    /// "LABEL:KEY=VALUE,KEY=VALUE" → the label and its conditions, or nil when malformed.
    static func labelled(_ text: String) -> (label: String, conditions: [String])? {
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let name = String(text[..<colon]), conditions = text[text.index(after: colon)...].split(separator: ",").map(String.init)
        guard !name.isEmpty, !name.contains(" "), !conditions.isEmpty,
              conditions.allSatisfy({ $0.contains("=") && !$0.hasPrefix("=") }) else { return nil }
        return (name, conditions)
    }

    func run() throws {
        common.apply()
        let filter = try HeaderFilter(`where`)
        let labels = try label.map { text in
            let (name, conditions) = Self.labelled(text)!
            return (name, try HeaderFilter(conditions))
        }
        var reports: [FileReport] = []
        for path in try expandListArguments(files) {
            let cards = filter.isEmpty && labels.isEmpty ? [] : try FITS.listHDUs(path).map(\.header)
            if !filter.isEmpty {
                guard filter.matches(cards) else { continue }
            }
            if names {
                if labels.isEmpty { Console.out(path) }
                for (name, conditions) in labels where conditions.matches(cards) { Console.out("\(name):\(path)") }
                continue
            }
            var hdus: [HDUReport] = []
            var headers: [Header] = []
            try FITS.forEachHDU(path) { file, info in
                hdus.append(try HDUReport(info, file: file, withStats: !noStats, region: region, common: common))
                headers.append(info.header)
            }
            let report = FileReport(path: path, hdus: hdus)
            if !common.json { printText(report, headers: header ? headers : nil) }
            reports.append(report)
        }
        if common.json && !names { try printJSON(InfoReport(files: reports)) }
    }

    private func printText(_ report: FileReport, headers: [Header]?) {
        Console.out(report.path)
        for (i, hdu) in report.hdus.enumerated() {
            var line = "  HDU \(hdu.index)"
            if let name = hdu.extname { line += " '\(name)'" }
            line += hdu.naxis.isEmpty ? "  (no data)" : "  \(hdu.naxis.map(String.init).joined(separator: "x"))"
            if hdu.kind == "image" { line += "  BITPIX \(hdu.bitpix)" } else { line += "  \(hdu.kind)" }
            if hdu.compressed { line += "  tile-compressed" }
            Console.out(line)
            if !hdu.keywords.isEmpty {
                Console.out("    " + hdu.keywords.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                    .joined(separator: "  "))
            }
            if let w = hdu.wcs {
                Console.out("    WCS \(w.ctype.joined(separator: " "))  centre \(fmt(w.center[0], 6)) \(fmt(w.center[1], 6))"
                    + "  scale \(fmt(w.pixel_scale, 4))\"/px" + (w.lookup.map { "  distortion: \($0)" } ?? (w.distortion ? "  distortion" : "")))
            }
            if let e = hdu.wcs_error { Console.out("    WCS not usable: \(e)") }
            if let s = hdu.stats {
                if let section = s.section { Console.out("    statistics of section \(section)") }
                Console.out("    mean \(fmt(s.mean)) median \(fmt(s.median)) std \(fmt(s.std)) min \(fmt(s.min))"
                    + " max \(fmt(s.max)) nan \(s.nan_count)")
                Console.out("    3σ-clipped: mean \(fmt(s.clipped.mean)) median \(fmt(s.clipped.median))"
                    + " std \(fmt(s.clipped.std)) n \(s.clipped.count)")
            }
            if let headers {
                for card in headers[i].cardImages { Console.out("    " + card.trimmingTrailingSpaces) }
            }
        }
    }
}

private func fmt(_ v: Double, _ digits: Int = 6) -> String {
    v.isFinite ? String(format: "%.\(digits)g", v) : "\(v)"
}

private extension String {
    var trimmingTrailingSpaces: String {
        var s = Substring(self)
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}

// MARK: JSON report (scripts rely on these keys)

struct InfoReport: Encodable { var files: [FileReport] }

struct FileReport: Encodable {
    var path: String
    var hdus: [HDUReport]
}

struct HDUReport: Encodable {
    var index: Int
    var extname: String?
    var kind: String
    var compressed: Bool
    var naxis: [Int]
    var bitpix: Int
    var keywords: [String: String]
    var wcs: WCSReport?
    /// Why a header with CTYPE cards gave no usable WCS (e.g. lookup-table distortion whose
    /// tables are not in this HDU).
    var wcs_error: String?
    var stats: StatsReport?

    static let keyCards = ["OBJECT", "EXPTIME", "IMAGETYP", "FILTER", "GAIN", "RDNOISE", "BIASSEC", "TRIMSEC"]

    /// `fits` is positioned on this HDU.
    init(_ hdu: HDUInfo, file fits: FITSFile, withStats: Bool, region: SectionOptions, common: CommonOptions) throws {
        let file = fits.name
        index = hdu.index
        extname = hdu.extname
        kind = hdu.kind.rawValue
        compressed = hdu.isCompressed
        naxis = hdu.shape
        bitpix = hdu.bitpix
        keywords = [:]
        for key in Self.keyCards {
            if let v = hdu.header[key] { keywords[key] = v.description }
        }
        let label = hdu.extname.map { "HDU \(hdu.index) '\($0)'" } ?? "HDU \(hdu.index)"
        let hasImage = hdu.kind == .image && hdu.shape.count >= 2 && hdu.shape.allSatisfy { $0 > 0 }
        if hasImage, hdu.header.contains("CTYPE1") {
            do {
                let base = FITS.basePath(file)
                let w = try WCS(header: hdu.header, file: file, hdu: label) { name, ver in
                    try FITS.readImage("\(base)[\(name),\(ver)]")
                }
                wcs = WCSReport(w, width: hdu.shape[0], height: hdu.shape[1])
            } catch let error as AstroError {
                wcs_error = error.reason
            }
        }
        if withStats, hasImage {
            let clock = ContinuousClock()
            let start = clock.now
            var image = try fits.readImage()
            if let r = try region.region(width: image.width, height: image.height, file: file, hdu: label) {
                image = image.cropped(to: r)
            }
            let read = clock.now
            stats = StatsReport(image, section: region.section)
            common.detail("info: \(file)[\(label)]: read \(read - start), statistics \(clock.now - read)")
        }
    }
}

struct WCSReport: Encodable {
    var ctype: [String]
    var center: [Double]
    var pixel_scale: Double
    var distortion: Bool
    /// The lookup-table chain astrotool applies itself (SIP order, CPDIS/D2IM tables), if any.
    var lookup: String?

    init(_ w: WCS, width: Int, height: Int) {
        ctype = w.ctype
        let cx = Double(width - 1) / 2, cy = Double(height - 1) / 2
        let c = w.pixelToWorld(x: cx, y: cy)
        center = [c?.ra ?? .nan, c?.dec ?? .nan]
        pixel_scale = w.pixelScale(x: cx, y: cy)
        distortion = w.hasDistortion
        lookup = w.lookupDistortion
    }
}

struct StatsReport: Encodable {
    struct Clipped: Encodable { var mean, median, std: Double; var count: Int }
    var mean, median, std, min, max: Double
    var count: Int
    var nan_count: Int
    var clipped: Clipped
    /// The `--section` the figures describe, as given; absent for the whole image.
    var section: String?

    init(_ image: Image, section: String? = nil) {
        self.section = section
        let (b, median, c) = image.pixels.withUnsafeBufferPointer { Statistics.summary($0, sigma: 3, maxIters: 5) }
        mean = b.mean; std = b.std; min = b.min; max = b.max
        count = b.count; nan_count = b.nanCount
        self.median = median
        clipped = Clipped(mean: c.mean, median: c.median, std: c.std, count: c.count)
    }
}
