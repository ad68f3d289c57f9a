/// IRAF imcombine's rejections (icsclip, icaclip, iccclip, icpclip, icmm) on one pixel stack.
///
/// Each works on the stack's usable values sorted ascending and rejects from its ends: the
/// survivors are always a run t[a..<b]. Clipping needs at least max(3, nkeep + 1) values; the
/// iterative ones recompute the centre after each pass until nothing changes or too few are
/// left; then, if fewer than nkeep survive, the rejected values nearest the centre (smallest
/// residual, equal ones together) are restored.
extension StackKernel {
    /// IRAF's tolerance for "equal" residuals when restoring values.
    static let residualTolerance = 0.001

    /// Rejects from the usable values (ok[]) by `r.algorithm`; returns how many it rejected.
    /// `lineSigma` is avsigclip's σ per √signal for this pixel's image line.
    func rejectIRAF(_ r: CombineOptions.Rejection, lineSigma: Double) -> Int {
        let m0 = sortUsable()
        guard m0 > 0 else { return 0 }
        let t = tmp
        let maxkeep = r.nkeep >= 0 ? min(m0, r.nkeep) : max(0, m0 + r.nkeep)
        let minClip = max(3, maxkeep + 1)
        var a = 0, b = m0

        func median() -> Double { SortedRun.median(t, a, b) }
        /// Walks in from both ends while `residual` (≥ 0 means beyond the centre on that side)
        /// exceeds the limit; strict, as IRAF (a value exactly at the limit stays).
        func clipEnds(low: (Int) -> Double, high: (Int) -> Double, lsigma: Double, hsigma: Double) {
            while a < b { let q = low(a); if !(q > lsigma) { break }; resid[a] = q; a += 1 }
            while b > a { let q = high(b - 1); if !(q > hsigma) { break }; resid[b - 1] = q; b -= 1 }
        }

        switch r.algorithm {
        case .minmax:
            // Counts scaled to the values present (IRAF: nlow·n/N + 0.001, truncated).
            let flow = r.nlow >= 1 ? r.nlow / Double(n) : r.nlow, fhigh = r.nhigh >= 1 ? r.nhigh / Double(n) : r.nhigh
            let nl = Int(flow * Double(m0) + 0.001), nh = Int(fhigh * Double(m0) + 0.001)
            a = min(nl, m0); b = max(a, m0 - nh)
            return finish(a, b, m0)
        case .sigclip where r.mclip:
            guard m0 >= minClip else { return 0 }
            repeat {
                let m = b - a, c = median()
                var ss = 0.0
                for k in a..<b { ss += (t[k] - c) * (t[k] - c) }
                let s = (ss / Double(m - 1)).squareRoot()
                if s > 0 { clipEnds(low: { (c - t[$0]) / s }, high: { (t[$0] - c) / s }, lsigma: r.lsigma, hsigma: r.hsigma) }
                if b - a == m { break }
            } while b - a >= minClip
        case .sigclip:
            // About the mean: first without the extremes, then of the survivors.
            guard m0 >= minClip else { return 0 }
            var sum = 0.0
            for k in 0..<m0 { sum += t[k] }
            var c = (sum - t[0] - t[m0 - 1]) / Double(m0 - 2)
            repeat {
                let m = b - a
                var ss = 0.0
                for k in a..<b { ss += (t[k] - c) * (t[k] - c) }
                let s = (ss / Double(m - 1)).squareRoot()
                if s > 0 { clipEnds(low: { (c - t[$0]) / s }, high: { (t[$0] - c) / s }, lsigma: r.lsigma, hsigma: r.hsigma) }
                if b - a > 1 {
                    var s2 = 0.0
                    for k in a..<b { s2 += t[k] }
                    c = s2 / Double(b - a)
                }
                if b - a == m { break }
            } while b - a > max(2, maxkeep)
        case .avsigclip:
            guard m0 >= minClip, lineSigma > 0 else { return 0 }
            repeat {
                let m = b - a, c = median()
                let s = lineSigma * Swift.max(1, c).squareRoot()
                clipEnds(low: { (c - t[$0]) / s }, high: { (t[$0] - c) / s }, lsigma: r.lsigma, hsigma: r.hsigma)
                if b - a == m { break }
            } while b - a >= minClip
        case .ccdclip, .crreject:
            guard m0 >= minClip else { return 0 }
            let lsigma = r.algorithm == .crreject ? Double.infinity : r.lsigma
            repeat {
                let m = b - a, c = median()
                clipEnds(low: { (c - t[$0]) / self.noiseSigma(self.order[$0], at: c) },
                         high: { (t[$0] - c) / self.noiseSigma(self.order[$0], at: c) }, lsigma: lsigma, hsigma: r.hsigma)
                if b - a == m { break }
            } while b - a >= minClip
        case .pclip:
            guard m0 >= minClip else { return 0 }
            // The width: from the median to the value `pclip` places away, counted as IRAF does.
            let half = 1 + m0 / 2, even = m0 % 2 == 0
            let p = pclipCount(r.pclip)
            let n3 = p < 0 ? Swift.max(1, Int((Double(even ? half - 1 : half) + p).rounded()))
                           : Swift.min(m0, Int((Double(half) + p).rounded()))
            let c = median()
            let width = (p < 0 ? -1.0 : 1.0) * (t[n3 - 1] - c)
            guard abs(width) > 1e-30 else { return 0 }
            // One pass; here a value at the limit goes (IRAF's `r < lsigma` keeps).
            var lo = 0
            while lo < m0 { let q = (c - t[lo]) / width; if q < r.lsigma { break }; resid[lo] = q; lo += 1 }
            var hi = m0
            while hi > 0 { let q = (t[hi - 1] - c) / width; if q < r.hsigma { break }; resid[hi - 1] = q; hi -= 1 }
            a = lo; b = Swift.max(lo, hi)
        }
        restore(&a, &b, m0, maxkeep)
        return finish(a, b, m0)
    }

