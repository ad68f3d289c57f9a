import AstroFITS
import AstroImage
import AstroTestSupport
@testable import AstroSky
import Foundation
import Testing

/// `--method user --skylist` and `--groups FILE` (docs/skymatch.md, "User skies and groups").
@Suite struct UserListTests {
    static func write(_ text: String, _ name: String, in dir: URL) throws -> String {
        let path = dir.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func fails(_ paths: [String], _ o: SkyMatchOptions, code: Int32, _ words: String...) -> Bool {
        fails(paths, o, code: code, words)
    }

    static func fails(_ paths: [String], _ o: SkyMatchOptions, code: Int32, _ words: [String]) -> Bool {
        do {
            _ = try SkyMatch.run(paths, options: o, output: .report)
            return false
        } catch let e as AstroError {
            return e.exitCode == code && words.allSatisfy { "\(e)".contains($0) }
        } catch { return false }
    }

    @Test func userSkiesArePerInputOrPerChipAndSubtracted() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let (paths, _) = try GroupTests.exposures(into: dir)
        // By stem, by file name with a comment, and one exposure chip by chip.
        let list = try Self.write("""
            # name sky
            exp1 20.5
            exp2.fits 23.25   # a comment
            exp3[SCI,1] 18
            exp3.fits[sci,2] 18.75
            """, "sky.txt", in: dir)
        var o = SkyMatchOptions()
        o.method = .user
        o.skylist = list
        let r = try SkyMatch.run(paths, options: o, output: .report)
        #expect(r.chips.map(\.sky) == [20.5, 20.5, 23.25, 23.25, 18, 18.75])
        #expect(r.method == "user" && r.pairs.isEmpty && r.chips.allSatisfy { $0.status == "OK" && $0.local == nil })

        o.subtract = true
        let before = try FITS.readImage("\(paths[2])[SCI,2]")
        _ = try SkyMatch.run(paths, options: o, output: .inPlace)
        let after = try FITS.readImage("\(paths[2])[SCI,2]")
        #expect(after.header.double("SKYVALUE") == 18.75 && after.header.bool("SKYSUB") == true)
        #expect(after.header.string("SKYMETH") == "user")
        #expect(zip(before.pixels, after.pixels).allSatisfy { $0 - 18.75 == $1 })
        // One input is enough for user skies.
        let one = try Self.write("exp1 3", "one.txt", in: dir)
        o.skylist = one
        o.subtract = false
        #expect(try SkyMatch.run([paths[0]], options: o, output: .report).chips.map(\.sky) == [3, 3])
    }

    @Test func badSkyListsNameTheLine() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let (paths, _) = try GroupTests.exposures(into: dir)
        var o = SkyMatchOptions()
        o.method = .user
        for (text, words) in [("exp1 1\nexp2 2", ["no sky for", "exp3"]),
                              ("exp1 1\nexp2 2\nexp3 3\nexp1 4", ["line 4", "already has a sky (line 1)"]),
                              ("exp1 1\nexp2 2\nexp3 3\nexp9 4", ["line 4", "'exp9' names none"]),
                              ("exp1 1\nexp2 nan\nexp3 3", ["line 2", "not a finite number"]),
                              ("exp1 1 2\nexp2 2\nexp3 3", ["line 1", "expected 'NAME SKY'"]),
                              ("exp1 1\nexp2 2\nexp3 3\nexp3[SCI,2] 4", ["line 4", "already has a sky"])] {
            o.skylist = try Self.write(text, "bad.txt", in: dir)
            #expect(Self.fails(paths, o, code: 65, words + ["bad.txt"]), "\(text)")
        }
        o.skylist = dir.appendingPathComponent("missing.txt").path
        #expect(Self.fails(paths, o, code: 66, "missing.txt"))
        o.skylist = nil
        #expect(Self.fails(paths, o, code: 64, "--skylist"))
    }

    @Test func explicitGroupsJoinExposures() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let (paths, masks) = try GroupTests.exposures(into: dir)
        // Exposures 1 and 3 as one group (one sky), exposure 2 chip by chip (two groups).
        let groups = try Self.write("""
            odd: exp1 \(paths[2])
            exp2[SCI,1]
            second: exp2.fits[3]
            """, "groups.txt", in: dir)
        var o = SkyMatchOptions()
        o.masks = masks
        o.groupsFile = groups
        o.method = .local
        let r = try SkyMatch.run(paths, options: o, output: .report)
        #expect(r.chips.map(\.group) == ["odd", "odd", "group2", "second", "odd", "odd"])
        // A group's local sky is its lowest chip's; exposure 2's chips keep their own.
        let odd = r.chips.filter { $0.group == "odd" }
        #expect(odd.allSatisfy { $0.sky == odd.compactMap(\.local).min() })
        #expect(r.chips[2].sky == r.chips[2].local && r.chips[3].sky == r.chips[3].local && r.chips[2].sky != r.chips[3].sky)

        // Each chip exactly once; labels once; not with --group-by.
        for (text, words) in [("exp1\nexp2", ["exp3.fits[SCI,1] is in no group"]),
                              ("exp1 exp2\nexp2 exp3", ["line 2", "already in the group group1"]),
                              ("a: exp1\na: exp2 exp3", ["line 2", "'a' is used twice"]),
                              ("exp1 exp2 exp3 nothing", ["'nothing' names none"])] {
            o.groupsFile = try Self.write(text, "bad.txt", in: dir)
            #expect(Self.fails(paths, o, code: 65, words + ["bad.txt"]), "\(text)")
        }
        o.groupsFile = groups
        o.groupBy = "EXPTIME"
        #expect(Self.fails(paths, o, code: 64, "--groups"))
    }

    @Test func namesThatMatchSeveralInputsAreRefused() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let sub = dir.appendingPathComponent("b")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        var m = SyntheticMosaic()
        m.size = 40
        let f = [SyntheticMosaic.frame(around: 60, 10, xi: 0, eta: 0, sky: 1)]
        let a = try m.write(f, into: dir), b = try m.write(f, into: sub)
        var o = SkyMatchOptions()
        o.method = .user
        o.skylist = try Self.write("img1 1", "sky.txt", in: dir)
        #expect(Self.fails(a + b, o, code: 65, "matches chips of 2 inputs"))
        o.skylist = try Self.write("\(a[0]) 1\n\(b[0]) 2", "sky.txt", in: dir)
        #expect(try SkyMatch.run(a + b, options: o, output: .report).chips.map(\.sky) == [1, 2])
    }
}
