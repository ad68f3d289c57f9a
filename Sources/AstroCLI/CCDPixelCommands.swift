import ArgumentParser
import AstroCCD
import AstroFITS
import AstroImage
import Foundation

/// Inputs and outputs shared by the one-step pixel commands.
struct PixelFiles: ParsableArguments {
    @Argument(help: "Frames (FITS; @list files accepted).")
    var inputs: [String]
    @Option(name: .shortAndLong, help: "Output file (one input only).")
    var output: String?
    @Option(help: "Output folder; each product keeps its input's file name.")
    var outdir: String?
    @Option(help: ArgumentHelp("Storage of the data and ERR: -32 or -64.", valueName: "-32|-64"))
    var bitpix = "-32"

    func validate() throws {
        if output != nil && outdir != nil { throw ValidationError("give -o or --outdir, not both") }
        if output == nil && outdir == nil { throw ValidationError("give -o OUT or --outdir DIR") }
        guard ["-32", "-64"].contains(bitpix) else { throw ValidationError("--bitpix takes -32 or -64") }
    }

    /// Applies `body` to every chip of every input and writes the results; `body` returns a
    /// few words for the summary line.
    func each(_ common: CommonOptions, verb: String, goodBits: GoodBits = .none,
              _ body: (inout Image, String) throws -> String) throws {
        let files = try expandListArguments(inputs)
        guard !files.isEmpty else { throw AstroError(.noInput, operation: "selecting inputs", reason: "no input files") }
        let outputs = try OutputPlan.outputs(for: files, output: output, outdir: outdir)
        try OutputPlan.checkDistinct(inputs: files, outputs: outputs)
        var rows: [Row] = []
        for (i, (input, out)) in zip(files, outputs).enumerated() {
            common.progress("\(verb) \(i + 1)/\(files.count) \(input)")
            var frame = try CCDFile.read(input, goodBits: goodBits)
            var notes: [String] = []
            for c in frame.chips.indices {
                let note = try body(&frame.chips[c].image, input)
                frame.chips[c].image.header.addHistory("astrotool ccdproc \(verb): \(note)")
                notes.append(note)
            }
            try frame.write(to: out, overwrite: common.overwrite, bitpix: bitpix == "-64" ? .float64 : .float32)
            rows.append(Row(input: input, output: out, chips: notes))
            if !common.json { common.note("astrotool ccdproc \(verb): \(input) -> \(out) [\(notes.joined(separator: "; "))]") }
        }
        Console.endProgress()
        if common.json { try printJSON(rows) }
    }

    struct Row: Encodable { var input, output: String; var chips: [String] }

    /// Runs one-step `process` options on every input (deviation, gain).
    func process(_ options: ProcessOptions, _ common: CommonOptions, verb: String) throws {
        let list = try expandListArguments(inputs)
        let outputs = try OutputPlan.outputs(for: list, output: output, outdir: outdir)
        try OutputPlan.checkDistinct(inputs: list, outputs: outputs)
        try CCDProcessCommand.runFiles(list, outputs: outputs, options: options, common: common, bitpix: bitpix, verb: verb)
    }
}

/// `astrotool ccdproc deviation`: ccdproc's create_deviation alone.
struct CCDDeviationCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deviation",
        abstract: "Attach ERR = sqrt(g*D + R^2)/g in the data's unit (ccdproc's create_deviation); data unchanged.",
        discussion: "Example: astrotool ccdproc deviation trimmed.fits -o with_err.fits --gain GAIN --readnoise RDNOISE"
    )
    @OptionGroup var files: PixelFiles
    @Option(help: ArgumentHelp("Gain in e-/ADU or a header keyword (not needed for electron data).", valueName: "G|KEYWORD"))
    var gain: String?
    @Option(help: ArgumentHelp("Read noise in e- or a header keyword.", valueName: "R|KEYWORD"))
    var readnoise: String
    @Option(help: ArgumentHelp("Where g*D < 0: clamp (sigma = R/g) or nan (ccdproc).", valueName: "clamp|nan"))
    var negative = "clamp"
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard Calibrate.Negative(rawValue: negative) != nil else { throw ValidationError("--negative takes clamp or nan") }
    }

    func run() throws {
        common.apply()
        var o = ProcessOptions()
        o.error = true
        o.gain = gain.map(ProcessOptions.Quantity.parse)
        o.readNoise = .parse(readnoise)
        o.negative = Calibrate.Negative(rawValue: negative)!
        o.gainCorrect = false
        o.software = "astrotool \(AstroTool.version)"
        try files.process(o, common, verb: "deviation")
    }
}

