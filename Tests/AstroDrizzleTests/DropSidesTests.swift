@testable import AstroDrizzle
import AstroTestSupport
import Foundation
import Testing

/// The square kernel's overlap areas (`DropSides`, no branch per pixel) against the area of the
/// drop's quadrilateral clipped to each pixel by Sutherland–Hodgman, on drops of every rotation,
/// scale and position, and on the sides the arithmetic finds hardest: exactly and nearly
/// horizontal or vertical.
@Suite struct DropSidesTests {
    typealias P = (x: Double, y: Double)

    /// Area of the convex polygon `poly` inside the unit pixel [x0, x0+1] × [y0, y0+1], signed as
    /// `poly` runs (positive counter-clockwise).
    static func clippedArea(_ poly: [P], _ x0: Double, _ y0: Double) -> Double {
        var p = poly
        func clip(_ inside: (P) -> Bool, _ cross: (P, P) -> P) {
            var out: [P] = []
            for k in p.indices {
                let a = p[k], b = p[(k + 1) % p.count]
                if inside(b) {
                    if !inside(a) { out.append(cross(a, b)) }
                    out.append(b)
                } else if inside(a) {
                    out.append(cross(a, b))
                }
            }
            p = out
        }
        func atX(_ x: Double) -> (P, P) -> P { { a, b in (x, a.y + (b.y - a.y) * (x - a.x) / (b.x - a.x)) } }
        func atY(_ y: Double) -> (P, P) -> P { { a, b in (a.x + (b.x - a.x) * (y - a.y) / (b.y - a.y), y) } }
        clip({ $0.x >= x0 }, atX(x0)); if p.isEmpty { return 0 }
        clip({ $0.x <= x0 + 1 }, atX(x0 + 1)); if p.isEmpty { return 0 }
        clip({ $0.y >= y0 }, atY(y0)); if p.isEmpty { return 0 }
        clip({ $0.y <= y0 + 1 }, atY(y0 + 1)); if p.isEmpty { return 0 }
        var s = 0.0
        for k in p.indices { let a = p[k], b = p[(k + 1) % p.count]; s += a.x * b.y - b.x * a.y }
        return s / 2
    }

    /// Every pixel of the drop's bounding box: DropSides' area against the clipped polygon's.
    static func worst(_ q: Quad) -> (difference: Double, total: Double) {
        let sides = DropSides(q), poly: [P] = [(q.x0, q.y0), (q.x1, q.y1), (q.x2, q.y2), (q.x3, q.y3)]
        let xs = [q.x0, q.x1, q.x2, q.x3], ys = [q.y0, q.y1, q.y2, q.y3]
        var worst = 0.0, total = 0.0
        for i in Int((xs.min()! + 0.5).rounded(.down))...Int((xs.max()! + 0.5).rounded(.down)) {
            let column = sides.column(Double(i) - 0.5)
            for j in Int((ys.min()! + 0.5).rounded(.down))...Int((ys.max()! + 0.5).rounded(.down)) {
                let mine = column.area(Double(j) - 0.5)
                // The kernel's corners run clockwise on screen (y down) and its sides' areas come out
                // with the opposite sign of the shoelace's; only magnitudes matter to the drop.
                let truth = clippedArea(poly, Double(i) - 0.5, Double(j) - 0.5)
                worst = max(worst, abs(abs(mine) - abs(truth)))
                total += mine
            }
        }
        return (worst, abs(total))
    }

    static func square(cx: Double, cy: Double, side: Double, angle: Double) -> Quad {
        let c = cos(angle) * side / 2, s = sin(angle) * side / 2
        var q = Quad()
        (q.x0, q.y0) = (cx - c - s, cy - s + c); (q.x1, q.y1) = (cx + c - s, cy + s + c)
        (q.x2, q.y2) = (cx + c + s, cy + s - c); (q.x3, q.y3) = (cx - c + s, cy - s - c)
        return q
    }

