// The exact median of the values in a range, found by histograms instead of a sort: one
// counting pass over the sample into bins linear in value, one pass copying out the values of
// the bin that holds each middle rank, and the same again on those few values until they are
// few enough to sort. The bins follow the data's spread between its extremes (a clipped
// sample's extremes lie a few σ apart), so the middle bin holds a few thousandths of the values.

extension Statistics {
    /// numpy's median (the mean of the two middle values for an even count) of the unmasked
    /// values x of `s` with `low ≤ x ≤ high`, which are `count` > 0 values whose smallest is
    /// `low` and largest `high`.
    static func median(_ s: SampleHandle, low: Float, high: Float, count n: Int) -> Double {
        let (a, b) = RangeRanks.values(s, low: low, high: high, ranks: ((n - 1) / 2, n / 2))
        return (Double(a) + Double(b)) / 2
    }
}

enum RangeRanks {
    /// Bins per histogram: the counts of a worker fit in its level-1 cache.
    static let bins = 4096
    /// Samples this small are copied and sorted.
    static let sortLimit = 4096

    /// The values of 0-based ranks `ranks.0 ≤ ranks.1` among the unmasked values in
    /// `[low, high]` of `s` (the extremes of those values).
    static func values(_ s: SampleHandle, low: Float, high: Float, ranks: (Int, Int)) -> (Float, Float) {
        if low == high { return (low, low) }
        guard let h = Histogram(s, low: low, high: high) else {
            var kept = gather(s, low: low, high: high)
            kept.sort()
            return (kept[ranks.0], kept[ranks.1])
        }
        return h.values(ranks: ranks)
    }

    /// The counts per bin of the usable values of a sample in `[low, high]` (their extremes):
    /// any two ranks among them then take one more pass.
    struct Histogram {
        let sample: SampleHandle
        let low: Float, high: Float, scale: Float
        /// The worker chunks, their counts per bin, and the sums of those.
        let chunks: [Range<Int>]
        let parts: [[Int]]
        let counts: [Int]

        /// Nil for a small sample (copy and sort it instead) or one whose span or bin scale is
        /// not a finite positive Float (the bin arithmetic needs both).
        init?(_ s: SampleHandle, low: Float, high: Float) {
            let span = high - low, scale = Float(bins) / span
            guard s.count > sortLimit, span.isFinite, span > 0, scale.isFinite else { return nil }
            sample = s
            self.low = low
            self.high = high
            self.scale = scale
            let chunks = s.workerChunks
            let parts = histogram(s, chunks, low: low, scale: scale, high: high)
            self.chunks = chunks
            self.parts = parts
            counts = (0..<bins).map { k in parts.reduce(0) { $0 + $1[k] } }
        }

        /// The values of 0-based ranks `ranks.0 ≤ ranks.1`.
        func values(ranks: (Int, Int)) -> (Float, Float) {
            // The bin of each rank, and the rank within it.
            func locate(_ rank: Int) -> (bin: Int, rank: Int) {
                var below = 0
                for (k, c) in counts.enumerated() {
                    if rank < below + c { return (k, rank - below) }
                    below += c
                }
                preconditionFailure("RangeRanks: rank \(rank) beyond the \(below) values in range")
            }
            let first = locate(ranks.0), second = locate(ranks.1)
            let (inFirst, inSecond) = binValues(sample, chunks, low: low, scale: scale, high: high, first.bin, second.bin, parts: parts)
            let x = value(in: inFirst, rank: first.rank)
            let y = first.bin == second.bin ? value(in: inFirst, rank: second.rank) : value(in: inSecond, rank: second.rank)
            return (x, y)
        }
    }

    /// The value of `rank` among `values` (all of one bin), the same way again.
    private static func value(in values: [Float], rank: Int) -> Float {
        let low = values.min()!, high = values.max()!
        return values.withUnsafeBufferPointer { RangeRanks.values(SampleHandle($0, mask: nil), low: low, high: high, ranks: (rank, rank)).0 }
    }

    /// The raw bin of each of eight values: monotonic in the value (a subtraction and a
    /// multiplication by constants, then rounding to an integer by adding 2²³, which puts it in
    /// the low mantissa bits); `bin(raw:use:)` makes it a bin.
    @_transparent
    private static func rawBins(_ x: SIMD8<Float>, low: SIMD8<Float>, scale: SIMD8<Float>) -> SIMD8<UInt32> {
        let t = (x - low) * scale + SIMD8<Float>(repeating: 8_388_608)
        return unsafeBitCast(t, to: SIMD8<UInt32>.self) & 0x7F_FFFF
    }

    /// Each lane's bin: the raw bin, the highest value's (which rounds up to `bins`) moved into
    /// the last bin, and `bins` for a value not used (`use` lanes 0). Bitwise, no masks: masks
    /// of integer vectors compiled to byte shuffles.
    @_transparent
    private static func bins(raw: SIMD8<UInt32>, use: SIMD8<Int32>) -> SIMD8<UInt32> {
        let u = unsafeBitCast(use, to: SIMD8<UInt32>.self)
        let inside = pointwiseMin(raw, SIMD8<UInt32>(repeating: UInt32(bins - 1)))
        return (inside & u) | (SIMD8<UInt32>(repeating: UInt32(bins)) & ~u)
    }

    /// The scalar form of `bins(raw:use:)`.
    @_transparent
    private static func bin(raw: UInt32, use: Int32) -> Int {
        use == 0 ? bins : Swift.min(Int(raw), bins - 1)
    }

    /// Lanes (0 or −1) of the eight values at `i` that are unmasked and in `[low, high]`.
    @_transparent
    private static func usable(_ x: SIMD8<Float>, _ s: SampleHandle, _ i: Int, low: SIMD8<Float>, high: SIMD8<Float>) -> SIMD8<Int32> {
        unsafeBitCast((x .>= low) .& (x .<= high), to: SIMD8<Int32>.self) & s.unmaskedLanes(at: i)
    }

