import AstroFITS
import AstroImage
import AstroTestSupport
import Foundation
import Testing

/// `astrotool resample plan`, `resample --plan P --tile K` and `resample combine` from the
/// command line: the tiled mosaic is the one-run mosaic, the Slurm scripts say what the cluster
/// test expects, and bad input is refused in one line, exit 65, nothing written.
@Suite struct ResampleTilesCommandTests {
    typealias Bad = ResampleBadInputTests

    /// Two 24×24 frames 9 and 5 pixels apart, with ERR.
    static func frames(_ dir: URL) throws -> [String] {
        let err = [("ERR", Bad.size, Bad.size, [Float](repeating: 0.5, count: Bad.size * Bad.size))]
        let ramp = (0..<(Bad.size * Bad.size)).map { Float($0 % 7) + 10 }
        return [try Bad.frame(dir, "a.fits", Bad.header(), pixels: ramp, companions: err),
                try Bad.frame(dir, "b.fits", Bad.header([("CRPIX1", .real(3.5)), ("CRPIX2", .real(7.5))]), pixels: ramp.reversed(), companions: err)]
    }

    static func run(_ arguments: [String], in dir: URL, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let r = try TestSupport.runTool(arguments, in: dir)
        #expect(r.code == 0, "\(arguments): \(r.stderr)", sourceLocation: sourceLocation)
        return r.stdout
    }

    /// Plans 2×2 tiles, drizzles each, combines; returns the plan path and the part paths.
    static func tiled(_ inputs: [String], in dir: URL, extra: [String] = []) throws -> (String, [String]) {
        let plan = dir.appendingPathComponent("plan.json").path
        _ = try run(["resample", "plan"] + inputs + ["--tiles", "2", "2", "-o", plan, "--kernel", "lanczos3"] + extra, in: dir)
        let parts = try (1...4).map { k in
            let part = dir.appendingPathComponent("part_\(k).fits").path
            _ = try run(["resample", "--plan", plan, "--tile", "\(k)", "-o", part, "-q"], in: dir)
            return part
        }
        return (plan, parts)
    }

    @Test func planTilesAndCombineGiveTheOneRunMosaic() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let inputs = try Self.frames(dir)
        let (_, parts) = try Self.tiled(inputs, in: dir)
        let one = dir.appendingPathComponent("one.fits").path, mosaic = dir.appendingPathComponent("mosaic.fits").path
        _ = try Self.run(["resample"] + inputs + ["-o", one, "--kernel", "lanczos3"], in: dir)
        let report = try Self.run(["resample", "combine"] + parts.reversed() + ["-o", mosaic, "--json"], in: dir)
        #expect(report.contains("\"tiles\":4"))
        let a = try FITS.listHDUs(one), b = try FITS.listHDUs(mosaic)
        #expect(a.map(\.extname) == b.map(\.extname) && a.map(\.shape) == b.map(\.shape))
        for (x, y) in zip(a, b) {
            let p = try FITSFile("\(one)[\(x.index)]").readImageDouble().pixels, q = try FITSFile("\(mosaic)[\(y.index)]").readImageDouble().pixels
            #expect(zip(p, q).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }, "\(x.extname ?? "SCI")")
        }
        for key in ["NDRIZIM", "EXPTIME", "KERNEL", "CRPIX1", "CRPIX2", "PC1_1", "BUNIT"] { #expect(a[0].header[key] == b[0].header[key], "\(key)") }
        #expect(a[0].header.history == b[0].header.history)
        // A part says where it belongs, and its own WCS is shifted to the tile.
        let part = try FITS.readHeader(parts[3])
        #expect(part.int("TILE") == 4 && part.int("TILEX0")! > 0 && part.int("TILEY0")! > 0 && part.int("GRIDNX") == a[0].shape[0])
        #expect(part.double("CRPIX1") == a[0].header.double("CRPIX1")! - Double(part.int("TILEX0")!))
        // Exists: not replaced without --overwrite.
        let again = try TestSupport.runTool(["resample", "combine"] + parts + ["-o", mosaic], in: dir)
        #expect(again.code == 73)
    }