    @Test func randomDropsMatchClippedPolygons() {
        var rng = SeededGenerator(seed: 1)
        var worst = 0.0
        for _ in 0..<2000 {
            let side = Double.random(in: 0.05...3, using: &rng)
            let q = Self.square(cx: Double.random(in: 100...101, using: &rng), cy: Double.random(in: 2000...2001, using: &rng),
                                side: side, angle: Double.random(in: 0..<(2 * .pi), using: &rng))
            let (d, total) = Self.worst(q)
            worst = max(worst, d)
            #expect(abs(total - side * side) < 1e-9 * max(1, side * side))
        }
        #expect(worst < 1e-10)
    }

    @Test func alignedAndNearlyAlignedSides() {
        for angle in [0.0, 1e-15, 1e-12, 1e-9, -1e-13, .pi / 2, .pi / 2 + 1e-14, .pi / 4] {
            for (cx, cy) in [(10.0, 20.0), (10.3, 20.2), (10.5, 20.5), (10.5 + 1e-13, 20.5 - 1e-13)] {
                let q = Self.square(cx: cx, cy: cy, side: 1, angle: angle)
                let (d, total) = Self.worst(q)
                #expect(d < 1e-10, "angle \(angle) at (\(cx), \(cy)): \(d)")
                #expect(abs(total - 1) < 1e-12)
            }
        }
        // An aligned unit drop at (0.3, 0.2) off a pixel centre: 0.7×0.8, 0.3×0.8, 0.7×0.2, 0.3×0.2.
        let sides = DropSides(Self.square(cx: 10.3, cy: 20.2, side: 1, angle: 0))
        let here = sides.column(9.5), right = sides.column(10.5)
        #expect(abs(abs(here.area(19.5)) - 0.56) < 1e-14)
        #expect(abs(abs(right.area(19.5)) - 0.24) < 1e-14)
        #expect(abs(abs(here.area(20.5)) - 0.14) < 1e-14)
        #expect(abs(abs(right.area(20.5)) - 0.06) < 1e-14)
        #expect(here.area(21.5) == 0 && sides.column(8.5).area(19.5) == 0)
    }