/// `astrotool ccdproc gain`: ccdproc's gain_correct alone.
struct CCDGainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gain",
        abstract: "Multiply ADU data and ERR by the gain; BUNIT becomes electron (ccdproc's gain_correct).",
        discussion: "Example: astrotool ccdproc gain frame.fits -o frame_e.fits --gain GAIN"
    )
    @OptionGroup var files: PixelFiles
    @Option(help: ArgumentHelp("Gain in e-/ADU or a header keyword.", valueName: "G|KEYWORD"))
    var gain: String
    @OptionGroup var common: CommonOptions

    func run() throws {
        common.apply()
        var o = ProcessOptions()
        o.gain = .parse(gain)
        o.software = "astrotool \(AstroTool.version)"
        try files.process(o, common, verb: "gain")
    }
}

/// `astrotool ccdproc median-filter`: scipy's median_filter, NaN- and mask-aware.
struct CCDMedianFilterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "median-filter",
        abstract: "Median-filter frames (scipy.ndimage.median_filter's boundary modes), leaving out NaN and MASK pixels.",
        discussion: """
        --size N or --size NY,NX (lines, columns). Even sizes reach one further back than forward and \
        take the upper middle value, as scipy. ERR is dropped (it no longer describes the data); MASK is kept.
        Example: astrotool ccdproc median-filter frame.fits -o smooth.fits --size 5 --mode nearest
        """
    )
    @OptionGroup var files: PixelFiles
    @Option(help: ArgumentHelp("Window: N or NY,NX.", valueName: "N|NY,NX"))
    var size: String
    @Option(help: "Edges: reflect|mirror|nearest|wrap|constant.")
    var mode = "reflect"
    @Option(help: "Value past the edges for --mode constant.")
    var cval: Float = 0
    @Flag(help: "Let MASK pixels into the medians.")
    var noMask = false
    @Option(help: ArgumentHelp("MASK/DQ bits that count as good.", valueName: "BITS"))
    var goodBits = "none"
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard Boundary.parse(mode) != nil else { throw ValidationError("--mode takes reflect, mirror, nearest, wrap or constant") }
        guard let s = Self.window(size), s.0 >= 1, s.1 >= 1 else { throw ValidationError("--size takes N or NY,NX (positive)") }
    }

    static func window(_ text: String) -> (Int, Int)? {
        let p = text.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        if p.count == 1 { return (p[0], p[0]) }
        return p.count == 2 ? (p[0], p[1]) : nil
    }

    func run() throws {
        common.apply()
        let (sy, sx) = Self.window(size)!
        let boundary = Boundary.parse(mode, cval: cval)!
        try files.each(common, verb: "median-filter", goodBits: try GoodBits.parse(goodBits)) { image, _ in
            image.pixels = MaskedMedianFilter.apply(image, height: sy, width: sx, boundary: boundary, useMask: !noMask)
            image.uncertainty = nil
            return "median \(sy)x\(sx), \(mode)"
        }
    }
}

