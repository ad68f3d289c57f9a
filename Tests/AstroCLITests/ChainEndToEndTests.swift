import Foundation
import Testing
import AstroFITS
import AstroTestSupport

/// The whole chain on a tiny simulated night: the real binary, the real recipe
/// (recipes/night.mk), checked against the simulation's truth. Each reduction stage's
/// assertions join this suite when its engine lands; until then the recipe must say the
/// stage is not built, and this test checks that it does.
@Suite(.serialized) struct ChainEndToEndTests {
    static let stages = ["masters": "ccdproc", "calibrated": "ccdproc", "aligned": "align",
                         "skymatched": "skymatch", "outliers": "resample", "mosaic": "resample"]

    func run(_ command: [String], in folder: URL) throws -> (code: Int32, out: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = command
        p.currentDirectoryURL = folder
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func tinyNightThroughTheRecipe() throws {
        let dir = TestSupport.scratch("astrotool-chain"); defer { TestSupport.cleanup(dir) }
        let raw = dir.appendingPathComponent("raw")
        let sim = try TestSupport.runTool(["simulate", "night", "--outdir", raw.path, "--seed", "3",
                                           "--shape", "128", "96", "--overscan", "16", "--nbias", "3", "--ndark", "2",
                                           "--nflat", "2", "--nsci", "2", "--stars", "30", "--quiet"])
        #expect(sim.code == 0, "\(sim.stderr)")

        let repo = TestSupport.testdata.deletingLastPathComponent()
        let make = try run(["make", "--no-print-directory", "-f", repo.appendingPathComponent("recipes/night.mk").path,
                            "-j", "2", "AT=\(TestSupport.toolPath)", "RAW=\(raw.path)",
                            "OUT=\(dir.appendingPathComponent("reduced").path)"], in: dir)
        #expect(make.code == 0, "\(make.out)")
        #expect(make.out.contains("night.mk: 3 bias, 2 dark, 2 flat, 2 science frames"), "\(make.out)")

        // Previews: one PNG per raw frame, each a real PNG.
        let previews = dir.appendingPathComponent("reduced/previews/raw")
        let pngs = try FileManager.default.contentsOfDirectory(atPath: previews.path).filter { $0.hasSuffix(".png") }
        #expect(pngs.count == 9)
        let head = try Data(contentsOf: previews.appendingPathComponent("sci_R_001.png")).prefix(8)
        #expect(head == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))

        // Raw science frames carry what the later stages need, consistent with truth.
        let sci = try FITS.readImage(raw.appendingPathComponent("sci_R_001.fits").path)
        #expect(sci.width == 128 + 16 && sci.height == 96)
        #expect(sci.header.string("IMAGETYP") == "OBJECT")
        #expect(FileManager.default.fileExists(atPath: raw.appendingPathComponent("truth/stars.csv").path))

        // Stages not built yet are reported as such, never faked.
        let help = try TestSupport.runTool(["--help"]).stdout
        for (stage, command) in Self.stages {
            let built = help.contains("\n  \(command) ")
            let line = "night.mk: stage \(stage): " + (built ? "built" : "not built yet (needs astrotool \(command))")
            #expect(make.out.contains(line), "\(stage)")
        }

        // A second run has nothing left to do: the recipe resumes rather than redoes.
        let again = try run(["make", "--no-print-directory", "-q", "-f", repo.appendingPathComponent("recipes/night.mk").path,
                             "AT=\(TestSupport.toolPath)", "RAW=\(raw.path)",
                             "OUT=\(dir.appendingPathComponent("reduced").path)", "previews"], in: dir)
        #expect(again.code == 0, "previews are up to date")
    }
}
