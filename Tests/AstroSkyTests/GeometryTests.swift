import AstroImage
import AstroTestSupport
import AstroWCS
@testable import AstroSky
import Foundation
import Testing

/// Footprints, their intersections, and the pixels selected in an overlap.
@Suite struct GeometryTests {
    static func chip(ra: Double, dec: Double, rotation: Double = 0, size: Int = 100, scale: Double = 1,
                     value: Float = 0, step: Int = 64) throws -> SkyChip {
        let wcs = try WCS.tan(ra: ra, dec: dec, pixelScale: scale, rotation: rotation, width: size, height: size)
        let outline = wcs.footprint(width: size, height: size, step: step)
        let polygon = SphericalPolygon(ra: outline.map(\.ra), dec: outline.map(\.dec))!
        return SkyChip(name: "t", input: 0, file: "t.fits", hdu: 0, width: size, height: size,
                       pixels: [Float](repeating: value, count: size * size), header: Header(),
                       excluded: [UInt8](repeating: 0, count: size * size), wcs: wcs, footprint: polygon)
    }

    @Test func footprintAreaIsTheChipsArea() throws {
        let c = try Self.chip(ra: 150, dec: 60, rotation: 30, size: 400, scale: 0.5)
        let arcsec2 = c.footprint.area * pow(180 / Double.pi * 3600, 2)
        #expect(TestSupport.close(arcsec2, 200 * 200, rel: 1e-6), "\(arcsec2)")
    }

    @Test func intersectionsOfShiftedIdenticalAndDistantChips() throws {
        let a = try Self.chip(ra: 10, dec: -30)
        let same = try Self.chip(ra: 10, dec: -30)
        let whole = try #require(a.footprint.intersection(same.footprint))
        #expect(TestSupport.close(whole.area, a.footprint.area, rel: 1e-9))
        // Half a chip to the west: half the area (RA grows east, to the left at rotation 0).
        let half = try Self.chip(ra: 10 - 50.0 / 3600 / cos(30 * Double.pi / 180), dec: -30)
        let common = try #require(a.footprint.intersection(half.footprint))
        #expect(TestSupport.close(common.area, a.footprint.area / 2, rel: 1e-3))
        let far = try Self.chip(ra: 12, dec: -30)
        #expect(a.footprint.intersection(far.footprint) == nil)
    }

