import AstroFITS
import AstroImage
import AstroTestSupport
@testable import AstroSky
import Foundation
import Testing

/// Exposures of two chips each (MEF with SCI and DQ), flagged and masked artefacts, in-place writing.
@Suite struct GroupTests {
    static let truth = [20.0, 23, 18.5]

    /// Three dithered exposures, each two 200 px chips with a 10 px gap; chip 1 of every
    /// exposure has a DQ-flagged hot block, chip 2 an unflagged bright block masked by `--mask`.
    static func exposures(into dir: URL) throws -> (paths: [String], masks: [String]) {
        var m = SyntheticMosaic()
        m.size = 200
        m.galaxy = .init(ra: 60, dec: 10, peak: 40, scaleArcsec: 50)
        var paths: [String] = [], masks: [String] = []
        for (e, sky) in truth.enumerated() {
            var hdus = [OutputHDU.headerOnly(Header())]
            var maskHDUs: [OutputHDU] = []
            for c in 0..<2 {
                let f = SyntheticMosaic.frame(around: 60, 10, xi: Double(c == 0 ? -105 : 105) + Double(e) * 40,
                                              eta: Double(e) * 50, sky: sky)
                var image = try m.image(f, index: 2 * e + c)
                var dq = [Float](repeating: 0, count: 200 * 200), user = dq
                for y in 80..<100 {
                    for x in 90..<110 {
                        if c == 0 { image.pixels[y * 200 + x] = 5e4; dq[y * 200 + x] = 4 }
                        else { image.pixels[y * 200 + x] = 1e4; user[y * 200 + x] = 1 }
                    }
                }
                hdus.append(OutputHDU(image, extname: "SCI", extver: c + 1))
                hdus.append(OutputHDU(Image(width: 200, height: 200, pixels: dq), extname: "DQ", extver: c + 1, pixelType: .int16))
                maskHDUs.append(OutputHDU(Image(width: 200, height: 200, pixels: user), extname: "MASK", extver: c + 1, pixelType: .uint8))
            }
            let path = dir.appendingPathComponent("exp\(e + 1).fits").path
            try FITSWriter.write(hdus, to: path, overwrite: false)
            let mask = dir.appendingPathComponent("mask\(e + 1).fits").path
            try FITSWriter.write([OutputHDU.headerOnly(Header())] + maskHDUs, to: mask, overwrite: false)
            paths.append(path)
            masks.append(mask)
        }
        return (paths, masks)
    }

    @Test func twoChipExposuresMatchAndAreWrittenInPlace() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let (paths, masks) = try Self.exposures(into: dir)
        var o = SkyMatchOptions()
        o.masks = masks
        o.stats.statistic = .mode
        let r = try SkyMatch.run(paths, options: o, output: .report)
        #expect(r.chips.count == 6 && Set(r.chips.map(\.group)).count == 3)
        #expect(r.chips.map(\.image).first == paths[0] + "[SCI,1]")
        var perGroup: [Double] = []
        for k in stride(from: 0, to: 6, by: 2) {
            #expect(r.chips[k].sky == r.chips[k + 1].sky)
            perGroup.append(r.chips[k].sky!)
        }
        let error = SyntheticMosaic.relativeError(perGroup, truth: Self.truth)
        print("skymatch groups global+match mode: \(perGroup.map { String(format: "%.3f", $0) }) error \(String(format: "%.4f", error))")
        #expect(error <= 0.02, "\(perGroup)")

        // In place: every SCI gets its keyword, the DQ planes come back as they were.
        o.subtract = true
        _ = try SkyMatch.run(paths, options: o, output: .inPlace)
        for (e, path) in paths.enumerated() {
            for c in 1...2 {
                let sci = try FITS.readImage("\(path)[SCI,\(c)]")
                #expect(sci.header.double("SKYVALUE") == perGroup[e] && sci.header.bool("SKYSUB") == true)
                let dq = try FITS.readImage("\(path)[DQ,\(c)]")
                #expect(dq.pixels.filter { $0 == 4 }.count == (c == 1 ? 400 : 0))
            }
            #expect(try FITS.listHDUs(path).map(\.extname) == [nil, "SCI", "DQ", "SCI", "DQ"])
        }
    }

    @Test func maskOfAnotherShapeIsRefused() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let (paths, _) = try Self.exposures(into: dir)
        let small = dir.appendingPathComponent("small.fits").path
        try FITSWriter.write([OutputHDU(Image(width: 10, height: 10, value: 0))], to: small, overwrite: false)
        var o = SkyMatchOptions()
        o.masks = [small, small, small]
        #expect { try SkyMatch.run(paths, options: o, output: .report) } throws: {
            ($0 as? AstroError)?.exitCode == 65 && "\($0)".contains("small.fits")
        }
        o.masks = [small]
        #expect { try SkyMatch.run(paths, options: o, output: .report) } throws: { ($0 as? AstroError)?.exitCode == 64 }
    }
}
