import AstroFITS
import AstroImage
import AstroTestSupport
import Foundation
import Testing

/// `astrotool align`'s spalipy-compatibility options: --simple, --source-mask,
/// --preserve-footprints, --seed.
@Suite struct AlignOptionsCommandTests {
    static func transform(_ stdout: String) throws -> [String: Any] {
        (try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as! [String: Any])["transform"] as! [String: Any]
    }

    /// `--simple SOURCE OUTPUT TEMPLATE`: the affine preset; a template given twice or a model
    /// the preset contradicts is a usage error.
    @Test func simplePreset() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let (template, source) = try AlignCommandTests.pair(in: dir)
        let out = dir.appendingPathComponent("out.fits").path
        let run = try TestSupport.runTool(["align", "--simple", source, out, template, "--json"])
        #expect(run.code == 0, "\(run.stderr)")
        let t = try Self.transform(run.stdout)
        #expect(t["model"] as? String == "affine" && (t["rms"] as! Double) < 0.3 && abs((t["rotation"] as! Double) + 20) < 0.05)
        #expect(try FITS.readImage(out).header.double("CRVAL1") == 200)
        for bad in [["-tf", template], ["--model", "spline"], ["--model", "poly"], ["--n-det", "0.5"],
                    ["--match", "quads", "--sub-tile", "2"]] {
            let r = try TestSupport.runTool(["align", "--simple", source, out, template, "--overwrite"] + bad)
            #expect(r.code == 64, "\(bad): \(r.stderr)")
        }
        #expect(try TestSupport.runTool(["align", source, out, template, "--overwrite"]).code == 64)
        #expect(try TestSupport.runTool(["align", "--simple", source, out, "-tf", template, "--overwrite"]).code == 0)
    }
}
