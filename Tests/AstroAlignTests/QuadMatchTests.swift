@testable import AstroAlign
import AstroFITS
import AstroImage
import AstroTestSupport
import Foundation
import Testing

/// `--match quads`: spalipy's 4-star hash codes on the synthetic pairs of RegistrationTests.
@Suite struct QuadMatchTests {
    static func quadOptions(_ change: (inout RegistrationOptions) -> Void = { _ in }) -> RegistrationOptions {
        var o = RegistrationOptions()
        o.matching = .quads
        change(&o)
        return o
    }

    @Test(arguments: [("base", 3.5, 1.012, false), ("rot90", 93.0, 1.012, false), ("rot180", 183.0, 1.012, false),
                      ("flip", 3.5, 1.012, true), ("scale 1.05", 3.5, 1.05, false)])
    func recoversTheTransform(_ name: String, _ rotation: Double, _ scale: Double, _ flip: Bool) throws {
        let truth = RegistrationTests.truth(rotation: rotation, scale: scale, flip: flip)
        let (reg, rms) = try RegistrationTests.register(truth, options: Self.quadOptions())
        let r = reg.report
        print("quads \(name): rms vs truth \(rms) px; \(r.hypotheses) candidates, \(r.initialMatches) initial matches; model \(r.model), \(r.used)/\(r.matches) matches")
        #expect(r.matching == "quads")
        #expect(rms <= 0.05)
        #expect(r.parity == (flip ? "flipped" : "normal"))
        #expect(abs(r.scaleX - 1 / scale) < 0.002 && abs(r.scaleY - 1 / scale) < 0.002)
        let expected = flip ? rotation : -rotation
        let dr = abs((r.rotation - expected).truncatingRemainder(dividingBy: 360))
        #expect(min(dr, abs(dr - 360)) < 0.1, "rotation \(r.rotation), expected \(expected)")
        #expect(r.used >= 30)
    }

    @Test func subTilesAndEdgeBuffer() throws {
        let truth = RegistrationTests.truth(rotation: 3.5)
        let (tiled, rms) = try RegistrationTests.register(truth, options: Self.quadOptions { $0.quads.subTile = 2 })
        print("quads, 2x2 sub-tiles: rms vs truth \(rms) px; \(tiled.report.hypotheses) candidates, \(tiled.report.initialMatches) initial matches")
        #expect(tiled.report.matching == "quads" && rms <= 0.05)
        let (buffered, rmsB) = try RegistrationTests.register(truth, options: Self.quadOptions { $0.quads.edgeBuffer = 60 })
        #expect(buffered.report.matching == "quads" && rmsB <= 0.05)
        // A parity that cannot explain the pair finds no candidate worth keeping.
        #expect(throws: AstroError.self) { try RegistrationTests.register(truth, options: Self.quadOptions { $0.flip = true }) }
    }

    /// The code does not change under shift, rotation and scale, and pairs the vertices; a
    /// mirror changes it (hence the parity retry with the source mirrored).
    @Test func codeInvariance() throws {
        let xs = [10.0, 250, 90, 200], ys = [20.0, 230, 160, 60]
        let q = try #require(QuadMatch.quads(xs, ys, [0, 1, 2, 3], minSeparation: 50).first)
        #expect(q.code[0] <= q.code[2] && q.code[0] + q.code[2] <= 1)
        let moved = AffineMap.similarity(scale: 1.7, rotation: 123, shiftX: 40, shiftY: -300)
        let m = xs.indices.map { moved.apply(xs[$0], ys[$0]) }
        // Listed in another order: the code's vertex order is the same.
        let perm = [2, 0, 3, 1]
        let q2 = try #require(QuadMatch.quads(perm.map { m[$0].x }, perm.map { m[$0].y }, [0, 1, 2, 3], minSeparation: 50).first)
        #expect(((q.code - q2.code) * (q.code - q2.code)).sum().squareRoot() < 1e-12)
        #expect([q2.a, q2.b, q2.c, q2.d].map { perm[$0] } == [q.a, q.b, q.c, q.d])
        let mirrored = try #require(QuadMatch.quads(xs.map { -$0 }, ys, [0, 1, 2, 3], minSeparation: 50).first)
        #expect(((q.code - mirrored.code) * (q.code - mirrored.code)).sum().squareRoot() > 0.05)
        // One pair 148 px apart: no quad at 150.
        #expect(QuadMatch.quads(xs, ys, [0, 1, 2, 3], minSeparation: 150).isEmpty)
        // The exact similarity of two point pairs.
        let s = try #require(QuadMatch.similarity(from: (xs[0], ys[0]), (xs[1], ys[1]), to: m[0], m[1]))
        let p = s.apply(xs[2], ys[2])
        #expect(abs(p.x - m[2].x) < 1e-9 && abs(p.y - m[2].y) < 1e-9)
    }

