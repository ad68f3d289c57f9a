import ArgumentParser
import AstroDrizzle
import AstroImage
import Foundation

/// `astrotool resample plan`: cut a mosaic into tiles for separate jobs.
struct ResamplePlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Plan a mosaic in NX×NY tiles, drizzled one per job (`resample --plan P --tile K`) and joined by `resample combine`.",
        discussion: """
        The plan (JSON) holds the output grid, the tiles (numbered 1…NX·NY row-major from the bottom-left, with the \
        inputs reaching each), the inputs with a fingerprint (file size and a hash of the chip's header) and the \
        drizzle options. --slurm DIR also writes a Slurm job array (tiles.sbatch), the combine job (combine.sbatch) \
        and submit.sh, which submits both and prints their job ids.
        Example: astrotool resample plan sky/sci_*.fits --tiles 4 4 -o plan.json --slurm jobs --slurm-options "--partition=short"
        """
    )

    @Argument(help: "Input frames or extensions (FITS; @list files accepted).") var inputs: [String]
    @Option(name: .shortAndLong, help: "The plan (JSON).") var output: String
    @Option(parsing: .upToNextOption, help: ArgumentHelp("Tiles across and up.", valueName: "NX NY")) var tiles: [Int]
    @Option(help: ArgumentHelp("Also write Slurm scripts into this folder (created if missing).", valueName: "DIR")) var slurm: String?
    @Option(help: ArgumentHelp("The combined mosaic the Slurm combine job writes (default: DIR/mosaic.fits; its folder must exist).", valueName: "PATH")) var mosaic: String?
    @Option(parsing: .unconditional, help: ArgumentHelp("Extra #SBATCH options for both jobs, e.g. \"--partition=short --account=sky\".", valueName: "OPTIONS")) var slurmOptions = ""
    @OptionGroup var drizzle: ResampleOutputOptions
    @OptionGroup var grid: ResampleGridOptions
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard tiles.count == 2, tiles.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--tiles takes NX NY, both at least 1") }
        if slurm == nil && (mosaic != nil || !slurmOptions.isEmpty) { throw ValidationError("--mosaic and --slurm-options need --slurm DIR") }
    }

    struct Report: Encodable {
        var plan: String
        var id: String
        var width: Int, height: Int
        var tiles: [ResamplePlan.Tile]
        var cost: ResamplePlan.Cost
        var scripts: [String]
    }

    func run() throws {
        common.apply()
        let files = try expandListArguments(inputs)
        var o = try grid.options()
        drizzle.apply(to: &o)
        let plan = try Resample.plan(files, options: o, tiles: tiles[0], tiles[1])
        let planPath = absolute(output)
        try OutputPlan.checkDistinct(inputs: files, outputs: [planPath])
        var writes = [(planPath, plan.json, false)]
        var scripts: [String] = []
        if let slurm {
            let dir = absolute(slurm), target = absolute(mosaic ?? dir + "/mosaic.fits")
            // The combine job must be able to write the mosaic: its folder exists (DIR is made here).
            let folder = URL(fileURLWithPath: target).deletingLastPathComponent().path
            if mosaic != nil, !FileManager.default.fileExists(atPath: folder) {
                throw AstroError(.cannotCreate, file: target, operation: "planning the combine job", reason: "folder \(folder) does not exist")
            }
            // The plan's own output checked before DIR is made.
            _ = try AtomicOutput(planPath, overwrite: common.overwrite)
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let jobs = SlurmScripts(plan: plan, planPath: planPath, folder: dir, mosaic: target,
                                    tool: SlurmScripts.executable(), extra: slurmOptions)
            let files = jobs.files()
            for (name, text, executable) in files { writes.append((dir + "/" + name, Data(text.utf8), executable)) }
            scripts = files.map { dir + "/" + $0.name }
        }
        // Every output is checked before any is written.
        let outputs = try writes.map { try AtomicOutput($0.0, overwrite: common.overwrite) }
        for (out, (_, data, executable)) in zip(outputs, writes) {
            try out.write { tmp in
                guard FileManager.default.createFile(atPath: tmp, contents: data, attributes: [.posixPermissions: executable ? 0o755 : 0o644]) else {
                    throw AstroError(.io, file: out.path, operation: "writing", reason: "cannot write the file")
                }
            }
        }
        let used = Set(plan.tiles.flatMap(\.inputs))
        for (k, input) in plan.inputs.enumerated() where !used.contains(k) {
            common.warn("\(input.path)[\(input.hdu)]: planning: it reaches no tile of the \(plan.grid.width)x\(plan.grid.height) grid")
        }
        if common.json {
            try printJSON(Report(plan: planPath, id: plan.id, width: plan.grid.width, height: plan.grid.height, tiles: plan.tiles,
                                 cost: plan.cost, scripts: scripts))
        } else {
            common.note(String(format: "astrotool resample plan: %d inputs, %dx%d grid in %d tiles -> %@ (plan %@; a tile job needs about %.0f MiB)",
                               files.count, plan.grid.width, plan.grid.height, plan.tiles.count, output, plan.id,
                               Double(plan.cost.tileJobBytes) / 1048576))
            for s in scripts where s.hasSuffix("submit.sh") { common.note("submit with: \(s)") }
        }
    }

    private func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }
}

/// `astrotool resample combine`: join the parts of a tiled mosaic.
struct ResampleCombineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "combine",
        abstract: "Join the parts of a tiled mosaic (`resample --plan P --tile K`) into the mosaic one run would write.",
        discussion: "Every tile of one plan exactly once, one layout; streamed a row of tiles at a time. Example: astrotool resample combine parts/part_*.fits -o mosaic.fits"
    )

    @Argument(help: "The part files, in any order.") var parts: [String]
    @Option(name: .shortAndLong, help: "The mosaic.") var output: String
    @OptionGroup var common: CommonOptions

    func run() throws {
        common.apply()
        let files = try expandListArguments(parts)
        try OutputPlan.checkDistinct(inputs: files, outputs: [output])
        let r = try Resample.combine(files, output: output, overwrite: common.overwrite)
        for u in r.unused { common.warn("\(u.input)[\(u.hdu)]: drizzling: \(u.reason); left out") }
        if common.json { try printJSON(r) } else {
            common.note("astrotool resample combine: \(r.tiles) tiles of plan \(r.plan) -> \(output) (\(r.width)x\(r.height), exposure \(r.exposure) s)")
        }
    }
}
