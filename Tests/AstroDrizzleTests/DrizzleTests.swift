@testable import AstroDrizzle
import AstroImage
import AstroWCS
import AstroTestSupport
import Foundation
import Testing

/// The square and point kernels against spacetelescope/drizzle's C core (testdata/drizzle/
/// small.json, made by scripts/fixtures/drizzle_small.py), and flux on analytic cases.
@Suite struct DrizzleTests {
    struct Doc: Decodable {
        struct Map: Decodable { var x: [Double]; var y: [Double] }
        struct Case: Decodable { var kernel: String; var pixfrac: Double; var image: [Double?]; var weight: [Double]; var context: [Int] }
        var input_shape: [Int]; var output_shape: [Int]
        var inputs: [[Double]]; var weights: [[Double]]; var pixmaps: [Map]; var cases: [Case]
    }
    static let doc = try! JSONDecoder().decode(Doc.self, from: Data(contentsOf: URL(fileURLWithPath: TestSupport.path("drizzle/small.json"))))

    @Test(arguments: 0..<8)
    func matchesTheCCore(index: Int) {
        let d = Self.doc, c = d.cases[index]
        var o = DrizzleOptions()
        o.kernel = .init(rawValue: c.kernel)!
        o.pixfrac = c.pixfrac
        o.pixelScaleRatio = 1.25
        var out = DrizzleOutput(width: d.output_shape[1], height: d.output_shape[0])
        for k in 0..<2 {
            let m = Pixmap(width: d.input_shape[1], height: d.input_shape[0], x: d.pixmaps[k].x, y: d.pixmaps[k].y)
            out.add(d.inputs[k].map(Float.init), weights: d.weights[k].map(Float.init), pixmap: m, options: o)
        }
        let peak = d.inputs.flatMap { $0 }.map(abs).max()!
        var worst = 0.0, nanMismatch = 0
        for p in out.image.indices {
            let mine = Double(out.image[p])
            if let ref = c.image[p] { worst = max(worst, abs(mine - ref)) } else if !mine.isNaN { nanMismatch += 1 }
            worst = max(worst, abs(Double(out.weight[p]) - c.weight[p]) * 10)
        }
        // The tolerances: 1e-5 of the peak for square, point and turbo, 1e-4 for the others.
        let tolerance = ["square", "point", "turbo"].contains(c.kernel) ? 1e-5 : 1e-4
        #expect(worst <= tolerance * peak && nanMismatch == 0, "\(c.kernel) \(c.pixfrac): \(worst), \(nanMismatch) NaN mismatches")
        #expect(out.context[0].map(Int.init) == c.context, "\(c.kernel) context")
    }

    @Test func constantFieldStaysConstantAndFluxIsKept() {
        // A 30x20 field of 3 onto a grid rotated by 20 deg and scaled by 1.25 that holds it all.
        let nx = 30, ny = 20
        var xs: [Double] = [], ys: [Double] = []
        let a = 20.0 * .pi / 180, r = 1.25
        for j in 0..<ny { for i in 0..<nx {
            xs.append((cos(a) * Double(i) - sin(a) * Double(j)) / r + 20)
            ys.append((sin(a) * Double(i) + cos(a) * Double(j)) / r + 3)
        } }
        let m = Pixmap(width: nx, height: ny, x: xs, y: ys)
        // Every kernel keeps a constant field constant; Σ(SCI·WHT) = Σ(input) to 1e-6 for square
        // and 1e-4 for turbo and point (drizzle's own tolerance); gaussian and lanczos are not
        // flux conserving (their sums are printed).
        for kernel in DrizzleOptions.Kernel.allCases {
            var o = DrizzleOptions()
            o.kernel = kernel
            o.pixelScaleRatio = r
            o.fill = .value(0)
            var out = DrizzleOutput(width: 50, height: 40, fill: o.fill)
            out.add([Float](repeating: 3, count: nx * ny), pixmap: m, options: o)
            var flux = 0.0, worst: Float = 0
            for p in out.image.indices where out.weight[p] > 0 {
                worst = max(worst, abs(out.image[p] - 3))
                flux += Double(out.image[p]) * Double(out.weight[p])
            }
            let relative = abs(flux - 3.0 * Double(nx * ny)) / (3.0 * Double(nx * ny))
            #expect(worst < 1e-6 * 3, "\(kernel): constant field off by \(worst)")
            switch kernel {
            case .square: #expect(relative < 1e-6, "square flux \(relative)")
            case .turbo, .point: #expect(relative < 1e-4, "\(kernel) flux \(relative)")
            case .gaussian, .lanczos2, .lanczos3: print("DrizzleTests: \(kernel) keeps Σ(SCI·WHT) to \(relative) of Σ(input)")
            }
            #expect(out.image[0] == 0 && out.weight[0] == 0)
        }
    }