    /// A drop inside 2×2 pixels: `block`'s four areas (from a column, a row and the total)
    /// against each pixel's own clipping, and exactly zero where the drop misses a pixel. The
    /// drops sit near (100, 2000), where one rounding of a coordinate is up to 1.1e-13 and an
    /// area difference carries several: over 40 seeds the worst was 1.12e-12, so the bound is
    /// 4e-12 (this test first drew from the system generator against 1e-12 and failed in some
    /// runs of the suite; its drops are now seeded, the same on every run).
    @Test(arguments: [UInt64(13), 14, 15]) func blockOfFourMatchesPixelByPixel(seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        var tested = 0, worst = 0.0
        for k in 0..<4000 {
            // Every 8th an aligned drop, which touches or misses whole pixels.
            let angle = k % 8 == 0 ? 0 : Double.random(in: 0..<(2 * .pi), using: &rng)
            let q = Self.square(cx: Double.random(in: 100...101, using: &rng), cy: Double.random(in: 2000...2001, using: &rng),
                                side: Double.random(in: 0.05...1.4, using: &rng), angle: angle)
            let xs = [q.x0, q.x1, q.x2, q.x3], ys = [q.y0, q.y1, q.y2, q.y3]
            let ox = (xs.min()! + 0.5).rounded(.down) - 0.5, oy = (ys.min()! + 0.5).rounded(.down) - 0.5
            guard xs.max()! <= ox + 2, ys.max()! <= oy + 2 else { continue }
            tested += 1
            let sides = DropSides(q), b = sides.block(ox, oy), a = [b.0, b.1, b.2, b.3]
            let cells = [(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)]
            for (lane, (dx, dy)) in cells.enumerated() {
                let exact = sides.column(ox + dx).area(oy + dy)
                worst = max(worst, abs(a[lane] - exact))
                if exact == 0 { #expect(a[lane] == 0) }
            }
        }
        #expect(tested > 1000)
        #expect(worst < 4e-12, "worst \(worst)")
    }

    /// Four drops in vector lanes (`SquareLanes`) against one drop at a time (`dropSquare`'s
    /// extent and block test, `DropSides.block`): the same block decision, pixel and areas, bit
    /// for bit, on drops of every rotation and scale near 1, some straddling three pixels, some
    /// crossing a band's edge.
    @Test func fourLanesAreOneDropAtATime() {
        var rng = SeededGenerator(seed: 21)
        let n = 64, rows = 1990..<2010, columns = 95..<106
        var planes = [Double](repeating: 0, count: 8 * n), blocks = 0
        for _ in 0..<500 {
            var quads: [Quad] = []
            for i in 0..<n {
                let q = Self.square(cx: Double.random(in: 94...106, using: &rng), cy: Double.random(in: 1989...2011, using: &rng),
                                    side: Double.random(in: 0.8...1.3, using: &rng), angle: Double.random(in: -0.4...0.4, using: &rng))
                quads.append(q)
                for (p, v) in [q.x0, q.y0, q.x1, q.y1, q.x2, q.y2, q.x3, q.y3].enumerated() { planes[p * n + i] = v }
            }
            planes.withUnsafeBufferPointer { pp in
                for i in stride(from: 0, to: n, by: 4) {
                    #expect(SquareLanes.finite(pp.baseAddress!, column: i, planeSize: n))
                    let lanes = SquareLanes(pp.baseAddress!, column: i, planeSize: n, rows: rows, columns: columns)
                    for l in 0..<4 {
                        let q = quads[i + l]
                        func pixel(_ v: Double) -> Int { Int(min(max(v + 0.5, -1e9), 1e9)) }
                        let ylow = min(min(q.y0, q.y1), min(q.y2, q.y3)), yhigh = max(max(q.y0, q.y1), max(q.y2, q.y3))
                        let xlow = min(min(q.x0, q.x1), min(q.x2, q.x3)), xhigh = max(max(q.x0, q.x1), max(q.x2, q.x3))
                        let j0 = max(pixel(ylow), rows.lowerBound), j1 = min(pixel(yhigh), rows.upperBound - 1)
                        let i0 = max(pixel(xlow), columns.lowerBound), i1 = min(pixel(xhigh), columns.upperBound - 1)
                        let ox = Double(i0) - 0.5, oy = Double(j0) - 0.5
                        let block = i1 == i0 + 1 && j1 == j0 + 1 && xlow >= ox && xhigh <= ox + 2 && ylow >= oy && yhigh <= oy + 2
                        #expect(lanes.block[l] == block)
                        guard block else { continue }
                        blocks += 1
                        let jaco = 0.5 * ((q.x1 - q.x3) * (q.y0 - q.y2) - (q.x0 - q.x2) * (q.y1 - q.y3))
                        let a = DropSides(q).block(ox, oy)
                        #expect(Int(lanes.i0[l]) == i0 && Int(lanes.j0[l]) == j0 && lanes.jaco[l].bitPattern == jaco.bitPattern)
                        #expect(lanes.a00[l].bitPattern == a.0.bitPattern && lanes.a10[l].bitPattern == a.1.bitPattern)
                        #expect(lanes.a01[l].bitPattern == a.2.bitPattern && lanes.a11[l].bitPattern == a.3.bitPattern)
                    }
                }
            }
        }
        #expect(blocks > 5000)
        // A corner that is not finite keeps its four drops out of the lanes.
        planes[3 * n + 2] = .nan
        #expect(!planes.withUnsafeBufferPointer { SquareLanes.finite($0.baseAddress!, column: 0, planeSize: n) })
    }
}
