@testable import AstroCCD
import Testing
import AstroTestSupport

/// ccdmask's running-box mask where counting proves pixels safe (`CCDMask.boundedMask`) against
/// the rank filter at every pixel (`rankedMask`): the same mask, byte for byte, on noise with
/// hot and cold pixels, a star, a weak column, quantised values (ties), boxes of several shapes
/// and images barely larger than them; and no shortcut where it does not apply.
@Suite struct CCDMaskBoundTests {
    /// Residual-like noise (σ 0.01) with defects, optionally rounded to a step (ties).
    static func residuals(width w: Int, height h: Int, seed: UInt64, step: Float? = nil) -> Plane<Float> {
        var rng = SeededGenerator(seed: seed)
        let p = Plane<Float>(width: w, height: h, repeating: 0)
        for i in 0..<(w * h) {
            var v = Float(rng.gaussian() * 0.01)
            if let step { v = (v / step).rounded() * step }
            p.base[i] = v
        }
        for k in 0..<(w * h / 97) { p.base[(k * 7919) % (w * h)] = k % 2 == 0 ? 0.2 : -0.15 }
        if w > 20 && h > 20 {
            for y in 8..<14 { for x in 8..<14 { p.base[y * w + x] += 0.5 / Float(1 + (x - 11) * (x - 11) + (y - 11) * (y - 11)) } }
            for y in 0..<h { p.base[y * w + w - 5] -= 0.04 }
        }
        return p
    }

    static func options(_ ny: Int, _ nx: Int, _ l: Float = 9, _ h: Float = 9) -> CCDMaskOptions {
        var o = CCDMaskOptions()
        o.nlsig = ny; o.ncsig = nx; o.lsigma = l; o.hsigma = h
        return o
    }

    @Test(arguments: [(96, 80, 15, 15, UInt64(1)), (64, 64, 7, 5, 2), (33, 29, 15, 15, 3), (40, 40, 3, 3, 4), (16, 15, 15, 15, 5)])
    func sameMaskAsTheRankFilter(w: Int, h: Int, ny: Int, nx: Int, seed: UInt64) throws {
        for (step, sigmas) in [(nil, (Float(9), Float(9))), (Float(0.004), (3, 3)), (nil, (2, 5))] as [(Float?, (Float, Float))] {
            let resid = Self.residuals(width: w, height: h, seed: seed, step: step)
            let o = Self.options(ny, nx, sigmas.0, sigmas.1)
            let bounded = try #require(CCDMask.boundedMask(resid, height: ny, width: nx, ranks: CCDMask.runningBoxRanks(o),
                                                            lsigma: o.lsigma, hsigma: o.hsigma))
            let ranked = CCDMask.rankedMask(resid, nonFinite: Plane<UInt8>(width: w, height: h, repeating: 0), options: o)
            #expect(bounded == ranked, "\(w)x\(h) box \(ny)x\(nx) step \(String(describing: step)): \(zip(bounded, ranked).filter { $0 != $1 }.count) differ")
            #expect(ranked.contains(1) || sigmas.0 == 9)
        }
    }

    @Test func noShortcutWhereItDoesNotApply() {
        let resid = Self.residuals(width: 40, height: 40, seed: 9), ranks = CCDMask.runningBoxRanks(Self.options(15, 15))
        #expect(CCDMask.boundedMask(resid, height: 15, width: 15, ranks: ranks, lsigma: 0, hsigma: 9) == nil)
        #expect(CCDMask.boundedMask(resid, height: 17, width: 17, ranks: (199, 89), lsigma: 9, hsigma: 9) == nil)
        resid.base[123] = .nan
        #expect(CCDMask.boundedMask(resid, height: 15, width: 15, ranks: ranks, lsigma: 9, hsigma: 9) == nil)
        let flat = Plane<Float>(width: 40, height: 40, repeating: 0)
        #expect(CCDMask.boundedMask(flat, height: 15, width: 15, ranks: ranks, lsigma: 9, hsigma: 9) == nil)
    }
}
