@testable import AstroDrizzle
import AstroTestSupport
import Testing

/// Four turbo drops in vector lanes (`TurboLanes`) against `Band.dropTurbo`'s usual case written
/// out for one drop: the same decision, pixel and weights, bit for bit, for boxes near 1 pixel
/// wide anywhere on a band (its edges included) and centres on half-pixels, where `nearest`
/// rounds away from zero.
@Suite struct TurboLanesTests {
    @Test func fourLanesAreOneDropAtATime() {
        var rng = SeededGenerator(seed: 8)
        let rows = 10..<30, columns = -5..<40
        var usual = 0
        for _ in 0..<20000 {
            let half = Double.random(in: 0.3...0.7, using: &rng), scale = Double.random(in: 0.5...2, using: &rng)
            var xs = (0..<4).map { _ in Double.random(in: -8...43, using: &rng) }
            let ys = (0..<4).map { _ in Double.random(in: 7...33, using: &rng) }
            xs[1] = xs[1].rounded() + 0.5 - half   // a box edge exactly on a half-pixel
            let ws = (0..<4).map { _ in scale * Double(Float.random(in: 0.1...3, using: &rng)) }
            let lanes = TurboLanes(x: SIMD4(xs), y: SIMD4(ys), half: half, ws: SIMD4(ws), rows: rows, columns: columns)
            for l in 0..<4 {
                let xlo = xs[l] - half, xhi = xs[l] + half, ylo = ys[l] - half, yhi = ys[l] + half
                let n0 = nearest(xlo), n1 = nearest(xhi), m0 = nearest(ylo), m1 = nearest(yhi)
                let expected = n1 == n0 + 1 && m1 == m0 + 1 && n0 >= columns.lowerBound && n1 < columns.upperBound
                    && m0 >= rows.lowerBound && m1 < rows.upperBound
                #expect(lanes.usual[l] == expected)
                guard expected else { continue }
                usual += 1
                let fx0 = Double(n0) + 0.5 - xlo, fx1 = xhi - (Double(n1) - 0.5)
                let fy0 = Double(m0) + 0.5 - ylo, fy1 = yhi - (Double(m1) - 0.5)
                #expect(Int(lanes.n0[l]) == n0 && Int(lanes.m0[l]) == m0)
                #expect(lanes.fx1[l].bitPattern == fx1.bitPattern && lanes.fy1[l].bitPattern == fy1.bitPattern)
                #expect(lanes.w00[l].bitPattern == (fx0 * fy0 * ws[l]).bitPattern)
                #expect(lanes.w01[l].bitPattern == (fx1 * fy0 * ws[l]).bitPattern)
                #expect(lanes.w10[l].bitPattern == (fx0 * fy1 * ws[l]).bitPattern)
                #expect(lanes.w11[l].bitPattern == (fx1 * fy1 * ws[l]).bitPattern)
            }
        }
        #expect(usual > 20000)
    }
}