    @Test func identityPixmapReproducesTheInput() {
        let data = (0..<24).map { Float($0) }
        // Kernels that move each value into one pixel of an identical grid (gaussian and lanczos blur).
        for kernel in [DrizzleOptions.Kernel.square, .point, .turbo] {
            var o = DrizzleOptions()
            o.kernel = kernel
            var out = DrizzleOutput(width: 6, height: 4)
            out.add(data, pixmap: .identity(width: 6, height: 4), options: o)
            #expect(zip(out.image, data).allSatisfy { abs($0 - $1) < 1e-5 }, "\(kernel)")
        }
    }

    @Test func contextUsesASecondPlanePast32Inputs() {
        var out = DrizzleOutput(width: 2, height: 2)
        for _ in 0..<40 { out.add([1, 1, 1, 1], pixmap: .identity(width: 2, height: 2), options: DrizzleOptions()) }
        #expect(out.context.count == 2 && out.context[0][0] == -1 && out.context[1][0] == 0xFF)
    }
}

/// The row bands give the same bits whatever the number of threads.
@Suite struct DrizzleThreadTests {
    @Test func independentOfThreadCount() {
        let nx = 300, ny = 260
        var xs: [Double] = [], ys: [Double] = []
        let a = 30.0 * .pi / 180
        for j in 0..<ny { for i in 0..<nx {
            xs.append(0.8 * (cos(a) * Double(i) - sin(a) * Double(j)) + 150)
            ys.append(0.8 * (sin(a) * Double(i) + cos(a) * Double(j)) + 10)
        } }
        let m = Pixmap(width: nx, height: ny, x: xs, y: ys)
        let data = (0..<(nx * ny)).map { Float(($0 * 7919) % 1000) / 10 }
        var results: [[Float]] = []
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        for threads in [1, 2, 3] {
            Parallel.threads = threads
            for kernel in [DrizzleOptions.Kernel.square, .lanczos3] {
                var o = DrizzleOptions()
                o.kernel = kernel
                o.pixelScaleRatio = 1.25
                var out = DrizzleOutput(width: 400, height: 320)
                out.add(data, pixmap: m, options: o)
                results.append(out.image + out.weight)
            }
        }
        #expect(results[0].elementsEqual(results[2]) { $0 == $1 || ($0.isNaN && $1.isNaN) })
        #expect(results[0].elementsEqual(results[4]) { $0 == $1 || ($0.isNaN && $1.isNaN) })
        #expect(results[1].elementsEqual(results[5]) { $0 == $1 || ($0.isNaN && $1.isNaN) })
    }
}

