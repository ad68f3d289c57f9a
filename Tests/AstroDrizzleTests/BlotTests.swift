@testable import AstroDrizzle
import AstroTestSupport
import Foundation
import Testing

/// Blot against spacetelescope/drizzle's blot_image (testdata/drizzle/blot.json, made by
/// scripts/fixtures/drizzle_blot.py with drizzle 3.0.0): every interpolant and the fill. Near the
/// edges astrotool follows upstream's later fix (true point reflection for poly3/poly5, nearest
/// clamped to the last pixel), so those compare away from the edges and are checked on a ramp.
@Suite struct BlotTests {
    struct Doc: Decodable {
        struct Case: Decodable { var interp: String; var image: [Double] }
        var source_shape: [Int]; var target_shape: [Int]
        var source: [Double]; var x: [Double]; var y: [Double]; var cases: [Case]; var ramp_cases: [Case]
    }
    static let doc = try! JSONDecoder().decode(Doc.self, from: Data(contentsOf: URL(fileURLWithPath: TestSupport.path("drizzle/blot.json"))))
    static let names: [String: Blot.Interpolation] = ["nearest": .nearest, "linear": .linear, "poly3": .poly3, "poly5": .poly5,
                                                       "lan3": .lanczos3, "lan5": .lanczos5]

    @Test(arguments: 0..<6)
    func matchesTheCCore(index: Int) {
        let d = Self.doc, c = d.cases[index]
        let m = Pixmap(width: d.target_shape[1], height: d.target_shape[0], x: d.x, y: d.y)
        let (out, missed) = Blot.sample(d.source.map(Float.init), width: d.source_shape[1], height: d.source_shape[0], at: m,
                                        interpolation: Self.names[c.interp]!, scale: 0.5, fill: -1)
        let peak = c.image.map(abs).max()!
        // The stencil's half-width: pixels sampled closer than that to an edge differ by design.
        let margins: [String: Double] = ["poly3": 2, "poly5": 3, "nearest": 1]
        let margin = margins[c.interp] ?? 0
        let (nx, ny) = (Double(d.source_shape[1]), Double(d.source_shape[0]))
        var worst = 0.0
        for k in out.indices where d.x[k] >= margin && d.x[k] < nx - margin && d.y[k] >= margin && d.y[k] < ny - margin {
            worst = max(worst, abs(Double(out[k]) - c.image[k]))
        }
        #expect(worst <= 1e-5 * peak, "\(c.interp): \(worst)")
        // Filled: outside [-0.5, n) (the reference also fills the low edges' outer half pixel).
        let outside = out.indices.filter { !(d.x[$0] >= -0.5 && d.x[$0] < nx && d.y[$0] >= -0.5 && d.y[$0] < ny) }
        #expect(missed == outside.count && outside.allSatisfy { out[$0] == -1 && c.image[$0] == -1 })
    }

    @Test(arguments: 0..<6)
    func rampOfTheSpec(index: Int) {
        // src = 10y + x sampled at +0.25 px: the spec's numbers at (4,4) and the reflected corner (9,9).
        let c = Self.doc.ramp_cases[index]
        var ramp: [Float] = [], xs: [Double] = [], ys: [Double] = []
        for j in 0..<10 { for i in 0..<10 { ramp.append(Float(10 * j + i)); xs.append(Double(i) + 0.25); ys.append(Double(j) + 0.25) } }
        let (out, _) = Blot.sample(ramp, width: 10, height: 10, at: Pixmap(width: 10, height: 10, x: xs, y: ys),
                                   interpolation: Self.names[c.interp]!, fill: -1)
        let interior = (0..<100).filter { $0 / 10 < 7 && $0 % 10 < 7 }
        let worst = interior.map { abs(Double(out[$0]) - c.image[$0]) }.max()!
        #expect(worst <= 1e-5 * 100, "\(c.interp): \(worst)")
        if c.interp == "poly3" || c.interp == "poly5" {
            // Reflection keeps a linear ramp linear up to the corner: exactly 10y + x there too.
            #expect(abs(Double(out[99]) - 101.75) < 1e-3, "\(c.interp) corner \(out[99])")
        }
    }

    /// Linear blot where the pixmap is near a translation (eight positions in a row of cells
    /// read as whole rows of the source): the float32 formula of one position at a time, bit
    /// for bit, with the positions near the edges taken one at a time.
    @Test func linearRunsOfEightAreThePointFormula() {
        let (w, h) = (64, 48), (tw, th) = (70, 50)
        var rng = SeededGenerator(seed: 3)
        let source = (0..<(w * h)).map { _ in Float(rng.gaussian() * 10 + 100) }
        var xs: [Double] = [], ys: [Double] = []
        for j in 0..<th { for i in 0..<tw { xs.append(Double(i) - 3.37 + 0.001 * Double(j)); ys.append(Double(j) - 1.21 + 0.0007 * Double(i)) } }
        let (out, _) = Blot.sample(source, width: w, height: h, at: Pixmap(width: tw, height: th, x: xs, y: ys),
                                   interpolation: .linear, scale: 0.5, fill: .nan)
        var compared = 0
        for k in 0..<(tw * th) {
            let x = Float(xs[k]), y = Float(ys[k])
            guard x >= 0, y >= 0, x < Float(w - 1), y < Float(h - 1) else { continue }
            let i = Int(x), j = Int(y)
            let sx = x - Float(i), tx = 1 - sx, sy = y - Float(j), ty = 1 - sy
            let f00 = source[j * w + i], f10 = source[j * w + i + 1], f01 = source[(j + 1) * w + i], f11 = source[(j + 1) * w + i + 1]
            let want = (tx * ty * f00 + sx * ty * f10 + sy * tx * f01 + sx * sy * f11) * 0.5
            #expect(out[k].bitPattern == want.bitPattern, "pixel \(k): \(out[k]) against \(want)")
            compared += 1
        }
        #expect(compared > 2500)
    }
}

