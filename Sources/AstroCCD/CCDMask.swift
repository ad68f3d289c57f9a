import AstroImage

/// ccdproc's `ccdmask` (after IRAF's): bad pixels of a flat-field ratio are those whose
/// residual from a moving median exceeds lsigma/hsigma times a percentile σ, (P69.1 − P30.9)/2,
/// estimated in running boxes (ccdproc's default) or in blocks (IRAF's way).
public struct CCDMaskOptions: Sendable, Equatable {
    public var findBadColumns = false
    public var byBlocks = false
    public var ncmed = 7
    public var nlmed = 7
    public var ncsig = 15
    public var nlsig = 15
    /// ccdproc's defaults; IRAF's ccdmask uses 6 and 6.
    public var lsigma: Float = 9
    public var hsigma: Float = 9
    public var ngood = 5
    public init() {}
}

public enum CCDMask {
    /// 1 = bad. Non-finite pixels are bad.
    public static func find(_ ratio: Image, options o: CCDMaskOptions) -> [UInt8] {
        let w = ratio.width, h = ratio.height
        let data = ratio.pixels.withUnsafeBufferPointer { Plane<Float>(width: w, height: h, copying: $0) }
        let median = MedianFilter.ranks(data, height: o.nlmed, width: o.ncmed, ranks: [o.nlmed * o.ncmed / 2])[0]
        // The residuals and the non-finite pixels' flags, rows across the cores.
        let residPlane = Plane<Float>.unset(width: w, height: h), nonFinite = Plane<UInt8>.unset(width: w, height: h)
        data.forEachRowBlock { rows in
            for i in (rows.lowerBound * w)..<(rows.upperBound * w) {
                residPlane.base[i] = data.base[i] - median.base[i]
                nonFinite.base[i] = data.base[i].isFinite ? 0 : 1
            }
        }
        let resid = residPlane.base
        let (lsigma, hsigma) = (o.lsigma, o.hsigma)
        @Sendable func deviant(_ r: Float, _ sigma: Float) -> Bool { CCDMask.deviant(r, sigma, lsigma: lsigma, hsigma: hsigma) }

        var mask: [UInt8]
        if o.byBlocks {
            mask = nonFinite.array
            // σ per nlsig×ncsig block from (0,0), numpy's interpolated percentiles; each column of
            // a block is also tested as a sum of its unmasked residuals against σ·√n (IRAF's test;
            // ccdproc compares with √(block width − sum) and lets a block overwrite NaN flags).
            for l1 in stride(from: 0, to: h, by: o.nlsig) {
                for c1 in stride(from: 0, to: w, by: o.ncsig) {
                    let l2 = min(l1 + o.nlsig, h), c2 = min(c1 + o.ncsig, w)
                    var block: [Float] = []
                    for y in l1..<l2 { for x in c1..<c2 { block.append(resid[y * w + x]) } }
                    let p = block.withUnsafeBufferPointer { Statistics.percentiles($0, [30.9, 69.1]) }
                    let sigma = Float((p[1] - p[0]) / 2)
                    for y in l1..<l2 { for x in c1..<c2 where deviant(resid[y * w + x], sigma) { mask[y * w + x] = 1 } }
                    guard o.findBadColumns else { continue }
                    for x in c1..<c2 {
                        var sum: Float = 0, n = 0
                        for y in l1..<l2 where mask[y * w + x] == 0 { sum += resid[y * w + x]; n += 1 }
                        if n > 1 && deviant(sum, sigma * Float(n).squareRoot()) {
                            for y in l1..<l2 { mask[y * w + x] = 1 }
                        }
                    }
                }
            }
        } else {
            mask = boundedMask(residPlane, height: o.nlsig, width: o.ncsig, ranks: runningBoxRanks(o), lsigma: lsigma, hsigma: hsigma)
                ?? rankedMask(residPlane, nonFinite: nonFinite, options: o)
        }
        if o.findBadColumns { fillColumnGaps(&mask, width: w, height: h, ngood: o.ngood) }
        return mask
    }

    /// ccdmask's test: a residual below −lsigma·σ or above hsigma·σ.
    @inline(__always)
    static func deviant(_ r: Float, _ sigma: Float, lsigma: Float, hsigma: Float) -> Bool {
        r < -lsigma * sigma || r > hsigma * sigma
    }

    /// The two ranks of the running box that give σ: scipy's percentile_filter takes rank
    /// ⌊n·p/100⌋ of the box's n values, without interpolation (P69.1, then P30.9).
    static func runningBoxRanks(_ o: CCDMaskOptions) -> (high: Int, low: Int) {
        let n = o.nlsig * o.ncsig
        return (Int(Double(n) * 69.1 / 100), Int(Double(n) * 30.9 / 100))
    }

    /// The running-box mask from the rank filter at every pixel (`boundedMask` gives the same
    /// where it applies).
    static func rankedMask(_ resid: Plane<Float>, nonFinite: Plane<UInt8>, options o: CCDMaskOptions) -> [UInt8] {
        let w = resid.width, h = resid.height, (lsigma, hsigma) = (o.lsigma, o.hsigma), r = runningBoxRanks(o)
        let p = MedianFilter.ranks(resid, height: o.nlsig, width: o.ncsig, ranks: [r.high, r.low])
        return [UInt8](unsafeUninitializedCapacity: w * h) { out, filled in
            let m = SendableMutableBuffer(out)
            resid.forEachRowBlock { rows in
                for i in (rows.lowerBound * w)..<(rows.upperBound * w) {
                    let sigma = (p[0].base[i] - p[1].base[i]) / 2, v = resid.base[i]
                    let bad = nonFinite.base[i] != 0 || deviant(v, sigma, lsigma: lsigma, hsigma: hsigma)
                    (m.base + i).initialize(to: bad ? 1 : 0)
                }
            }
            filled = w * h
        }
    }

    /// Along each column, a run of up to `ngood` unflagged lines between flagged ones becomes
    /// flagged (ccdproc's loop, in its order; IRAF's help says "less than ngood").
    static func fillColumnGaps(_ mask: inout [UInt8], width w: Int, height h: Int, ngood: Int) {
        guard ngood >= 1 else { return }
        for x in 0..<w {
            for line in 0..<max(0, h - ngood - 1) where mask[line * w + x] != 0 {
                for i in 2..<(ngood + 2) {
                    let end = line + i
                    guard mask[end * w + x] != 0 else { continue }
                    if (line...end).contains(where: { mask[$0 * w + x] == 0 }) {
                        for y in line..<end { mask[y * w + x] = 1 }
                    }
                }
            }
        }
    }
}
