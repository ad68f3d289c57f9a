import AstroImage

/// ccdmask's running-box test with its rank filter only where it can flag a pixel.
///
/// A pixel is bad when its residual r lies below −lsigma·σ or above hsigma·σ, σ being half the
/// spread between two ranks (P69.1 and P30.9) of the residuals in the box around it. Counting
/// shows most pixels safe without those ranks: when at least n − k_high of the box's n values
/// are ≥ T, the value of rank k_high is ≥ T; when at least k_low + 1 are ≤ −T, the value of rank
/// k_low is ≤ −T; so σ ≥ T, and a residual within [−lsigma·T, hsigma·T] cannot be flagged (the
/// Float products and differences round monotonically, so this holds for the computed σ too).
/// Counts over boxes are running sums, a few operations per pixel, at two levels of T (a
/// quarter and two fifths of the residuals' typical σ, from a subsample); the pixels neither
/// level clears (a few percent: noise tails, stars, edges) get their two ranks from their own
/// box by quickselect. The mask is the one the rank filter gives, byte for byte. The bench
/// night's master flat: ccdmask 172 → 86 ms wall, 291 → 122 ms CPU, peak 52 → 45 MB (its 15×15
/// box through the sorting networks was most of it; the 7×7 median that gives the residuals
/// still runs there).
extension CCDMask {
    /// The running-box mask, or nil where the shortcut does not apply (a non-finite residual,
    /// whose order the networks decide; a box of over 255 values; a threshold not positive;
    /// residuals without spread): the caller then runs the rank filter.
    static func boundedMask(_ resid: Plane<Float>, height sy: Int, width sx: Int, ranks: (high: Int, low: Int),
                            lsigma: Float, hsigma: Float) -> [UInt8]? {
        let w = resid.width, h = resid.height, n = sx * sy
        guard n <= 255, lsigma > 0, hsigma > 0, w * h > 0, allFinite(resid) else { return nil }
        guard let sigma = typicalSpread(resid), sigma.isNormal, sigma < 1e30 else { return nil }
        let levels: [Float] = [0.25 * sigma, 0.4 * sigma]
        let padded = Boundary.reflect.pad(resid, top: sy / 2, left: sx / 2, bottom: sy - 1 - sy / 2, right: sx - 1 - sx / 2)
        let pw = padded.width
        let needHigh = UInt32(n - ranks.high), needLow = UInt32(ranks.low + 1)
        let (t0, t1) = (levels[0], levels[1])
        let clear = levels.map { t in (low: -(lsigma * t), high: hsigma * t) }
        return [UInt8](unsafeUninitializedCapacity: w * h) { out, filled in
            let mask = SendableMutableBuffer(out)
            Parallel.forEachBlock(count: h, minBlock: 16) { rows in
                // Per box, byte k of a word: how many values are ≥ T₀, ≤ −T₀, ≥ T₁, ≤ −T₁. The
                // bytes add as one word (no count passes 255 or goes below 0, so none carries).
                // Along the padded rows this block's boxes cover, over sx; then down, over sy.
                let span = rows.count + sy - 1
                let across = UnsafeMutablePointer<UInt32>.allocate(capacity: span * w), sums = UnsafeMutablePointer<UInt32>.allocate(capacity: w)
                let box = UnsafeMutablePointer<Float>.allocate(capacity: n)
                defer { across.deallocate(); sums.deallocate(); box.deallocate() }
                for j in 0..<span {
                    let row = padded.base + (rows.lowerBound + j) * pw, dst = across + j * w
                    var run: UInt32 = 0
                    for k in 0..<sx { run &+= flags(row[k], t0, t1) }
                    dst[0] = run
                    for x in 1..<w {
                        run = run &+ flags(row[x + sx - 1], t0, t1) &- flags(row[x - 1], t0, t1)
                        dst[x] = run
                    }
                }
                sums.initialize(repeating: 0, count: w)
                for j in 0..<sy { for x in 0..<w { sums[x] &+= across[j * w + x] } }
                for y in rows {
                    let j = y - rows.lowerBound
                    if j > 0 { for x in 0..<w { sums[x] = sums[x] &+ across[(j + sy - 1) * w + x] &- across[(j - 1) * w + x] } }
                    for x in 0..<w {
                        let i = y * w + x, r = resid.base[i], c = sums[x]
                        var safe = false
                        for k in 0..<2 where r >= clear[k].low && r <= clear[k].high {
                            let word = c >> UInt32(16 * k)
                            if word & 0xFF >= needHigh && (word >> 8) & 0xFF >= needLow { safe = true; break }
                        }
                        if safe { (mask.base + i).initialize(to: 0); continue }
                        // This box's two ranks, as the rank filter takes them.
                        for j in 0..<sy { (box + j * sx).update(from: padded.base + (y + j) * pw + x, count: sx) }
                        let high = select(box, count: n, rank: ranks.high)
                        let low = select(box, count: ranks.high, rank: ranks.low)
                        let spread = (high - low) / 2
                        (mask.base + i).initialize(to: deviant(r, spread, lsigma: lsigma, hsigma: hsigma) ? 1 : 0)
                    }
                }
            }
            filled = w * h
        }
    }

    /// The value of 0-based rank `k` among `v[0 ..< n]` (finite), by quickselect: on return the
    /// values before index k are ≤ it (so a lower rank is then found among them alone).
    static func select(_ v: UnsafeMutablePointer<Float>, count n: Int, rank k: Int) -> Float {
        var lo = 0, hi = n - 1
        while lo < hi {
            // The median of three as pivot, Hoare's partition.
            let mid = lo + (hi - lo) / 2
            if v[mid] < v[lo] { swap(&v[mid], &v[lo]) }
            if v[hi] < v[lo] { swap(&v[hi], &v[lo]) }
            if v[hi] < v[mid] { swap(&v[hi], &v[mid]) }
            let pivot = v[mid]
            var i = lo, j = hi
            while i <= j {
                while v[i] < pivot { i += 1 }
                while v[j] > pivot { j -= 1 }
                if i <= j { swap(&v[i], &v[j]); i += 1; j -= 1 }
            }
            if k <= j { hi = j } else if k >= i { lo = i } else { return v[k] }
        }
        return v[k]
    }

    /// Whether every residual is finite, rows across the cores.
    private static func allFinite(_ resid: Plane<Float>) -> Bool {
        let w = resid.width
        return !Parallel.mapBlocks(count: resid.height, minBlock: 16) { rows in
            (rows.lowerBound * w..<rows.upperBound * w).contains { !resid.base[$0].isFinite }
        }.contains(true)
    }

    /// 1.4826 × the median |residual| of a strided subsample of about 4096 values (all finite).
    private static func typicalSpread(_ resid: Plane<Float>) -> Float? {
        let step = max(1, resid.count / 4096)
        var sample: [Float] = []
        for i in stride(from: 0, to: resid.count, by: step) { sample.append(abs(resid.base[i])) }
        guard !sample.isEmpty else { return nil }
        sample.sort()
        return 1.4826 * sample[sample.count / 2]
    }

    /// A value's four tests (≥ T₀, ≤ −T₀, ≥ T₁, ≤ −T₁) as the bytes of a word.
    @inline(__always)
    private static func flags(_ v: Float, _ t0: Float, _ t1: Float) -> UInt32 {
        (v >= t0 ? 1 : 0) | (v <= -t0 ? 0x100 : 0) | (v >= t1 ? 0x1_0000 : 0) | (v <= -t1 ? 0x100_0000 : 0)
    }
}