    /// The scalar form of `bin` and `usable` for the last few values of a range.
    @_transparent
    private static func bin(at i: Int, _ s: SampleHandle, low: Float, scale: Float, high: Float) -> Int {
        let x = s.values![i]
        guard x >= low && x <= high && (s.mask == nil || s.mask![i] == 0) else { return bins }
        return bin(raw: ((x - low) * scale + 8_388_608).bitPattern & 0x7F_FFFF, use: -1)
    }

    /// Counts per bin of the usable values, per worker chunk,
    /// each as two arrays (even and odd lanes, so that a count is less often read back right
    /// after it was written) summed at the end.
    private static func histogram(_ s: SampleHandle, _ chunks: [Range<Int>], low: Float, scale: Float, high: Float) -> [[Int]] {
        SampleHandle.perChunk(chunks) { _, r -> [Int] in
            var h = [UInt32](repeating: 0, count: 2 * (bins + 1))
            h.withUnsafeMutableBufferPointer { hb in
                let even = hb.baseAddress!, odd = even + (bins + 1)
                let lowV = SIMD8<Float>(repeating: low), highV = SIMD8<Float>(repeating: high), scaleV = SIMD8<Float>(repeating: scale)
                let raw = UnsafeRawPointer(s.values!)
                var i = r.lowerBound
                while i &+ 8 <= r.upperBound {
                    let x = raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
                    let k = bins(raw: rawBins(x, low: lowV, scale: scaleV), use: usable(x, s, i, low: lowV, high: highV))
                    even[Int(k[0])] &+= 1; odd[Int(k[1])] &+= 1; even[Int(k[2])] &+= 1; odd[Int(k[3])] &+= 1
                    even[Int(k[4])] &+= 1; odd[Int(k[5])] &+= 1; even[Int(k[6])] &+= 1; odd[Int(k[7])] &+= 1
                    i &+= 8
                }
                while i < r.upperBound {
                    even[bin(at: i, s, low: low, scale: scale, high: high)] &+= 1
                    i &+= 1
                }
            }
            return (0..<bins).map { Int(h[$0]) + Int(h[bins + 1 + $0]) }
        }
    }

    /// The usable values of bins `first` and `second`, over the same worker chunks as
    /// `histogram` (`parts`: its counts), so that every value takes the same path to its bin.
    private static func binValues(_ s: SampleHandle, _ chunks: [Range<Int>], low: Float, scale: Float, high: Float, _ first: Int, _ second: Int,
                                  parts: [[Int]]) -> ([Float], [Float]) {
        let na = parts.reduce(0) { $0 + $1[first] }, nb = first == second ? 0 : parts.reduce(0) { $0 + $1[second] }
        var a = [Float](repeating: 0, count: na), b = [Float](repeating: 0, count: nb)
        a.withUnsafeMutableBufferPointer { ap in
            b.withUnsafeMutableBufferPointer { bp in
                let outA = SendableMutableBuffer(ap), outB = SendableMutableBuffer(bp)
                // Where each chunk's values go: after the earlier chunks'.
                var startA = [0], startB = [0]
                for p in parts { startA.append(startA.last! + p[first]); startB.append(startB.last! + (first == second ? 0 : p[second])) }
                let starts = (startA, startB)
                let filled = SampleHandle.perChunk(chunks) { c, r -> Bool in
                    var ia = starts.0[c], ib = starts.1[c]
                    @inline(__always) func take(_ x: Float, _ k: Int) {
                        if k == first { outA[ia] = x; ia &+= 1 } else if k == second { outB[ib] = x; ib &+= 1 }
                    }
                    let lowV = SIMD8<Float>(repeating: low), highV = SIMD8<Float>(repeating: high), scaleV = SIMD8<Float>(repeating: scale)
                    // A raw bin past the last is the last bin's (for the tests of eight at once).
                    let f = SIMD8<UInt32>(repeating: UInt32(first)), g = SIMD8<UInt32>(repeating: UInt32(second))
                    let fEnd = first == bins - 1 ? SIMD8<UInt32>(repeating: UInt32(bins)) : f
                    let gEnd = second == bins - 1 ? SIMD8<UInt32>(repeating: UInt32(bins)) : g
                    let raw = UnsafeRawPointer(s.values!)
                    var i = r.lowerBound
                    while i &+ 8 <= r.upperBound {
                        let x = raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
                        let k = rawBins(x, low: lowV, scale: scaleV)
                        // Unused lanes are let through here and told apart below.
                        if any((k .== f) .| (k .== g) .| (k .== fEnd) .| (k .== gEnd)) {
                            let exact = bins(raw: k, use: usable(x, s, i, low: lowV, high: highV))
                            for j in 0..<8 { take(x[j], Int(exact[j])) }
                        }
                        i &+= 8
                    }
                    while i < r.upperBound {
                        take(s.values![i], bin(at: i, s, low: low, scale: scale, high: high))
                        i &+= 1
                    }
                    return ia == starts.0[c + 1] && ib == starts.1[c + 1]
                }
                precondition(!filled.contains(false), "RangeRanks: a bin's values do not match its count")
            }
        }
        return (a, b)
    }

    /// The usable values, copied (small or degenerate samples).
    private static func gather(_ s: SampleHandle, low: Float, high: Float) -> [Float] {
        var kept: [Float] = []
        for i in 0..<s.count where s.mask == nil || s.mask![i] == 0 {
            let x = s.values![i]
            if x >= low && x <= high { kept.append(x) }
        }
        return kept
    }
}
