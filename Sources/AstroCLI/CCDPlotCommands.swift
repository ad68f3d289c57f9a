import ArgumentParser
import AstroCCD
import AstroDisplay
import AstroFITS
import AstroImage
import Foundation

/// `astrotool ccdproc histogram`: a pixel histogram as PNG (astropysics' plotHist).
struct CCDHistogramCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "histogram",
        abstract: "Plot a frame's pixel histogram as PNG: linear or log counts, percentile marks, a Gaussian overlay.",
        discussion: """
        Finite pixels outside MASK (unless --no-mask) inside --range and --section are binned; the \
        Gaussian has the binned values' mean, sigma and number. --json prints the bins.
        Example: astrotool ccdproc histogram master_bias.fits -o bias_hist.png --log --percentiles 1,99 --gaussian
        """
    )
    @Argument(help: "The frame (the first chip unless an HDU is named).") var input: String
    @Option(name: .shortAndLong, help: "Output PNG.") var output: String
    @Option(help: "Number of bins.") var bins = 100
    @Option(help: ArgumentHelp("Value range binned (default: min,max).", valueName: "LO,HI")) var range: String?
    @Flag(help: "Logarithmic counts.") var log = false
    @Option(help: ArgumentHelp("Percentiles to mark, e.g. 1,99.", valueName: "P,...")) var percentiles: String?
    @Flag(help: "Overlay the Gaussian of the data's mean and sigma.") var gaussian = false
    @Option(help: ArgumentHelp("Region binned (FITS section).", valueName: "[x1:x2,y1:y2]")) var section: String?
    @Flag(help: "Bin MASK pixels too.") var noMask = false
    @Option(help: "Plot width in pixels.") var width = 800
    @Option(help: "Plot height in pixels.") var height = 500
    @Option(help: "Title (default: the file name).") var title: String?
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard bins >= 1 else { throw ValidationError("--bins must be at least 1") }
        guard width >= 200, height >= 150 else { throw ValidationError("--width and --height must be at least 200 and 150") }
    }

    func run() throws {
        common.apply()
        var image = try CCDFile.read(input).chips[0].image
        if let section { image = image.cropped(to: try Section.parseFITS(section, width: image.width, height: image.height)) }
        var o = HistogramOptions()
        o.bins = bins; o.logCounts = log; o.gaussian = gaussian; o.width = width; o.height = height
        o.title = title ?? URL(fileURLWithPath: FITS.basePath(input)).lastPathComponent
        if let range {
            let p = range.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard p.count == 2, p[0] < p[1] else { throw AstroError(.usage, operation: "parsing --range", reason: "'\(range)' is not LO,HI with LO < HI") }
            o.range = p[0]...p[1]
        }
        if let percentiles {
            o.percentiles = try percentiles.split(separator: ",").map {
                guard let v = Double($0.trimmingCharacters(in: .whitespaces)), v >= 0, v <= 100 else {
                    throw AstroError(.usage, operation: "parsing --percentiles", reason: "'\($0)' is not a percentile 0-100")
                }
                return v
            }
        }
        let h = Histogram.of(image.pixels, mask: noMask ? nil : image.mask, options: o)
        try HistogramPlot.draw(h, options: o).write(to: output, overwrite: common.overwrite)
        if common.json { try printJSON(h) } else {
            common.note("astrotool ccdproc histogram: \(input) -> \(output) [\(h.n) values, \(bins) bins]")
        }
    }
}

/// `astrotool ccdproc mosaic`: cutouts around positions from several frames (astropysics' mosaic_objects).
struct CCDMosaicCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mosaic",
        abstract: "A titled PNG grid of cutouts: one row per frame, one column per position.",
        discussion: """
        Positions are FITS pixel coordinates (1-based), from --at (repeatable) or --positions FILE (one \
        'x y' per line). Each cutout is displayed on its own with --interval and --stretch (as preview) \
        and magnified by --zoom; pixels outside a frame are blank.
        Example: astrotool ccdproc mosaic clean/sci_*.fits -o stars.png --at 512,400 --at 130,88 --size 48 --zoom 3
        """
    )
    @Argument(help: "Frames (FITS; @list files accepted).") var inputs: [String]
    @Option(name: .shortAndLong, help: "Output PNG.") var output: String
    @Option(help: ArgumentHelp("A position, FITS pixels (repeatable).", valueName: "X,Y")) var at: [String] = []
    @Option(help: ArgumentHelp("A file of positions, 'x y' per line.", valueName: "FILE")) var positions: String?
    @Option(help: "Cutout side in image pixels.") var size = 64
    @Option(help: "Screen pixels per image pixel.") var zoom = 2
    @Option(help: "Display stretch (as preview).") var stretch = "asinh"
    @Option(help: "Display interval (as preview).") var interval = "zscale"
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard size >= 4, size <= 1024 else { throw ValidationError("--size must be 4 to 1024") }
        guard zoom >= 1, zoom <= 16 else { throw ValidationError("--zoom must be 1 to 16") }
        if at.isEmpty && positions == nil { throw ValidationError("give --at X,Y or --positions FILE") }
    }

    func run() throws {
        common.apply()
        var points: [(Double, Double)] = []
        var lines = at
        if let positions {
            guard let text = try? String(contentsOfFile: positions, encoding: .utf8) else {
                throw AstroError(.noInput, file: positions, operation: "reading positions", reason: "cannot read the file")
            }
            lines += text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.hasPrefix("#") && !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        }
        for l in lines {
            let p = l.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }).compactMap { Double($0) }
            guard p.count >= 2 else { throw AstroError(.usage, operation: "reading positions", reason: "'\(l)' is not X,Y") }
            points.append((p[0], p[1]))
        }
        var preview = PreviewOptions()
        preview.stretch = try Stretch.parse(stretch, zeropoint: nil, pixelArea: nil)
        preview.interval = try Interval.parse(interval)
        let files = try expandListArguments(inputs)
        var cells: [MosaicCell] = []
        for f in files {
            let image = try CCDFile.read(f).chips[0].image
            let name = URL(fileURLWithPath: FITS.basePath(f)).lastPathComponent
            for (x, y) in points {
                cells.append(MosaicCell(image: image, x: x - 1, y: y - 1, title: "\(name) \(Int(x)),\(Int(y))"))
            }
        }
        let canvas = try CutoutMosaic.draw(cells, columns: points.count, size: size, zoom: zoom, preview: preview)
        try canvas.write(to: output, overwrite: common.overwrite)
        common.note("astrotool ccdproc mosaic: \(files.count) frames x \(points.count) positions -> \(output) (\(canvas.width)x\(canvas.height))")
    }
}
