import AstroFITS
import AstroImage
import AstroTestSupport
import Foundation
import Testing

/// `astrotool align --match quads` from the command line: the spalipy options, their
/// validation, and a field too sparse for quads.
@Suite struct AlignQuadsCommandTests {
    @Test func quadsWithSubTiles() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let (template, source) = try AlignCommandTests.pair(in: dir)
        let out = dir.appendingPathComponent("out.fits").path
        // 2×2 tiles of 150 px hold ~13 stars each: a 40 px separation leaves enough quads.
        for options in [["--sub-tile", "2", "--min-quad-sep", "40", "--max-quad-cand", "5", "--patience-quad-cand", "3", "--max-quad-hash-dist", "0.01"],
                        ["--n-quad-det", "15", "--quad-edge-buffer", "10"]] {
            let run = try TestSupport.runTool(["align", source, out, "-tf", template, "--match", "quads", "--json", "--overwrite"] + options)
            #expect(run.code == 0, "\(options): \(run.stderr)")
            let stats = (try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any])["transform"] as! [String: Any]
            #expect(stats["matching"] as? String == "quads" && (stats["rms"] as! Double) < 0.3 && (stats["used"] as! Int) >= 20)
            #expect(abs((stats["rotation"] as! Double) + 20) < 0.05)
        }

        // Quad options without quads, and out of range: usage errors; nothing written.
        let args = ["align", source, dir.appendingPathComponent("no.fits").path, "-tf", template]
        let stray = try TestSupport.runTool(args + ["--sub-tile", "2"])
        #expect(stray.code == 64 && stray.stderr.contains("--sub-tile applies to --match quads"), "\(stray.stderr)")
        for bad in [["--sub-tile", "0"], ["--max-quad-hash-dist", "0"], ["--n-quad-det", "3"], ["--patience-quad-cand", "0"], ["--min-quad-sep", "-1"]] {
            #expect(try TestSupport.runTool(args + ["--match", "quads"] + bad).code == 64, "\(bad)")
        }
        #expect(try TestSupport.runTool(args + ["--match", "squares"]).code == 64)
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("no.fits").path))
    }

    /// Everything 200 px from the edge of a 300² frame: no star is left for quads.
    @Test func edgeBufferLeavingNoQuadIsAnError() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let (template, source) = try AlignCommandTests.pair(in: dir)
        let out = dir.appendingPathComponent("out.fits").path
        let run = try TestSupport.runTool(["align", source, out, "-tf", template, "--match", "quads", "--quad-edge-buffer", "140"])
        #expect(run.code == 65 && run.stderr.contains("source.fits") && run.stderr.contains("too sparse for quads")
                && run.stderr.contains("140 px from the edge"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}