    @Test func slurmScripts() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        _ = try Self.frames(dir)
        let plan = dir.appendingPathComponent("plan.json").path, jobs = dir.appendingPathComponent("jobs").path
        // Relative input names: the jobs find them from the folder the plan was made in.
        let out = try Self.run(["resample", "plan", "a.fits", "b.fits", "--tiles", "3", "1", "-o", "plan.json", "--slurm", "jobs",
                                                               "--slurm-options", "--partition=short -A sky", "--json"], in: dir)
        #expect(out.contains("\"scripts\""))
        let tiles = try String(contentsOfFile: jobs + "/tiles.sbatch", encoding: .utf8)
        let combine = try String(contentsOfFile: jobs + "/combine.sbatch", encoding: .utf8)
        let submit = try String(contentsOfFile: jobs + "/submit.sh", encoding: .utf8)
        #expect(tiles.contains("#SBATCH --array=1-3") && tiles.contains("#SBATCH --partition=short") && tiles.contains("#SBATCH -A sky"))
        #expect(tiles.contains("#SBATCH --mem="))
        #expect(tiles.contains("resample --plan '\(plan)' --tile \"$SLURM_ARRAY_TASK_ID\" -o '\(jobs)'/part_\"$SLURM_ARRAY_TASK_ID\".fits --overwrite -q"))
        #expect(combine.contains("resample combine '\(jobs)'/part_*.fits -o '\(jobs)/mosaic.fits' --overwrite -q"))
        #expect(submit.contains("sbatch --parsable '\(jobs)/tiles.sbatch'") && submit.contains("--dependency=afterok:\"$array\""))
        #expect(FileManager.default.isExecutableFile(atPath: jobs + "/submit.sh"))
        // The executable named is an absolute path that exists.
        let tool = tiles.split(separator: "'")[1]
        #expect(tool.hasPrefix("/") && FileManager.default.isExecutableFile(atPath: String(tool)))
        // The scripts run as written, with sbatch standing in for Slurm (runs the job at once).
        let bin = dir.appendingPathComponent("bin").path
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let fake = """
        #!/bin/sh
        # sbatch stand-in: runs the script once per array task; prints a job id.
        script=$(eval echo \\${$#})
        range=$(sed -n 's/^#SBATCH --array=1-//p' "$script")
        for k in $(seq 1 ${range:-1}); do SLURM_ARRAY_TASK_ID=$k sh "$script" || exit 1; done
        echo 100$#
        """
        try fake.write(toFile: bin + "/sbatch", atomically: true, encoding: .utf8)
        chmod(bin + "/sbatch", 0o755)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: jobs + "/submit.sh")
        process.environment = ["PATH": bin + ":/usr/bin:/bin"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let ids = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0 && ids.split(separator: "\n").count == 2, "\(ids)")
        #expect(FileManager.default.fileExists(atPath: jobs + "/mosaic.fits"))
    }

    /// Usage errors (exit 64) and an existing plan (73): nothing written.
    @Test func planUsage() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let inputs = try Self.frames(dir)
        let plan = dir.appendingPathComponent("plan.json").path
        for extra in [["--tiles", "2"], ["--tiles", "0", "1"], ["--tiles", "100", "1"], ["--tiles", "2", "2", "--mosaic", "m.fits"],
                      ["--tiles", "2", "2", "--slurm-options", "--partition=x"]] {
            let r = try TestSupport.runTool(["resample", "plan"] + inputs + ["-o", plan] + extra, in: dir)
            #expect(r.code == 64 && !FileManager.default.fileExists(atPath: plan), "\(extra): \(r.code) \(r.stderr)")
        }
        // The mosaic's folder must exist.
        let missing = try TestSupport.runTool(["resample", "plan"] + inputs + ["-o", plan, "--tiles", "2", "1", "--slurm", "jobs", "--mosaic", "out/m.fits"], in: dir)
        #expect(missing.code == 73 && missing.stderr.contains("does not exist") && !FileManager.default.fileExists(atPath: plan))
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("out"), withIntermediateDirectories: true)
        _ = try Self.run(["resample", "plan"] + inputs + ["-o", plan, "--tiles", "2", "1", "--slurm", "jobs", "--mosaic", "out/m.fits"], in: dir)
        let combine = try String(contentsOfFile: dir.appendingPathComponent("jobs/combine.sbatch").path, encoding: .utf8)
        #expect(combine.contains("-o '\(dir.appendingPathComponent("out/m.fits").path)'"))
        // Exists: refused, the scripts left as they were.
        let again = try TestSupport.runTool(["resample", "plan"] + inputs + ["-o", plan, "--tiles", "3", "1", "--slurm", "jobs"], in: dir)
        let tiles = try String(contentsOfFile: dir.appendingPathComponent("jobs/tiles.sbatch").path, encoding: .utf8)
        #expect(again.code == 73 && tiles.contains("--array=1-2"))
    }

    @Test func badPlansAndPartsAreRefused() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let inputs = try Self.frames(dir)
        let (plan, parts) = try Self.tiled(inputs, in: dir)
        let out = dir.appendingPathComponent("out.fits").path
        // Grid or drizzle options with --plan: usage.
        let usage = try TestSupport.runTool(["resample", "--plan", plan, "--tile", "1", "-o", out, "--kernel", "square"], in: dir)
        #expect(usage.code == 64 && usage.stderr.contains("--kernel") && !FileManager.default.fileExists(atPath: out))
        // Not the plan's inputs; a tile out of range.
        try Bad.expectRefused(["resample", inputs[1], inputs[0], "--plan", plan, "--tile", "1", "-o", out], naming: inputs[1],
                              because: "input 1 of the plan", output: out)
        try Bad.expectRefused(["resample", inputs[0], "--plan", plan, "--tile", "1", "-o", out], naming: plan,
                              because: "1 inputs given, the plan has 2", output: out)
        try Bad.expectRefused(["resample", "--plan", plan, "--tile", "5", "-o", out], naming: plan, because: "tile 5 is not in the plan", output: out)
        // Combine: a tile missing, a tile twice.
        try Bad.expectRefused(["resample", "combine", parts[0], parts[1], parts[3], "-o", out], naming: "combining tiles",
                              because: "tile 3 of plan", output: out)
        try Bad.expectRefused(["resample", "combine"] + parts + [parts[2], "-o", out], naming: parts[2], because: "tile 3 is also", output: out)
        // A part of different HDUs under the same plan id (CON dropped).
        let odd = dir.appendingPathComponent("odd.fits").path
        let hdus = try FITS.listHDUs(parts[1]).filter { $0.extname != "CON" }.map { h -> OutputHDU in
            var image = try FITS.readImage("\(parts[1])[\(h.index)]")
            image.header = h.header.userCards
            return OutputHDU(image, extname: h.extname, pixelType: h.bitpix == 8 ? .uint8 : .float32)
        }
        try FITSWriter.write(hdus, to: odd, overwrite: false)
        try Bad.expectRefused(["resample", "combine", parts[0], odd, parts[2], parts[3], "-o", out], naming: odd, because: "its HDUs", output: out)
        // A part of another plan (another kernel: another id).
        let other = dir.appendingPathComponent("other").path
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        _ = try Self.run(["resample", "plan"] + inputs + ["--tiles", "2", "2", "-o", other + "/plan.json"], in: dir)
        _ = try Self.run(["resample", "--plan", other + "/plan.json", "--tile", "2", "-o", other + "/part_2.fits", "-q"], in: dir)
        try Bad.expectRefused(["resample", "combine", parts[0], other + "/part_2.fits", parts[2], parts[3], "-o", out],
                              naming: other + "/part_2.fits", because: "it belongs to plan", output: out)
        // An input changed since the plan: its header, then its size.
        var h = Bad.header([("CRPIX1", .real(3.5)), ("CRPIX2", .real(7.5))])
        h.set("OBSERVER", "someone")
        let err = [("ERR", Bad.size, Bad.size, [Float](repeating: 0.5, count: Bad.size * Bad.size))]
        try FileManager.default.removeItem(atPath: inputs[1])
        try Bad.frame(dir, "b.fits", h, companions: err)
        try Bad.expectRefused(["resample", "--plan", plan, "--tile", "1", "-o", out], naming: inputs[1], because: "its header cards differ", output: out)
        try FileManager.default.removeItem(atPath: inputs[1])
        try Bad.frame(dir, "b.fits", h)
        try Bad.expectRefused(["resample", "--plan", plan, "--tile", "1", "-o", out], naming: inputs[1], because: "the file was 11520 bytes, now 5760", output: out)
        // An edited plan.
        let text = try String(contentsOfFile: plan, encoding: .utf8).replacingOccurrences(of: "lanczos3", with: "lanczos2")
        try text.write(toFile: plan, atomically: true, encoding: .utf8)
        try Bad.expectRefused(["resample", "--plan", plan, "--tile", "1", "-o", out], naming: plan, because: "does not match its id", output: out)
    }
}