/// The pixmap from two WCSs, exact or interpolated between grid nodes.
@Suite struct PixmapTests {
    @Test func steppedPixmapFollowsTheExactOne() throws {
        let a = try WCS.tan(ra: 150, dec: 2, pixelScale: 0.1, rotation: 0, width: 300, height: 200)
        let b = try WCS.tan(ra: 150.001, dec: 2.001, pixelScale: 0.08, rotation: 30, width: 500, height: 400)
        let exact = Pixmap(from: a, width: 300, height: 200, to: b)
        let stepped = Pixmap(from: a, width: 300, height: 200, to: b, step: 16)
        var worst = 0.0
        for k in exact.x.indices { worst = max(worst, abs(exact.x[k] - stepped.x[k]), abs(exact.y[k] - stepped.y[k])) }
        #expect(worst < 1e-4, "\(worst) px")
        // The node rows and columns (and the last ones) are exact.
        for k in [0, 16, 299, 199 * 300 + 299, 32 * 300 + 48] {
            #expect(abs(exact.x[k] - stepped.x[k]) < 1e-9 && abs(exact.y[k] - stepped.y[k]) < 1e-9)
        }
    }

    /// The automatic step keeps the whole map within its tolerance of the exact one, and falls to
    /// exact sampling where the map is not smooth enough (a tolerance no step can meet).
    @Test(arguments: [1e-5, 1e-7])
    func automaticStepStaysWithinItsTolerance(tolerance: Double) throws {
        let a = try WCS.tan(ra: 150, dec: 2, pixelScale: 0.1, rotation: 0, width: 700, height: 500)
        let b = try WCS.tan(ra: 150.01, dec: 2.01, pixelScale: 0.08, rotation: 30, width: 900, height: 800)
        let exact = Pixmap(from: a, width: 700, height: 500, to: b)
        let auto = Pixmap(from: a, width: 700, height: 500, to: b, sampling: .auto(tolerance: tolerance))
        var worst = 0.0
        for k in exact.x.indices { worst = max(worst, abs(exact.x[k] - auto.x[k]), abs(exact.y[k] - auto.y[k])) }
        #expect(worst <= tolerance, "step \(auto.step): \(worst) px")
        #expect(auto.step > 1 || worst == 0)
    }

    /// Under SIP distortion (the NIRCam header) the step shrinks until the map is within tolerance.
    @Test func automaticStepFollowsDistortion() throws {
        let text = try String(contentsOfFile: TestSupport.path("wcs/nrcb5_sip_wcs.hdr"), encoding: .ascii)
        let sip = try WCS(header: Header(cardImages: text), file: "nrcb5_sip_wcs.hdr")
        let out = try WCS.tan(ra: sip.pixelToWorld(x: 1024, y: 1024)!.ra, dec: sip.pixelToWorld(x: 1024, y: 1024)!.dec,
                              pixelScale: 0.031, rotation: 20, width: 2400, height: 2400)
        let exact = Pixmap(from: sip, width: 2048, height: 2048, to: out)
        let auto = Pixmap(from: sip, width: 2048, height: 2048, to: out, sampling: .automatic)
        var worst = 0.0
        for k in exact.x.indices { worst = max(worst, abs(exact.x[k] - auto.x[k]), abs(exact.y[k] - auto.y[k])) }
        #expect(worst <= 1e-5, "step \(auto.step): \(worst) px")
    }
}

/// Unmapped pixels are counted once, whatever the number of bands.
@Suite struct DrizzleMissedTests {
    @Test func missedCountIndependentOfThreads() {
        let nx = 300, ny = 260
        var m = Pixmap.identity(width: nx, height: ny)
        for k in stride(from: 0, to: nx * ny, by: 97) { m.x[k] = .nan }
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        var counts: [Int] = []
        for threads in [1, 2, 3] {
            Parallel.threads = threads
            for kernel in [DrizzleOptions.Kernel.square, .point] {
                var o = DrizzleOptions()
                o.kernel = kernel
                var out = DrizzleOutput(width: nx, height: ny)
                counts.append(out.add([Float](repeating: 1, count: nx * ny), pixmap: m, options: o))
            }
        }
        #expect(counts[0] == counts[2] && counts[2] == counts[4] && counts[1] == counts[3] && counts[3] == counts[5])
        #expect(counts[1] == (nx * ny + 96) / 97)
    }
}
