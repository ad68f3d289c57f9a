import ArgumentParser
import AstroImage
import AstroSky

/// `astrotool skymatch`: sky levels that make overlapping images agree (docs/skymatch.md).
struct SkymatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "skymatch",
        abstract: "Match the sky levels of overlapping images (stcal/skypac skymatch).",
        discussion: """
        Every SCI extension (else the first image) of each input is a chip; the chips of one file form one \
        group with one sky. Overlaps are the pixels of each chip whose centres fall, through both WCSs, \
        inside another group's chip; MASK/DQ (after --good-bits), --mask and NaN pixels are left out. \
        Without --outdir or --in-place only the report is printed and no file is touched.
        Example: astrotool skymatch reg/*.fits --method global+match --outdir sky --subtract
        """
    )

    @Argument(help: "Input files or extensions (FITS with a celestial WCS; @list files accepted).") var inputs: [String]
    @Option(help: "local, global, match, global+match, or user (with --skylist).") var method = "global+match"
    @Option(help: "--method user: a file of 'NAME SKY' lines, one per input (or per chip, NAME[SCI,2]).") var skylist: String?
    @Flag(help: "match: reference each island to its lowest image (default).") var matchDown = false
    @Flag(help: "match: reference each island to its highest image.") var matchUp = false
    @Flag(help: "Subtract the sky from the written data and set SKYSUB = T.") var subtract = false
    @Option(help: "Statistic of each image's own sky (local, global, the global+match baseline): mode, median, mean or midpt. Overlap offsets are the clipped median of pixel differences.") var stat = "mode"
    @Option(parsing: .unconditional, help: "Ignore pixels below this value (default: none).") var lower: Double?
    @Option(parsing: .unconditional, help: "Ignore pixels above this value (default: none).") var upper: Double?
    @Option(help: "Sigma-clipping iterations.") var nclip = 5
    @Option(help: "Lower clipping limit in sigma.") var lsigma = 4.0
    @Option(help: "Upper clipping limit in sigma.") var usigma = 4.0
    @Option(help: "Histogram bin width for mode and midpt, in sigma.") var binwidth = 0.1
    @Option(help: "Group chips by this header keyword (chip header, else primary) instead of by file.") var groupBy: String?
    @Option(help: "A file with one group per line ('[LABEL:] NAME...'); every input (or chip) listed once.") var groups: String?
    @Option(parsing: .upToNextOption, help: "One mask file per input, non-zero = not sky.") var mask: [String] = []
    @Option(help: "MASK/DQ bits that do not make a pixel bad (4, 4+8, names, ~4, none, all).") var goodBits = "none"
    @Option(help: "Largest spacing in pixels between footprint vertices along a chip edge.") var footprintSteps = 64
    @Option(help: "Header keyword that receives each chip's sky.") var keyword = "SKYVALUE"
    @Option(help: "constant (one level per group) or plane (a level and two slopes from the overlaps' pixel differences, as Montage's mBgModel; match and global+match; SKYVALUE is then the level at each chip's centre, SKYSLPX/SKYSLPY the slopes per pixel, subtracted whole with --subtract).") var model = "constant"
    @Flag(help: "Reproduce stcal 1.20 skymatch (jwst SkyMatchStep): imagestats statistics, rasterised overlaps, each side's own statistic, one baseline for all islands, 4-corner footprints.") var compat = false
    @Option(help: "Write copies with the sky keywords into this folder.") var outdir: String?
    @Flag(help: "Write the sky keywords into the inputs themselves (atomically per file).") var inPlace = false
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard let m = SkyMethod(rawValue: method) else { throw ValidationError("--method takes local, global, match, global+match or user") }
        if m == .user && skylist == nil { throw ValidationError("--method user needs --skylist FILE") }
        if m != .user && skylist != nil { throw ValidationError("--skylist goes with --method user") }
        if groups != nil && groupBy != nil { throw ValidationError("give --groups or --group-by, not both") }
        guard let sm = SkyModel(rawValue: model) else { throw ValidationError("--model takes constant or plane") }
        if sm == .plane && !(m == .match || m == .globalMatch) { throw ValidationError("--model plane needs --method match or global+match") }
        if sm == .plane && compat { throw ValidationError("--model plane has no --compat form (the references fit levels only)") }
        guard SkyStatistic(rawValue: stat) != nil else { throw ValidationError("--stat takes mode, median, mean or midpt") }
        if matchDown && matchUp { throw ValidationError("--match-down and --match-up exclude each other") }
        if outdir != nil && inPlace { throw ValidationError("give --outdir or --in-place, not both") }
        if subtract && outdir == nil && !inPlace { throw ValidationError("--subtract needs --outdir or --in-place") }
        if nclip < 0 { throw ValidationError("--nclip must be 0 or more") }
        guard lsigma > 0, usigma > 0, binwidth > 0 else { throw ValidationError("--lsigma, --usigma and --binwidth must be positive") }
        if footprintSteps < 1 { throw ValidationError("--footprint-steps must be at least 1") }
        if keyword.isEmpty || keyword.count > 8 { throw ValidationError("--keyword must be a FITS keyword of 1 to 8 characters") }
    }

    func run() throws {
        common.apply()
        let files = try expandListArguments(inputs)
        var o = SkyMatchOptions()
        o.method = SkyMethod(rawValue: method)!
        o.matchUp = matchUp
        o.subtract = subtract
        o.stats.statistic = SkyStatistic(rawValue: stat)!
        o.stats.lower = lower
        o.stats.upper = upper
        o.stats.nclip = nclip
        o.stats.lsigma = lsigma
        o.stats.usigma = usigma
        o.stats.binwidth = binwidth
        o.groupBy = groupBy
        o.groupsFile = groups
        o.skylist = skylist
        o.masks = try expandListArguments(mask)
        o.goodBits = try GoodBits.parse(goodBits)
        o.footprintStep = footprintSteps
        o.keyword = keyword.uppercased()
        o.compat = compat
        o.model = SkyModel(rawValue: model)!
        let output: SkyMatchOutput = if let outdir {
            .copies(try OutputPlan.outputs(for: files, output: nil, outdir: outdir))
        } else if inPlace { .inPlace } else { .report }
        let report = try SkyMatch.run(files, options: o, output: output, overwrite: common.overwrite)
        if common.json { try printJSON(report) } else { Console.out(report.table) }
    }
}
