/// The separable filters' medians of 5, 7 and 9 values written out: the same pruned Batcher
/// networks as `Network(n)`, comparator for comparator (so the same results, NaN included),
/// but with the values in vector registers instead of a buffer the network walks at run time.
extension MedianFilter {
    /// The lane-wise median of the `size` vectors at p, p + step, p + 2·step, …
    @inline(__always)
    static func median(_ p: UnsafePointer<Float>, step: Int, size: Int, network: Network,
                       scratch: UnsafeMutablePointer<Lanes>) -> Lanes {
        switch size {
        case 5:
            var v0 = load(p), v1 = load(p + step), v2 = load(p + 2 * step),
                v3 = load(p + 3 * step), v4 = load(p + 4 * step)
            order(&v0, &v1); order(&v2, &v3); order(&v0, &v2); order(&v1, &v3); order(&v1, &v2)
            order(&v0, &v4); order(&v2, &v4); order(&v1, &v2)
            return v2
        case 7:
            var v0 = load(p), v1 = load(p + step), v2 = load(p + 2 * step),
                v3 = load(p + 3 * step), v4 = load(p + 4 * step), v5 = load(p + 5 * step),
                v6 = load(p + 6 * step)
            order(&v0, &v1); order(&v2, &v3); order(&v4, &v5); order(&v0, &v2); order(&v1, &v3)
            order(&v4, &v6); order(&v1, &v2); order(&v5, &v6); order(&v0, &v4); order(&v1, &v5)
            order(&v2, &v6); order(&v2, &v4); order(&v3, &v5); order(&v3, &v4)
            return v3
        case 9:
            var v0 = load(p), v1 = load(p + step), v2 = load(p + 2 * step),
                v3 = load(p + 3 * step), v4 = load(p + 4 * step), v5 = load(p + 5 * step),
                v6 = load(p + 6 * step), v7 = load(p + 7 * step), v8 = load(p + 8 * step)
            order(&v0, &v1); order(&v2, &v3); order(&v4, &v5); order(&v6, &v7); order(&v0, &v2)
            order(&v1, &v3); order(&v4, &v6); order(&v5, &v7); order(&v1, &v2); order(&v5, &v6)
            order(&v0, &v4); order(&v1, &v5); order(&v2, &v6); order(&v3, &v7); order(&v2, &v4)
            order(&v3, &v5); order(&v1, &v2); order(&v3, &v4); order(&v5, &v6); order(&v0, &v8)
            order(&v4, &v8); order(&v2, &v4); order(&v3, &v5); order(&v3, &v4)
            return v4
        default:
            for k in 0..<size { scratch[k] = load(p + k * step) }
            return network.median(scratch)
        }
    }

    /// One comparator: the lower lanes to `a`, the higher to `b` (no swap when either is NaN,
    /// as `Network.sort`).
    @_transparent
    static func order(_ a: inout Lanes, _ b: inout Lanes) {
        let swap = b .< a
        let low = a.replacing(with: b, where: swap)
        b = b.replacing(with: a, where: swap)
        a = low
    }
}
