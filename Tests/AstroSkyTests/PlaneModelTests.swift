import AstroFITS
import AstroImage
import AstroTestSupport
@testable import AstroSky
import Foundation
import Testing

/// `--model plane` on a seeded 3×2 mosaic whose frames each have their own sky plane, a
/// galaxy over the middle overlaps and σ = 1 noise.
@Suite struct PlaneModelTests {
    static let levels = [10, 12.5, 9, 15, 11, 13]
    static let slopes: [(x: Double, y: Double)] = [(0.02, -0.01), (-0.015, 0.005), (0.01, 0.02), (0, -0.02), (-0.02, 0.01), (0.015, 0)]

    static func mosaic(into dir: URL) throws -> [String] {
        var m = SyntheticMosaic()
        m.galaxy = .init(ra: 150, dec: 30, peak: 60, scaleArcsec: 40)
        let frames = (0..<6).map { k in
            var f = SyntheticMosaic.frame(around: 150, 30, xi: Double(k % 3 - 1) * 220, eta: (Double(k / 3) - 0.5) * 220, sky: levels[k])
            (f.slopeX, f.slopeY) = slopes[k]
            return f
        }
        return try m.write(frames, into: dir)
    }

    @Test func slopesAndLevelsOfEachFrameRecovered() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let paths = try Self.mosaic(into: dir)
        var o = SkyMatchOptions()
        o.model = .plane
        o.method = .match
        let r = try SkyMatch.run(paths, options: o, output: .report)
        let found = r.chips.map { (x: $0.slope![0], y: $0.slope![1]) }
        // A slope shared by every frame cannot be seen in the overlaps: compare after taking
        // out the mean error (the solution has Σ slopes = 0; the truth's mean is removed with it).
        let ex = zip(found, Self.slopes).map { $0.x - $1.x }, ey = zip(found, Self.slopes).map { $0.y - $1.y }
        let mx = ex.reduce(0, +) / 6, my = ey.reduce(0, +) / 6
        let worst = zip(ex, ey).map { max(abs($0 - mx), abs($1 - my)) }.max()!
        // The injected slope differences are up to 0.04 per pixel: 1 % of them is 4e-4.
        print("plane model slopes \(found.map { String(format: "(%.5f %.5f)", $0.x, $0.y) }) worst \(worst)")
        #expect(worst < 4e-4)
        // The levels at the frames' centres carry that unseen common plane too: their errors must
        // be one plane over the centres (ξ, η) = layout offsets, whatever it is.
        let e = zip(r.chips.map { $0.sky! }, Self.levels).map { $0 - $1 }
        var a = [Double](repeating: 0, count: 9), b = [0.0, 0, 0]
        for k in 0..<6 {
            let f = [1, Double(k % 3 - 1) * 220, (Double(k / 3) - 0.5) * 220]
            for i in 0..<3 { for j in 0..<3 { a[i * 3 + j] += f[i] * f[j] }; b[i] += f[i] * e[k] }
        }
        let c = SkyMatchSolver.solve(a, b, 3)
        var level = 0.0
        for k in 0..<6 {
            let xi = Double(k % 3 - 1) * 220, eta = (Double(k / 3) - 0.5) * 220
            level = max(level, abs(e[k] - c[0] - c[1] * xi - c[2] * eta))
        }
        print("plane model levels \(r.chips.map { String(format: "%.4f", $0.sky!) }) error beyond a common plane \(level)")
        #expect(level < 0.02)
        #expect(r.pairs.allSatisfy { $0.slope?.count == 2 })

        // The constant model cannot follow the planes: its levels are off by far more.
        o.model = .constant
        let flat = try SkyMatch.run(paths, options: o, output: .report)
        #expect(SyntheticMosaic.relativeError(flat.chips.map { $0.sky! }, truth: Self.levels) > 0.1)
    }

    @Test func subtractTakesOutTheWholePlane() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let paths = try Self.mosaic(into: dir)
        let out = dir.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        var o = SkyMatchOptions()
        o.model = .plane
        o.subtract = true
        let copies = paths.map { out.appendingPathComponent(URL(fileURLWithPath: $0).lastPathComponent).path }
        let r = try SkyMatch.run(paths, options: o, output: .copies(copies))
        let first = try FITS.readImage(copies[0])
        #expect(first.header.double("SKYSLPX") == r.chips[0].slope![0] && first.header.bool("SKYSUB") == true)
        // What is left is one plane common to all frames (what overlaps cannot see) and the
        // galaxy: matching the subtracted copies finds nothing more to take out.
        o.subtract = false
        o.method = .match
        let again = try SkyMatch.run(copies, options: o, output: .report)
        let slopes = again.chips.flatMap { $0.slope! }.map(abs).max()!
        let levels = again.chips.map { abs($0.sky!) }.max()!
        print("plane model after subtraction: slopes \(slopes), levels \(levels)")
        #expect(slopes < 5e-5 && levels < 0.01)
    }

    @Test func planeNeedsAMatchingMethod() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let paths = try Self.mosaic(into: dir)
        var o = SkyMatchOptions()
        o.model = .plane
        o.method = .local
        #expect { try SkyMatch.run(paths, options: o, output: .report) } throws: { ($0 as! AstroError).kind == .usage }
    }
}
