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
        // --seed is accepted and changes nothing: the matching is deterministic.
        let seeded = try TestSupport.runTool(["align", "--simple", source, out, template, "--json", "--overwrite", "--seed", "7"])
        #expect(seeded.code == 0)
        let again = try Self.transform(seeded.stdout)
        #expect(NSDictionary(dictionary: again).isEqual(to: t))
        for bad in [["-tf", template], ["--model", "spline"], ["--model", "poly"], ["--n-det", "0.5"],
                    ["--match", "quads", "--sub-tile", "2"]] {
            let r = try TestSupport.runTool(["align", "--simple", source, out, template, "--overwrite"] + bad)
            #expect(r.code == 64, "\(bad): \(r.stderr)")
        }
        #expect(try TestSupport.runTool(["align", source, out, template, "--overwrite"]).code == 64)
        #expect(try TestSupport.runTool(["align", "--simple", source, out, "-tf", template, "--overwrite"]).code == 0)
    }
}

extension AlignOptionsCommandTests {
    /// `--source-mask`: its bits reach the output MASK; a mask of another shape names itself, exit 65.
    @Test func sourceMaskBitsInOutput() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let (template, source) = try AlignCommandTests.pair(in: dir)
        let n = AlignCommandTests.n
        let out = dir.appendingPathComponent("out.fits").path, mask = dir.appendingPathComponent("mask.fits").path
        try FITSWriter.write([OutputHDU(Image(width: n, height: n, pixels: (0..<(n * n)).map { $0 % n < 100 ? 128 : 0 }))],
                             to: mask, overwrite: false)
        let run = try TestSupport.runTool(["align", source, out, "-tf", template, "--source-mask", mask, "--json"])
        #expect(run.code == 0, "\(run.stderr)")
        let bits = try FITS.readImage("\(out)[MASK]").pixels
        let flagged = bits.filter { UInt8($0) & 128 != 0 }.count
        // A third of the source, less what falls outside the template.
        #expect(flagged > n * n / 5 && flagged < n * n / 2, "\(flagged)")

        let small = dir.appendingPathComponent("small.fits").path
        try FITSWriter.write([OutputHDU(Image(width: 10, height: 10, value: 0))], to: small, overwrite: false)
        let bad = try TestSupport.runTool(["align", source, out, "-tf", template, "--source-mask", small, "--overwrite"])
        #expect(bad.code == 65 && bad.stderr.contains("small.fits") && bad.stderr.contains("10x10"), "\(bad.stderr)")
    }
}

extension AlignOptionsCommandTests {
    /// `--preserve-footprints` grows a warp's grid: meaningless with --update-wcs (exit 64).
    @Test func preserveFootprintsRefusals() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let (template, source) = try AlignCommandTests.pair(in: dir)
        let out = dir.appendingPathComponent("out.fits").path
        #expect(try TestSupport.runTool(["align", source, out, "-tf", template, "--preserve-footprints", "--update-wcs"]).code == 64)
        #expect(try TestSupport.runTool(["align", source, out, "-tf", template, "--preserve-footprints", "--output-shape", "10,10"]).code == 64)
        let run = try TestSupport.runTool(["align", source, out, "-tf", template, "--preserve-footprints", "--json"])
        #expect(run.code == 0, "\(run.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
        // The 20°-rotated source reaches beyond the template on every side.
        #expect((json["width"] as! Int) > AlignCommandTests.n && (json["templateOffset"] as! [Int]).allSatisfy { $0 < 0 })
    }
}
