import AstroFITS
import AstroImage
import AstroTestSupport
import Foundation
import Testing

/// `astrotool skymatch` from the command line.
@Suite struct SkymatchCommandTests {
    /// A flat frame of `sky` with σ = 1 noise and a 1″ TAN WCS centred `xi` arcsec east of RA 30, Dec 0.
    static func frame(_ path: String, sky: Double, xi: Double, seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        let n = 120
        var h = Header()
        for (k, v) in [("CTYPE1", "RA---TAN"), ("CTYPE2", "DEC--TAN"), ("CUNIT1", "deg"), ("CUNIT2", "deg")] { h.set(k, v) }
        h.set("CRPIX1", Double(n + 1) / 2); h.set("CRPIX2", Double(n + 1) / 2)
        h.set("CRVAL1", 30 + xi / 3600); h.set("CRVAL2", 0.0)
        h.set("CD1_1", -1.0 / 3600); h.set("CD2_2", 1.0 / 3600); h.set("CD1_2", 0.0); h.set("CD2_1", 0.0)
        let pixels = (0..<(n * n)).map { _ in Float(sky + rng.gaussian()) }
        try FITSWriter.write([OutputHDU(Image(width: n, height: n, pixels: pixels, header: h))], to: path, overwrite: false)
    }

    @Test func reportsThenWritesSubtractedCopies() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let a = dir.appendingPathComponent("a.fits").path, b = dir.appendingPathComponent("b.fits").path
        try Self.frame(a, sky: 10, xi: 0, seed: 1)
        try Self.frame(b, sky: 13, xi: 60, seed: 2)
        let report = try TestSupport.runTool(["skymatch", a, b, "--stat", "median", "--json"])
        #expect(report.code == 0, "\(report.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as! [String: Any]
        let chips = json["chips"] as! [[String: Any]]
        #expect(chips.map { $0["status"] as? String } == ["OK", "OK"] && json["islands"] as? Int == 1)
        #expect(abs((chips[1]["sky"] as! Double) - 13) < 0.1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["a.fits", "b.fits"])

        let table = try TestSupport.runTool(["skymatch", a, b, "--method", "match"])
        #expect(table.code == 0 && table.stdout.hasPrefix("image") && table.stdout.contains("OK"))