    /// stcal's overlap test: 10×10 chips one pixel apart share exactly 9 columns, both ways.
    @Test func onePixelShiftSelectsNinetyPixelsBothWays() throws {
        let a = try Self.chip(ra: 1, dec: 0, size: 10, scale: 6)
        let b = try Self.chip(ra: 1 - 6.0 / 3600, dec: 0, size: 10, scale: 6)
        for (p, q) in [(a, b), (b, a)] {
            var seen = [Float](repeating: .nan, count: 100)
            Overlap.sample(&seen, of: p, from: q, region: try #require(p.footprint.intersection(q.footprint)))
            #expect(seen.filter { !$0.isNaN }.count == 90)
        }
    }

    /// The overlap grid takes the coarsest step whose interpolation keeps the map within 1e-5 px:
    /// 64 px for two arcsecond-scale chips, finer for a wide field seen from another tangent
    /// point; the map holds at pixels between the probes too.
    @Test func overlapGridStepKeepsTheMapWithinTolerance() throws {
        for (scale, offset, coarsest) in [(0.4, 20.0, true), (2.0, 200.0, false), (5.0, 200.0, false)] {
            let a = try Self.chip(ra: 150, dec: 30, size: 512, scale: scale)
            let b = try Self.chip(ra: 150 + offset * scale / 3600, dec: 30 + offset * scale / 7200, rotation: 0.3, size: 512, scale: scale)
            let g = Overlap.grid((x: 0...511, y: 0...511), of: a, from: b)
            #expect((g.step == 64) == coarsest && g.step > Overlap.finestStep, "scale \(scale): step \(g.step)")
            var worst = 0.0
            for k in 0..<400 {
                let x = (k * 37 + 5) % 512, y = (k * 91 + 3) % 512
                let (i0, i1, fx) = Overlap.cell(x, g.xs, g.step), (j0, j1, fy) = Overlap.cell(y, g.ys, g.step)
                let nx = g.xs.count
                func at(_ i: Int, _ j: Int) -> (Double, Double) { (g.mapped.x[j * nx + i], g.mapped.y[j * nx + i]) }
                let (p00, p01, p10, p11) = (at(i0, j0), at(i1, j0), at(i0, j1), at(i1, j1))
                let gx = (1 - fy) * ((1 - fx) * p00.0 + fx * p01.0) + fy * ((1 - fx) * p10.0 + fx * p11.0)
                let gy = (1 - fy) * ((1 - fx) * p00.1 + fx * p01.1) + fy * ((1 - fx) * p10.1 + fx * p11.1)
                let sky = a.wcs.pixelToWorld(x: [Double(x)], y: [Double(y)])
                let exact = b.wcs.worldToPixel(ra: sky.ra, dec: sky.dec)
                worst = max(worst, abs(exact.x[0] - gx), abs(exact.y[0] - gy))
            }
            #expect(worst <= Overlap.tolerance, "scale \(scale): step \(g.step), worst \(worst) px")
        }
    }

    @Test func rotatedOverlapMatchesItsArea() throws {
        let a = try Self.chip(ra: 200, dec: 45, size: 300)
        let b = try Self.chip(ra: 200 + 100.0 / 3600 / cos(45 * Double.pi / 180), dec: 45 + 60.0 / 3600, rotation: 25, size: 300)
        let region = try #require(a.footprint.intersection(b.footprint))
        var seen = [Float](repeating: .nan, count: 300 * 300)
        Overlap.sample(&seen, of: a, from: b, region: region)
        let selected = Double(seen.filter { !$0.isNaN }.count)
        let area = region.area * pow(180 / Double.pi * 3600, 2)
        // Pixel centres inside the overlap: its area in px², up to about half its perimeter.
        #expect(abs(selected - area) < 2 * area.squareRoot() * 2, "selected \(selected), area \(area)")
    }

    /// Sampled values against bilinear interpolation at the exact map, masks of both chips
    /// included: for a shifted twin (each run of eight pixels read as whole rows of b) and a
    /// rotated chip (each pixel's cell read on its own). b's pixels are linear in x and y, so
    /// interpolation is exact and only the map's 1e-5 px tolerance separates the two.
    @Test(arguments: [0.0, 20.0]) func sampledValuesAreBilinearAtTheMap(rotation: Double) throws {
        let size = 200
        var rng = SeededGenerator(seed: 17)
        func masked(_ c: SkyChip, values: [Float]) -> SkyChip {
            let excluded = (0..<size * size).map { _ in UInt8(rng.next() % 50 == 0 ? 1 : 0) }
            return SkyChip(name: "t", input: 0, file: "t.fits", hdu: 0, width: size, height: size, pixels: values, header: Header(),
                           excluded: excluded, wcs: c.wcs, footprint: c.footprint)
        }
        let a = masked(try Self.chip(ra: 30, dec: 10, size: size), values: [Float](repeating: 0, count: size * size))
        let shifted = try Self.chip(ra: 30 + 3.3 / 3600 / cos(10 * Double.pi / 180), dec: 10 + 2.7 / 3600, rotation: rotation, size: size)
        let b = masked(shifted, values: (0..<size * size).map { Float(0.5 * Double($0 % size) + 0.25 * Double($0 / size)) })
        var seen = [Float](repeating: .nan, count: size * size)
        Overlap.sample(&seen, of: a, from: b, region: try #require(a.footprint.intersection(b.footprint)))
        var checked = 0, interior = 0
        for y in 0..<size {
            let sky = a.wcs.pixelToWorld(x: (0..<size).map(Double.init), y: [Double](repeating: Double(y), count: size))
            let at = b.wcs.worldToPixel(ra: sky.ra, dec: sky.dec)
            for x in 0..<size {
                let px = at.x[x], py = at.y[x], got = seen[y * size + x]
                // Points within 1e-4 px of a cell edge may fall either side at the map's tolerance.
                let fx = px - px.rounded(.down), fy = py - py.rounded(.down)
                guard min(fx, 1 - fx) > 1e-4, min(fy, 1 - fy) > 1e-4, px > -0.4999, py > -0.4999,
                      px < Double(size) - 0.5001, py < Double(size) - 0.5001 else { continue }
                let ix = Int(px.rounded(.down)), iy = Int(py.rounded(.down))
                let corners = [(ix, iy), (ix + 1, iy), (ix, iy + 1), (ix + 1, iy + 1)].map { (min(max($0.0, 0), size - 1), min(max($0.1, 0), size - 1)) }
                let excluded = a.excluded[y * size + x] != 0 || corners.contains { b.excluded[$0.1 * size + $0.0] != 0 }
                if excluded {
                    #expect(got.isNaN, "pixel (\(x), \(y)) is masked: \(got)")
                } else if ix >= 0 && iy >= 0 && ix + 1 < size && iy + 1 < size {
                    // (In the cells along b's edges the interpolation is clamped, not linear.)
                    #expect(abs(Double(got) - (0.5 * px + 0.25 * py)) < 1e-3, "pixel (\(x), \(y)): \(got) at (\(px), \(py))")
                    interior += 1
                } else {
                    #expect(got.isFinite, "pixel (\(x), \(y)) at (\(px), \(py))")
                }
                checked += 1
            }
        }
        #expect(checked > 30_000 && interior > 30_000, "\(checked) checked, \(interior) inside")
    }
}
