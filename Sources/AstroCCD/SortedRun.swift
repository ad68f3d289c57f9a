/// Statistics of an ascending run of values t[a..<b], shared by both stack kernels.
enum SortedRun {
    /// numpy's median: the middle value, or the mean of the middle two.
    static func median(_ t: UnsafeMutablePointer<Double>, _ a: Int, _ b: Int) -> Double {
        let m = b - a
        return m % 2 == 1 ? t[a + m / 2] : 0.5 * (t[a + m / 2 - 1] + t[a + m / 2])
    }

    /// 1.4826·MAD (astropy's mad_std) without a second sort: the j+1 values nearest the median
    /// of a sorted run are consecutive, so the j-th smallest deviation is the least, over every
    /// window of j+1 consecutive values, of the window's largest deviation — a loop of min/max
    /// with no data-dependent branch.
    static func madStd(_ t: UnsafeMutablePointer<Double>, _ a: Int, _ b: Int) -> Double {
        let m = b - a, med = median(t, a, b)
        func deviation(_ j: Int) -> Double {
            var best = Double.infinity
            for s in a..<(b - j) { best = Swift.min(best, Swift.max(med - t[s], t[s + j] - med)) }
            return best
        }
        let mad = m % 2 == 1 ? deviation(m / 2) : 0.5 * (deviation(m / 2 - 1) + deviation(m / 2))
        return 1.482602218505602 * mad
    }
}