    /// avsigclip's contribution from this stack to its line's σ: Σ(y − med)²/max(1, med) and
    /// the number of values, or nil below 3 values.
    func avsigclipTerms() -> (sum: Double, count: Int)? {
        let m = sortUsable()
        guard m >= 3 else { return nil }
        let c = SortedRun.median(tmp, 0, m), d = Swift.max(1, c)
        var s = 0.0
        for k in 0..<m { s += (tmp[k] - c) * (tmp[k] - c) / d }
        return (s, m)
    }

    /// Sorts the usable values: order[k] is the input of the k-th smallest, tmp[k] its value.
    private func sortUsable() -> Int {
        var m = 0
        for i in 0..<n where ok[i] && y[i].isFinite { order[m] = i; m += 1 }
        let ys = y
        Self.sortIndices(order, m) { ys[$0] < ys[$1] }
        for k in 0..<m { tmp[k] = y[order[k]] }
        return m
    }

    /// The CCD noise model's σ, in scaled units, of image i at the (scaled) level c:
    /// √((rn/g)² + raw/g + (snoise·raw)²) in raw ADU with raw = max(0, (c + zero)/scale).
    private func noiseSigma(_ i: Int, at c: Double) -> Double {
        let s = abs(scales[i])
        let raw = Swift.max(0, (c + zeros[i]) / s)
        let rn = readNoise[i] / gain[i], sn = snoise[i] * raw
        return s * (rn * rn + raw / gain[i] + sn * sn).squareRoot()
    }

    /// IRAF turns pclip into a whole number of places: a fraction of (N − 1)/2 when |pclip| < 1,
    /// truncated, at least one and at most (N − 1)/2.
    private func pclipCount(_ pclip: Double) -> Double {
        let half = Double(n - 1) / 2
        let p = abs(pclip) < 1 ? pclip * half : pclip
        return p < 0 ? Swift.min(-1, Swift.max(-half, p.rounded(.towardZero)))
                     : Swift.max(1, Swift.min(half, p.rounded(.towardZero)))
    }

    /// Adds rejected values back, the smallest residual first (ties together), until nkeep.
    private func restore(_ a: inout Int, _ b: inout Int, _ m0: Int, _ maxkeep: Int) {
        let tol = Self.residualTolerance
        while b - a < maxkeep {
            if a == 0 { b += 1 }
            else if b == m0 { a -= 1 }
            else {
                let rl = resid[a - 1], rh = resid[b]
                if rl < rh {
                    a -= 1
                    if rh <= rl + tol { b += 1 }
                    if a > 0 && resid[a - 1] <= rl + tol { a -= 1 }
                } else {
                    b += 1
                    if rl <= rh + tol { a -= 1 }
                    if b < m0 && resid[b] <= rh + tol { b += 1 }
                }
            }
        }
    }

    /// Marks everything outside t[a..<b] rejected; returns how many that was.
    private func finish(_ a: Int, _ b: Int, _ m0: Int) -> Int {
        for k in 0..<a { ok[order[k]] = false }
        for k in b..<m0 { ok[order[k]] = false }
        return m0 - (b - a)
    }
}
