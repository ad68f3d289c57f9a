import AstroFITS
import AstroImage
import AstroTestSupport
@testable import AstroSky
import Foundation
import Testing

/// Whole runs on seeded synthetic mosaics written as files (σ = 1 noise, known sky levels).
@Suite struct SkyMatchTests {
    /// 3×2 mosaic of 300 px chips 220 px apart (about 27 % overlaps), turned by a few degrees,
    /// with a bright galaxy over the middle overlaps; truth as the spec's oracle mosaic.
    static let truth = [10, 12.5, 9, 15, 11, 13]
    static func mosaic(into dir: URL) throws -> [String] {
        var m = SyntheticMosaic()
        m.galaxy = .init(ra: 150, dec: 30, peak: 60, scaleArcsec: 40)
        let rotations = [0.0, 2, -3, 1, -1, 4]
        let frames = (0..<6).map { k in
            SyntheticMosaic.frame(around: 150, 30, xi: Double(k % 3 - 1) * 220, eta: (Double(k / 3) - 0.5) * 220,
                                  rotation: rotations[k], sky: truth[k])
        }
        return try m.write(frames, into: dir)
    }

    @Test(arguments: [SkyStatistic.mode, .median])
    func mosaicRelativeLevelsWithinTwoHundredths(statistic: SkyStatistic) throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let paths = try Self.mosaic(into: dir)
        for method in [SkyMethod.match, .globalMatch] {
            var o = SkyMatchOptions()
            o.method = method
            o.stats.statistic = statistic
            let r = try SkyMatch.run(paths, options: o, output: .report)
            let found = r.chips.map { $0.sky! }
            let error = SyntheticMosaic.relativeError(found, truth: Self.truth)
            print("skymatch mosaic \(method.rawValue) \(statistic): \(found.map { String(format: "%.3f", $0) }) error \(String(format: "%.4f", error))")
            #expect(error <= 0.02, "\(method) \(statistic): \(found)")
            #expect(r.islands == 1 && r.chips.allSatisfy { $0.status == "OK" } && r.pairs.count >= 7)
        }
        // The galaxy biases each chip's own statistic, which is why match exists.
        var o = SkyMatchOptions()
        o.method = .local
        o.stats.statistic = statistic
        let local = try SkyMatch.run(paths, options: o, output: .report).chips.map { $0.sky! }
        #expect(SyntheticMosaic.relativeError(local, truth: Self.truth) > 0.2)
    }

    /// The JWST documentation's 7-image layout as files: two islands of chained chips.
    @Test func islandsEachGetTheirOwnBaseline() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let m = SyntheticMosaic()
        let truth = [100.0, 120, 105, 110, 95, 90, 100]
        let frames = truth.enumerated().map { k, sky in
            // 1–4 in a row at RA 40, 5–7 in a row 1° away: chips 200 px apart overlap by a third.
            SyntheticMosaic.frame(around: k < 4 ? 40 : 41, -10, xi: Double(k < 4 ? k : k - 4) * 200, eta: 0, sky: sky)
        }
        let paths = try m.write(frames, into: dir)
        var o = SkyMatchOptions()
        o.stats.statistic = .median
        let r = try SkyMatch.run(paths, options: o, output: .report)
        #expect(r.islands == 2)
        #expect(r.chips.map(\.island) == [1, 1, 1, 1, 2, 2, 2])
        let found = r.chips.map { $0.sky! }
        print("skymatch islands global+match: \(found.map { String(format: "%.3f", $0) })")
        // Chained pairs of 30000 px with σ = 1 noise: a few hundredths (measured ≤ 0.048).
        for (a, b) in zip(found, truth) { #expect(abs(a - b) < 0.06, "\(found)") }
        o.method = .match
        let match = try SkyMatch.run(paths, options: o, output: .report).chips.map { $0.sky! }
        print("skymatch islands match: \(match.map { String(format: "%.3f", $0) })")
        for (a, b) in zip(match, [0.0, 20, 5, 10, 5, 0, 10]) { #expect(abs(a - b) < 0.06, "\(match)") }
    }

    @Test func imageWithoutOverlapIsSkippedByMatch() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        var m = SyntheticMosaic()
        m.size = 120
        let frames = [SyntheticMosaic.frame(around: 80, 20, xi: 0, eta: 0, sky: 10),
                      SyntheticMosaic.frame(around: 80, 20, xi: 60, eta: 0, sky: 12),
                      SyntheticMosaic.frame(around: 80, 20, xi: 2000, eta: 0, sky: 200)]
        let paths = try m.write(frames, into: dir)
        var o = SkyMatchOptions()
        o.method = .match
        o.stats.statistic = .median
        let r = try SkyMatch.run(paths, options: o, output: .report)
        #expect(r.chips.map(\.status) == ["OK", "OK", "SKIPPED"])
        #expect(r.chips[2].sky == nil && r.chips[2].overlapPixels == 0 && r.islands == 2)
        #expect(abs(r.chips[1].sky! - 2) < 0.05)
        o.method = .globalMatch
        let gm = try SkyMatch.run(paths, options: o, output: .report)
        #expect(gm.chips.allSatisfy { $0.status == "OK" } && abs(gm.chips[2].sky! - 200) < 0.05)
    }

    @Test func identicalFootprintsMatch() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        var m = SyntheticMosaic()
        m.galaxy = .init(ra: 300, dec: 70, peak: 30, scaleArcsec: 30)
        let truth = [5.0, 7, 6]
        let paths = try m.write(truth.map { SyntheticMosaic.Frame(ra: 300, dec: 70, sky: $0) }, into: dir)
        for statistic in [SkyStatistic.median, .mode] {
            var o = SkyMatchOptions()
            o.method = .match
            o.stats.statistic = statistic
            let r = try SkyMatch.run(paths, options: o, output: .report)
            let found = r.chips.map { $0.sky! }
            print("skymatch identical \(statistic): \(found.map { String(format: "%.4f", $0) })")
            #expect(r.chips.allSatisfy { $0.overlapPixels == 2 * 300 * 300 })
            for (a, b) in zip(found, [0.0, 2, 1]) { #expect(abs(a - b) < 0.02, "\(statistic): \(found)") }
        }
    }

    @Test func copiesCarryTheSkyAndSubtractMarksIt() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        var m = SyntheticMosaic()
        m.size = 100
        let paths = try m.write([SyntheticMosaic.frame(around: 10, 0, xi: 0, eta: 0, sky: 10),
                                 SyntheticMosaic.frame(around: 10, 0, xi: 50, eta: 0, sky: 14)], into: dir)
        let before = try paths.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        var o = SkyMatchOptions()
        o.stats.statistic = .median
        // Report only: nothing written, inputs untouched.
        _ = try SkyMatch.run(paths, options: o, output: .report)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).count == 2)
        let out = dir.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: false)
        let copies = paths.map { out.appendingPathComponent(URL(fileURLWithPath: $0).lastPathComponent).path }
        o.subtract = true
        let r = try SkyMatch.run(paths, options: o, output: .copies(copies))
        #expect(r.chips.map(\.output) == copies)
        for (k, copy) in copies.enumerated() {
            let image = try FITS.readImage(copy)
            let sky = try #require(image.header.double("SKYVALUE"))
            #expect(abs(sky - [10.0, 14][k]) < 0.05)
            #expect(image.header.bool("SKYSUB") == true && image.header.string("SKYMETH") == "global+match")
            #expect(image.header.string("SKYSTAT") == "median" && image.header.bool("SKYVALID") == true)
            #expect(image.header.history.contains { $0.hasPrefix("astrotool skymatch: global+match (median) sky") })
            #expect(abs(Statistics.median(image.pixels)) < 0.05)
            #expect(image.header.string("CTYPE1") == "RA---TAN")
        }
        #expect(try paths.map { try Data(contentsOf: URL(fileURLWithPath: $0)) } == before)
        // An existing output is refused before anything is written.
        #expect(throws: AstroError.self) { try SkyMatch.run(paths, options: o, output: .copies(copies)) }
        // Writing into sky-subtracted data without --subtract would mix the two modes.
        o.subtract = false
        let again = copies.map { $0 + ".2.fits" }
        #expect(throws: AstroError.self) { try SkyMatch.run(copies, options: o, output: .copies(again)) }
        #expect(!FileManager.default.fileExists(atPath: again[0]))
    }

    @Test func singleImageAndAllNaNChipAreRefused() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        var m = SyntheticMosaic()
        m.size = 50
        let paths = try m.write([SyntheticMosaic.frame(around: 10, 0, xi: 0, eta: 0, sky: 1)], into: dir)
        #expect { try SkyMatch.run(paths, options: SkyMatchOptions(), output: .report) } throws: {
            ($0 as? AstroError)?.exitCode == 65 && "\($0)".contains("only one image")
        }
        var nan = try FITS.readImage(paths[0])
        nan.pixels = [Float](repeating: .nan, count: nan.pixels.count)
        let bad = dir.appendingPathComponent("nan.fits").path
        try FITSWriter.write([OutputHDU(nan)], to: bad, overwrite: false)
        #expect { try SkyMatch.run(paths + [bad], options: SkyMatchOptions(), output: .report) } throws: {
            ($0 as? AstroError)?.exitCode == 65 && "\($0)".contains("nan.fits") && "\($0)".contains("no finite pixel")
        }
    }
}
