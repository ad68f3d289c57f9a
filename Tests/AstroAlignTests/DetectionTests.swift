@testable import AstroAlign
import AstroImage
import AstroTestSupport
import Foundation
import Testing

/// Detection: centroids, FWHM and flags against rendered stars of known position.
@Suite struct DetectionTests {
    /// A 7×7 lattice of isolated stars with random sub-pixel offsets.
    static func lattice(seed: UInt64, flux: Double) -> (image: Image, stars: [SyntheticStars.Star]) {
        var rng = SeededGenerator(seed: seed)
        var stars: [SyntheticStars.Star] = []
        for j in 0..<7 {
            for i in 0..<7 {
                let dx = Double.random(in: -0.5..<0.5, using: &rng), dy = Double.random(in: -0.5..<0.5, using: &rng)
                let x: Double = 30 + Double(i) * 40 + dx, y: Double = 30 + Double(j) * 40 + dy
                stars.append(SyntheticStars.Star(x: x, y: y, flux: flux))
            }
        }
        let pixels = SyntheticStars.render(stars, width: 300, height: 300, fwhm: 3.0, seed: seed)
        return (Image(width: 300, height: 300, pixels: pixels), stars)
    }

    static func nearest(_ d: Detection, in stars: [SyntheticStars.Star]) -> Double {
        stars.map { (($0.x - d.x) * ($0.x - d.x) + ($0.y - d.y) * ($0.y - d.y)).squareRoot() }.min()!
    }

    @Test func brightCentroidsAndFWHM() throws {
        let (image, stars) = Self.lattice(seed: 7, flux: 50_000)
        let found = try Detector.detect(image)
        #expect(found.count == stars.count)
        let errors = found.map { Self.nearest($0, in: stars) }
        let rms = (errors.map { $0 * $0 }.reduce(0, +) / Double(errors.count)).squareRoot()
        let bary = found.map { d -> Double in
            var c = d
            c.x = d.xBarycentre; c.y = d.yBarycentre
            return Self.nearest(c, in: stars)
        }
        let baryRMS = (bary.map { $0 * $0 }.reduce(0, +) / Double(bary.count)).squareRoot()
        print("detection: bright windowed centroid rms \(rms) px, barycentre rms \(baryRMS) px")
        #expect(rms < 0.02)
        #expect(rms < baryRMS)
        let fwhm = found.map(\.fwhm).sorted()[found.count / 2]
        #expect(abs(fwhm - 3.0) < 0.35, "median FWHM \(fwhm)")
        // Reported errors are of the right size: the measured scatter is within 3x of them.
        let claimed = found.map(\.positionError).sorted()[found.count / 2]
        #expect(claimed > rms / 3 / 2.0.squareRoot() && claimed < rms * 3)
    }

    @Test func faintCentroidsAndFlags() throws {
        let (image, stars) = Self.lattice(seed: 8, flux: 3_000)
        let found = try Detector.detect(image)
        #expect(found.count >= stars.count - 2 && found.count <= stars.count)
        let errors = found.map { Self.nearest($0, in: stars) }
        let rms = (errors.map { $0 * $0 }.reduce(0, +) / Double(errors.count)).squareRoot()
        print("detection: faint (S/N ~ 30) centroid rms \(rms) px")
        #expect(rms < 0.15)
        #expect(found.allSatisfy { $0.flags == 0 })

        // A star cut by the border is flagged 8; saturation flags 4.
        let edge = SyntheticStars.render([SyntheticStars.Star(x: 1, y: 150, flux: 50_000), SyntheticStars.Star(x: 150, y: 150, flux: 50_000)],
                                         width: 300, height: 300, fwhm: 3, seed: 3)
        var o = DetectionOptions()
        o.saturation = 3000
        let flagged = try Detector.detect(Image(width: 300, height: 300, pixels: edge), options: o).sorted { $0.x < $1.x }
        #expect(flagged.count == 2)
        #expect(flagged[0].flags == DetectionFlag.truncated | DetectionFlag.saturated)
        #expect(flagged[1].flags == DetectionFlag.saturated)
    }

    @Test func catalogueRoundTripIsOneBased() throws {
        let (image, _) = Self.lattice(seed: 9, flux: 20_000)
        let found = try Detector.detect(image).sorted { $0.flux > $1.flux }
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let path = dir.appendingPathComponent("a.cat").path
        try Catalogue.text(found).write(toFile: path, atomically: true, encoding: .utf8)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix("#   1 NUMBER"))
        #expect(text.contains("#   2 X_IMAGE"))
        let back = try Catalogue.read(path)
        #expect(back.count == found.count)
        for (a, b) in zip(found, back) {
            #expect(abs(a.x - b.x) < 1e-3 && abs(a.y - b.y) < 1e-3)
        }
        // Columns by name, 0-based: X_IMAGE is the barycentre.
        var columns = CatalogueColumns()
        columns.x = "X_IMAGE"; columns.y = "Y_IMAGE"; columns.origin = 0
        let raw = try Catalogue.read(path, columns: columns)
        #expect(abs(raw[0].x - (found[0].xBarycentre + 1)) < 1e-3)

        let bad = dir.appendingPathComponent("bad.cat").path
        try "#   1 NUMBER\n#   2 X_IMAGE\n1 10.0\n".write(toFile: bad, atomically: true, encoding: .utf8)
        #expect { try Catalogue.read(bad) } throws: { error in
            let e = error as! AstroError
            return e.kind == .badData && e.file == bad && e.reason.contains("no y column")
        }
    }

    @Test func allNaNAndBlankImages() throws {
        let nan = Image(width: 64, height: 64, pixels: [Float](repeating: .nan, count: 64 * 64))
        #expect { try Detector.detect(nan) } throws: { ($0 as! AstroError).reason.contains("no finite pixel") }
        // Pure noise: nothing (or almost nothing) above 5 sigma.
        var rng = SeededGenerator(seed: 5)
        let noise = Image(width: 256, height: 256, pixels: (0..<(256 * 256)).map { _ in Float(100 + 10 * rng.gaussian()) })
        #expect(try Detector.detect(noise).count <= 2)
    }
}
