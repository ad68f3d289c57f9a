/// Statistics of an ascending run of values t[a..<b], shared by both stack kernels.
enum SortedRun {
    /// numpy's median: the middle value, or the mean of the middle two.
    static func median(_ t: UnsafeMutablePointer<Double>, _ a: Int, _ b: Int) -> Double {
        let m = b - a
        return m % 2 == 1 ? t[a + m / 2] : 0.5 * (t[a + m / 2 - 1] + t[a + m / 2])
    }

    /// 1.4826·MAD (astropy's mad_std). The deviations from the median are two sorted runs, left
    /// and right of it, so their median comes from merging them, without a second sort.
    static func madStd(_ t: UnsafeMutablePointer<Double>, _ a: Int, _ b: Int) -> Double {
        let m = b - a, med = median(t, a, b)
        var p = a
        while p < b && t[p] < med { p += 1 }
        var l = p - 1, r = p
        var previous = 0.0, current = 0.0
        for _ in 0...(m / 2) {
            previous = current
            if l >= a && (r >= b || med - t[l] <= t[r] - med) { current = med - t[l]; l -= 1 }
            else { current = t[r] - med; r += 1 }
        }
        return 1.482602218505602 * (m % 2 == 1 ? current : 0.5 * (previous + current))
    }
}
