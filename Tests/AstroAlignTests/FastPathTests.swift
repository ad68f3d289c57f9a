@testable import AstroAlign
import AstroImage
import Foundation
import Testing

/// The fast paths the 4096² benchmark needed give what the plain code gives: the radix sort of
/// the background meshes, a polynomial evaluated along a row, the unmirrored B-spline taps, the
/// banded column prefilter and the interior threshold kernel.
@Suite struct FastPathTests {
    @Test func radixSortOrdersLikeSort() {
        var rng = SplitMix(seed: 5)
        for n in [65, 100, 4096, 5000] {
            var values = (0..<n).map { _ in Float(rng.uniform() * 2000 - 1000) }
            values += [0, -0, 1e-30, -1e-30, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 3, 3, 3]
            var mine = values
            BackgroundMap.radixSort(&mine)
            #expect(mine == values.sorted())
        }
        // A sky mesh (two passes), the same with a bright star and negative noise (three), an
        // even count, and values that differ in their lowest bit only.
        for (n, star) in [(4096, false), (4096, true), (16383, true), (1000, false)] {
            var values = (0..<n).map { _ in Float(400 + (rng.uniform() - 0.5) * 80) }
            if star { values += (0..<40).map { _ in Float(rng.uniform() * 60000) } + [-35, -0.5] }
            var mine = values
            BackgroundMap.radixSort(&mine)
            #expect(mine == values.sorted())
        }
        let close = (0..<301).map { Float(bitPattern: 0x43c8_0000 + UInt32($0 % 2)) }
        var sortedClose = close
        BackgroundMap.radixSort(&sortedClose)
        #expect(sortedClose == close.sorted())
        var flat = [Float](repeating: 7, count: 500)   // one bucket in every digit
        BackgroundMap.radixSort(&flat)
        #expect(flat == [Float](repeating: 7, count: 500))
    }

    @Test func polynomialRowMatchesPointwise() {
        let m = PolyMap(order: 3, cx: 200, cy: 150, scale: 180,
                        ax: [3, 180, 1, 0.5, -0.2, 0.1, 0.03, -0.02, 0.01, 0.04],
                        ay: [-2, -1, 181, 0.1, 0.3, -0.4, 0.02, 0.05, -0.03, 0.01])
        var xs = [Double](repeating: 0, count: 400), ys = xs
        for y in [0.0, 77, 299] {
            xs.withUnsafeMutableBufferPointer { xp in
                ys.withUnsafeMutableBufferPointer { yp in m.applyRow(y, count: 400, xs: xp.baseAddress!, ys: yp.baseAddress!) }
            }
            for x in stride(from: 0, to: 400, by: 13) {
                let p = m.apply(Double(x), y)
                #expect(abs(p.x - xs[x]) < 1e-9 && abs(p.y - ys[x]) < 1e-9)
            }
        }
    }

    @Test func prefilterInPlaceAndSplineInteriorMatchTheMirroredPath() {
        let w = 70, h = 45   // not a multiple of the 16-column band
        let pixels = (0..<(w * h)).map { k in Float(100 + 20 * sin(Double(k % w) / 5) * cos(Double(k / w) / 4) + Double(k % 7)) }
        var c = pixels
        Warp.prefilter(&c, width: w, height: h)
        #expect(c == Warp.prefiltered(pixels, width: w, height: h))
        // The B-spline through the coefficients interpolates the pixels.
        c.withUnsafeBufferPointer { cp in
            let buf = SendableBuffer(cp)
            for (x, y) in [(10, 10), (33, 20), (60, 40)] {
                #expect(abs(Warp.spline3(buf, w, h, Double(x), Double(y)) - pixels[y * w + x]) < 1e-3)
            }
            // Interior (single-precision taps) against the same sum done with mirrored indices.
            for (x, y) in [(10.3, 10.7), (33.5, 20.25), (60.9, 40.1)] {
                let ix = Int(x.rounded(.down)), iy = Int(y.rounded(.down))
                let wx = Warp.bsplineWeights(x - Double(ix)), wy = Warp.bsplineWeights(y - Double(iy))
                var sum = 0.0
                for j in 0..<4 {
                    for i in 0..<4 { sum += wy[j] * wx[i] * Double(cp[Warp.mirror(iy - 1 + j, h) * w + Warp.mirror(ix - 1 + i, w)]) }
                }
                #expect(abs(Double(Warp.spline3(buf, w, h, x, y)) - sum) < 1e-3)
            }
        }
    }

    @Test func thresholdInteriorMatchesTheGeneralKernel() {
        let w = 40, h = 30
        var rng = SplitMix(seed: 9)
        var sub = (0..<(w * h)).map { _ in Float(rng.uniform() * 10 - 3) }
        for k in [45, 46, 300, 301, 341, w * h - 1] { sub[k] = .nan }
        // Noise varying across the frame, zero at a few pixels (never above there).
        let rms: [Float] = (0..<(w * h)).map { $0 % 23 == 0 ? 0 : 1.5 + Float($0 % 5) * 0.25 }
        let above = Detector.thresholded(sub, rms: rms, width: w, height: h, threshold: 2)
        // The kernel written out, NaN neighbours left out and the weights renormalised.
        for y in 0..<h {
            for x in 0..<w {
                let k = y * w + x
                var expected = false
                if sub[k].isFinite {
                    var sum: Float = 0, weight: Float = 0
                    for dy in -1...1 {
                        for dx in -1...1 {
                            let xx = x + dx, yy = y + dy
                            guard xx >= 0, xx < w, yy >= 0, yy < h, sub[yy * w + xx].isFinite else { continue }
                            let kw: Float = (dx == 0 ? 2 : 1) * (dy == 0 ? 2 : 1)
                            sum += kw * sub[yy * w + xx]; weight += kw
                        }
                    }
                    expected = rms[k] > 0 && sum / weight > 2 * 0.375 * rms[k]
                }
                #expect(above[k] == expected)
            }
        }
    }
}

/// A small seeded generator (the tests must not depend on the system RNG).
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