    /// The code grid finds what a scan of every code finds.
    @Test func codeIndexMatchesAScan() {
        var rng = SeededGenerator(seed: 5)
        let codes = (0..<3000).map { _ in SIMD4((0..<4).map { _ in Double.random(in: -0.3..<1.3, using: &rng) }) }
        let indexes = [0.005, 0.02].map { QuadMatch.CodeIndex(codes, radius: $0) }
        for k in 0..<300 {
            let probe = codes[k * 7] + SIMD4((0..<4).map { _ in Double.random(in: -0.01..<0.01, using: &rng) })
            for index in indexes {
                let scan = codes.indices.map { ($0, ((codes[$0] - probe) * (codes[$0] - probe)).sum().squareRoot()) }
                    .filter { $0.1 < index.radius }.min { $0.1 < $1.1 }
                let found = index.nearest(probe)
                #expect(found?.index == scan?.0 && found?.distance == scan?.1)
            }
        }
    }

    @Test func tilesAndEdgeBuffer() {
        let xs = [5.0, 150, 399, 210, 390, 60], ys = [5.0, 30, 399, 210, 10, 380]
        #expect(QuadMatch.tiles(xs, ys, frame: (400, 400), count: 2) == [[0, 1], [4], [5], [2, 3]])
        #expect(QuadMatch.tiles(xs, ys, frame: (400, 400), count: 1) == [[0, 1, 2, 3, 4, 5]])
        #expect(QuadMatch.quadStars([0, 1, 2, 3, 4, 5], xs, ys, frame: (400, 400), buffer: 20, n: 20) == [1, 3])
        #expect(QuadMatch.quadStars([0, 1, 2, 3, 4, 5], xs, ys, frame: (400, 400), buffer: 0, n: 4) == [0, 1, 2, 3])
    }

    /// A field whose stars crowd a 45 px square (a 4×4 grid): no four are 50 px apart. The
    /// error names the file; triangles register the same pair.
    @Test func sparseFieldNamesTheFile() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        var rng = SeededGenerator(seed: 9)
        let stars = (0..<16).map { k in
            SyntheticStars.Star(x: 180 + 15 * Double(k % 4) + Double.random(in: -1..<1, using: &rng),
                                y: 180 + 15 * Double(k / 4) + Double.random(in: -1..<1, using: &rng),
                                flux: Double.random(in: 5_000..<50_000, using: &rng))
        }
        let shift = stars.map { SyntheticStars.Star(x: $0.x + 7.3, y: $0.y - 4.1, flux: $0.flux) }
        let template = dir.appendingPathComponent("tmpl.fits").path, source = dir.appendingPathComponent("sparse.fits").path
        for (path, list, seed) in [(template, stars, UInt64(1)), (source, shift, 2)] {
            let pixels = SyntheticStars.render(list, width: 400, height: 400, fwhm: 3, seed: seed)
            try FITSWriter.write([OutputHDU(Image(width: 400, height: 400, pixels: pixels))], to: path, overwrite: false)
        }
        var o = AlignOptions()
        o.registration.matching = .quads
        let out = dir.appendingPathComponent("out.fits").path
        #expect { try Align.run(source: source, template: .image(template), sourceCatalogue: nil, output: out, options: o, overwrite: false) }
            throws: { error in
                let e = error as! AstroError
                print("quads on a sparse field: \(e)")
                return e.kind == .badData && e.file == source && e.reason.contains("too sparse for quads") && e.reason.contains("50 px")
            }
        #expect(!FileManager.default.fileExists(atPath: out))
        o.registration.matching = .triangles
        let r = try Align.run(source: source, template: .image(template), sourceCatalogue: nil, output: out, options: o, overwrite: false)
        #expect(r.transform.matching == "triangles" && abs(r.transform.shiftX + 7.3) < 0.1)
    }
}