/// `astrotool ccdproc clip`: astropysics' clipping actions.
struct CCDClipCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clip",
        abstract: "Clip pixels by sigma, range outliers, a threshold or non-finite values; mask or replace them (astropysics).",
        discussion: """
        Exactly one condition: --sigma S (|v - mean| > S sigma of the whole image), --outliers LO,HI (outside \
        LO..HI percent of the region's range; with --values, outside LO..HI), --threshold 'OP T' with OP one of \
        < > <= >=, or --invalid. --action: mask (MASK bit OUTLIER, 16), median|mean (of the region, clipped \
        values included), noclip-median|noclip-mean (of the unclipped ones), full-median|full-mean, or a number.
        Example: astrotool ccdproc clip frame.fits -o clipped.fits --sigma 12 --action noclip-median
        """
    )
    @OptionGroup var files: PixelFiles
    @Option(help: "Clip beyond this many sigma of the whole image.") var sigma: Double?
    @Option(help: ArgumentHelp("Clip outside these percents of the region's range (or values, with --values).", valueName: "LO,HI"))
    var outliers: String?
    @Flag(help: "--outliers gives values, not percents.") var values = false
    @Option(help: ArgumentHelp("Clip where 'OP T' holds, OP one of < > <= >=.", valueName: "OP T"))
    var threshold: String?
    @Flag(help: "Clip NaN and infinite values.") var invalid = false
    @Option(help: "mask|median|mean|noclip-median|noclip-mean|full-median|full-mean|NUMBER.") var action = "mask"
    @Option(help: ArgumentHelp("Region to clip in (FITS section).", valueName: "[x1:x2,y1:y2]")) var section: String?
    @OptionGroup var common: CommonOptions

    func validate() throws {
        let n = [sigma != nil, outliers != nil, threshold != nil, invalid].filter { $0 }.count
        if n != 1 { throw ValidationError("give exactly one of --sigma, --outliers, --threshold, --invalid") }
        if Self.action(action) == nil { throw ValidationError("--action takes mask, median, mean, noclip-median, noclip-mean, full-median, full-mean or a number") }
    }

    static func action(_ text: String) -> ClipOptions.Action? {
        switch text {
        case "mask": return .mask
        case "median": return .median
        case "mean": return .mean
        case "noclip-median": return .noclipMedian
        case "noclip-mean": return .noclipMean
        case "full-median": return .fullMedian
        case "full-mean": return .fullMean
        default: return Double(text).map { .value($0) }
        }
    }

    func condition() throws -> ClipOptions.Condition {
        if let sigma { return .sigma(sigma) }
        if invalid { return .invalid }
        if let outliers {
            let p = outliers.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard p.count == 2, p[0] <= p[1] else { throw AstroError(.usage, operation: "parsing --outliers", reason: "'\(outliers)' is not LO,HI") }
            return .outliers(lo: p[0], hi: p[1], percent: !values)
        }
        let t = threshold!.trimmingCharacters(in: .whitespaces)
        for op in [ClipOptions.Comparison.le, .ge, .lt, .gt] where t.hasPrefix(op.rawValue) {
            if let v = Double(t.dropFirst(op.rawValue.count).trimmingCharacters(in: .whitespaces)) { return .threshold(v, op) }
        }
        throw AstroError(.usage, operation: "parsing --threshold", reason: "'\(t)' is not 'OP T' with OP one of < > <= >=")
    }

    func run() throws {
        common.apply()
        var o = ClipOptions(condition: try condition())
        o.action = Self.action(action)!
        o.section = section
        try files.each(common, verb: "clip") { image, file in
            "\(try Clip.apply(&image, o, file: file)) pixels clipped (\(action))"
        }
    }
}

/// `astrotool ccdproc offset`: astropysics' offsetData.
struct CCDOffsetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "offset",
        abstract: "Subtract a constant: a number, or the minimum (min/minp1 of --section, gmin/gminp1 of the whole image).",
        discussion: """
        min and gmin leave the minimum at 0, minp1 and gminp1 at 1 (astropysics' documented intent, e.g. before \
        a log stretch). ERR and MASK are unchanged.
        Example: astrotool ccdproc offset frame.fits -o shifted.fits --by gminp1
        """
    )
    @OptionGroup var files: PixelFiles
    @Option(help: ArgumentHelp("What to subtract.", valueName: "NUMBER|min|minp1|gmin|gminp1")) var by: String
    @Option(help: ArgumentHelp("Region whose minimum min/minp1 use.", valueName: "[x1:x2,y1:y2]")) var section: String?
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard Double(by) != nil || ["min", "minp1", "gmin", "gminp1"].contains(by) else {
            throw ValidationError("--by takes a number, min, minp1, gmin or gminp1")
        }
    }

    func run() throws {
        common.apply()
        try files.each(common, verb: "offset") { image, file in
            "subtracted \(String(format: "%.6g", try Clip.offset(&image, by, section: section, file: file)))"
        }
    }
}
