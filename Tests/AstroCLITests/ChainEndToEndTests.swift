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

    /// A 256² night with a galaxy, cosmic rays and headers 5″/0.3° off, reduced by the recipe
    /// to its mosaic and scored against the truth (`simulate score`): what make demo shows on
    /// 1024², asserted here on a small night (FWHM 2 px and 300 stars, so that a few stars are
    /// isolated and bright enough to measure).
    @Test func scoredNight() throws {
        let dir = TestSupport.scratch("astrotool-chain-score"); defer { TestSupport.cleanup(dir) }
        let raw = dir.appendingPathComponent("raw"), out = dir.appendingPathComponent("reduced")
        let sim = try TestSupport.runTool(["simulate", "night", "--outdir", raw.path, "--seed", "7", "--shape", "256", "256",
                                           "--overscan", "16", "--nbias", "3", "--ndark", "2", "--nflat", "3", "--nsci", "4",
                                           "--stars", "300", "--fwhm", "2", "--cr-rate", "100", "--galaxy",
                                           "--pointing-error", "5", "--roll-error", "0.3", "--quiet"])
        #expect(sim.code == 0, "\(sim.stderr)")
        let repo = TestSupport.testdata.deletingLastPathComponent()
        let make = try run(["make", "--no-print-directory", "-f", repo.appendingPathComponent("recipes/night.mk").path, "-j", "2",
                            "AT=\(TestSupport.toolPath)", "RAW=\(raw.path)", "OUT=\(out.path)", "mosaic"], in: dir)
        #expect(make.code == 0, "\(make.out)")
        let unregistered = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("aligned").path)
            .filter { $0.hasSuffix(".unregistered") }
        #expect(unregistered.isEmpty, "\(unregistered)")

        let score = try TestSupport.runTool(["simulate", "score", out.appendingPathComponent("mosaic_R.fits").path,
                                             "--truth", raw.appendingPathComponent("truth").path, "--max-noise", "0.05", "--json"])
        #expect(score.code == 0, "\(score.stderr)")
        let doc = try JSONSerialization.jsonObject(with: Data(score.stdout.utf8)) as! [String: Any]
        func number(_ section: String, _ key: String) -> Double { ((doc[section] as? [String: Any])?[key] as? Double) ?? .nan }
        print("chain score (256² night): flux ratio \(number("photometry", "medianRatio")) scatter \(number("photometry", "robustScatter")) "
              + "over \(number("photometry", "stars")) stars, astrometry \(number("astrometry", "rmsPixels")) px, "
              + "background \(number("background", "bias")) e-/s, CR residue \(number("cosmicRays", "fraction")), coverage \(number("coverage", "pixels"))")
        // Measured when written: 1.0014, 0.0047 over 8 stars, 0.029 px, -0.26 e-/s, 0.014, 0.954.
        #expect(number("photometry", "stars") >= 5)
        #expect(abs(number("photometry", "medianRatio") - 1) <= 0.01)
        #expect(number("photometry", "robustScatter") <= 0.02)
        #expect(number("astrometry", "rmsPixels") <= 0.06)
        #expect(number("coverage", "pixels") >= 0.9)
        #expect(number("cosmicRays", "fraction") <= 0.05)
        // The galaxy fills every frame, so each frame's sky is measured high and the mosaic's
        // background sits below zero (issue #13's goal, |bias| <= 0.02, is not met: see
        // docs/performance.md); this guards the size of the miss.
        #expect(number("background", "bias") < 0 && number("background", "bias") > -0.5)
    }
}