        let out = dir.appendingPathComponent("sky").path
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)
        let write = try TestSupport.runTool(["skymatch", a, b, "--stat", "median", "--outdir", out, "--subtract", "-q"])
        #expect(write.code == 0, "\(write.stderr)")
        let copy = try FITS.readImage(out + "/b.fits")
        #expect(copy.header.bool("SKYSUB") == true && abs(copy.header.double("SKYVALUE")! - 13) < 0.1)
        #expect(abs(Statistics.median(copy.pixels)) < 0.1)
        // Again without --overwrite: refused, exit 73.
        let again = try TestSupport.runTool(["skymatch", a, b, "--outdir", out])
        #expect(again.code == 73 && again.stderr.contains("output exists"))
    }

    @Test func badInputsAndOptions() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let a = dir.appendingPathComponent("a.fits").path
        try Self.frame(a, sky: 10, xi: 0, seed: 1)
        let single = try TestSupport.runTool(["skymatch", a])
        #expect(single.code == 65 && single.stderr.contains("a.fits") && single.stderr.contains("only one image"))
        let method = try TestSupport.runTool(["skymatch", a, a, "--method", "best"])
        #expect(method.code == 64)
        let subtract = try TestSupport.runTool(["skymatch", a, a, "--subtract"])
        #expect(subtract.code == 64)
        let group = try TestSupport.runTool(["skymatch", a, a, "--group-by", "VISIT"])
        #expect(group.code == 65 && group.stderr.contains("VISIT"))
    }

    /// `--compat` on the committed anchors: stcal's global+match numbers (testdata/skymatch/anchors.json).
    @Test func compatGivesStcalsNumbers() throws {
        let anchors = try JSONSerialization.jsonObject(with: Data(contentsOf: TestSupport.testdata.appendingPathComponent("skymatch/anchors.json"))) as! [String: Any]
        let islands = (anchors["cases"] as! [String: Any])["islands"] as! [String: Any]
        let files = (islands["files"] as! [String]).map { TestSupport.path("skymatch/" + $0) }
        let expected = ((islands["stcal"] as! [String: Any])["median"] as! [String: Any])["global+match"] as! [Double]
        let run = try TestSupport.runTool(["skymatch"] + files + ["--compat", "--stat", "median", "--json"])
        #expect(run.code == 0, "\(run.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
        let skies = (json["chips"] as! [[String: Any]]).map { $0["sky"] as! Double }
        for (a, b) in zip(skies, expected) { #expect(abs(a - b) < 1e-6, "\(skies)") }
        // Without --compat each island keeps its own level: island 1 near 100, not stcal's 86.25.
        let own = try TestSupport.runTool(["skymatch"] + files + ["--stat", "median", "--json"])
        let ownSkies = ((try JSONSerialization.jsonObject(with: Data(own.stdout.utf8)) as! [String: Any])["chips"] as! [[String: Any]]).map { $0["sky"] as! Double }
        #expect(abs(ownSkies[0] - 100) < 0.05)
    }

    /// The bad inputs: one line naming the file, exit 65, nothing written.
    @Test func badInputsNameTheFileAndWriteNothing() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let a = dir.appendingPathComponent("a.fits").path, b = dir.appendingPathComponent("b.fits").path
        try Self.frame(a, sky: 10, xi: 0, seed: 1)
        try Self.frame(b, sky: 12, xi: 60, seed: 2)
        let out = dir.appendingPathComponent("out").path
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)
        // No celestial WCS.
        let plain = dir.appendingPathComponent("plain.fits").path
        try FITSWriter.write([OutputHDU(Image(width: 20, height: 20, value: 1))], to: plain, overwrite: false)
        // All NaN.
        var nan = try FITS.readImage(b)
        nan.pixels = [Float](repeating: .nan, count: nan.pixels.count)
        let allNaN = dir.appendingPathComponent("nan.fits").path
        try FITSWriter.write([OutputHDU(nan)], to: allNaN, overwrite: false)
        // A mask of another shape.
        let small = dir.appendingPathComponent("small.fits").path
        try FITSWriter.write([OutputHDU(Image(width: 10, height: 10, value: 0))], to: small, overwrite: false)
        let cases: [([String], String)] = [
            ([a, plain], "plain.fits"),
            ([a, allNaN], "nan.fits"),
            ([a, b, "--mask", small, small], "small.fits"),
            ([a], "a.fits"),
            ([a, b, "--group-by", "VISIT"], "VISIT"),
        ]
        for (args, name) in cases {
            let r = try TestSupport.runTool(["skymatch"] + args + ["--outdir", out])
            let lines = r.stderr.split(separator: "\n").filter { !$0.isEmpty }
            #expect(r.code == 65 && lines.count == 1 && r.stderr.contains(name), "\(args): \(r.code) \(r.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: out).isEmpty)
        }
    }

    /// `--method user --skylist` and `--groups FILE` from the command line.
    @Test func userSkiesAndGroupFiles() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let a = dir.appendingPathComponent("a.fits").path, b = dir.appendingPathComponent("b.fits").path
        let c = dir.appendingPathComponent("c.fits").path
        try Self.frame(a, sky: 10, xi: 0, seed: 1)
        try Self.frame(b, sky: 13, xi: 60, seed: 2)
        try Self.frame(c, sky: 11, xi: 120, seed: 3)
        let list = dir.appendingPathComponent("sky.txt").path
        try "a 9.5\nb.fits 12.5\n\(c) 11\n".write(toFile: list, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("out").path
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)
        let run = try TestSupport.runTool(["skymatch", a, b, c, "--method", "user", "--skylist", list, "--json",
                                           "--outdir", out, "--subtract"])
        #expect(run.code == 0, "\(run.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
        #expect((json["chips"] as! [[String: Any]]).map { $0["sky"] as! Double } == [9.5, 12.5, 11])
        let copy = try FITS.readImage(out + "/b.fits"), original = try FITS.readImage(b)
        #expect(copy.header.double("SKYVALUE") == 12.5 && copy.header.string("SKYMETH") == "user")
        #expect(zip(original.pixels, copy.pixels).allSatisfy { $0 - 12.5 == $1 })

        // Groups: a and c share one sky.
        let groups = dir.appendingPathComponent("groups.txt").path
        try "ends: a c\nb\n".write(toFile: groups, atomically: true, encoding: .utf8)
        let grouped = try TestSupport.runTool(["skymatch", a, b, c, "--groups", groups, "--stat", "median", "--json"])
        #expect(grouped.code == 0, "\(grouped.stderr)")
        let gj = try JSONSerialization.jsonObject(with: Data(grouped.stdout.utf8)) as! [String: Any]
        let chips = gj["chips"] as! [[String: Any]]
        #expect(chips.map { $0["group"] as! String } == ["ends", "group2", "ends"])
        #expect(chips[0]["sky"] as? Double == chips[2]["sky"] as? Double)

        // Usage errors exit 64, a bad list 65 naming it and its line.
        for args in [["--method", "user"], ["--skylist", list], ["--groups", groups, "--group-by", "X"]] {
            #expect(try TestSupport.runTool(["skymatch", a, b] + args).code == 64, "\(args)")
        }
        try "a 1\nb 2\nc 3\nb 4\n".write(toFile: list, atomically: true, encoding: .utf8)
        let dup = try TestSupport.runTool(["skymatch", a, b, c, "--method", "user", "--skylist", list])
        #expect(dup.code == 65 && dup.stderr.contains("sky.txt") && dup.stderr.contains("line 4"), "\(dup.stderr)")
    }
}
