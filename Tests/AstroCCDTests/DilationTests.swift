@testable import AstroCCD
import Testing
import AstroTestSupport

/// L.A.Cosmic's dilations against their definitions, borders included: a pixel the element can
/// centre on becomes the OR of the element's pixels, the outer rows and columns keep their value.
@Suite struct DilationTests {
    static func brute(_ m: [UInt8], _ w: Int, _ h: Int, border: Int, element: (Int, Int) -> Bool) -> [UInt8] {
        var out = m
        for y in border..<(h - border) {
            for x in border..<(w - border) {
                var v: UInt8 = 0
                for dy in -border...border { for dx in -border...border where element(dx, dy) { v |= m[(y + dy) * w + x + dx] } }
                out[y * w + x] = v
            }
        }
        return out
    }

    @Test func matchDefinitions() {
        let w = 53, h = 31
        var rng = SeededGenerator(seed: 1)
        let mask = (0..<(w * h)).map { _ in UInt8(Int.random(in: 0..<40, using: &rng) == 0 ? 1 : 0) }
        let plane = mask.withUnsafeBufferPointer { Plane<UInt8>(width: w, height: h, copying: $0) }
        #expect(Dilation.dilate3(plane).array == Self.brute(mask, w, h, border: 1) { _, _ in true })
        let once = Self.brute(mask, w, h, border: 2) { abs($0) + abs($1) < 4 }
        let twice = Self.brute(once, w, h, border: 2) { abs($0) + abs($1) < 4 }
        #expect(Dilation.dilate5(plane, times: 2).array == twice)
        #expect(twice.reduce(0) { $0 + Int($1) } > once.reduce(0) { $0 + Int($1) })
    }
}
