// `imstat` on large samples: the values grouped by radix bucket once, then every clipping
// iteration, the histogram and the median answered from per-bucket moments and the values of
// the one or two buckets a bound cuts through.
//
// The plain form (`Statistics.imstat` on small samples) makes one pass over the data per
// clipping iteration, up to six, plus one for the histogram. Here the data are read twice (a
// counting pass and a scatter pass, both parallel), each bucket's moments are taken once from
// its contiguous values, and an iteration then merges a few hundred bucket moments (Chan's
// formula, in key order) and rescans only the cut buckets. Each value is kept as the low 16
// bits of its key (the bucket holds the rest): the scatter, which writes to hundreds of places
// at once, moves half the bytes (skymatch's scatter was a quarter of its time). The clipped sample is the same set
// of values (the bounds become key ranges admitting exactly the Floats the plain form's
// comparisons admit); the moments differ from the plain form's by round-off only, since both
// sum shifted values in blocks (buckets here, 4096-value chunks there) and merge the blocks
// with Chan's formula. The histogram is bin for bin the one a pass over the values would
// build: a bucket whose smallest and largest values fall in the same bin adds its count there.

/// The usable values of a sample (finite, unmasked, with keys in a range), grouped by bucket
/// (the top 16 bits of their `SortKey`), with each bucket's moments and extremes.
final class BucketedSample {
    /// The values' low key bits, bucket after bucket in key order; unordered within a bucket.
    let lows: [UInt16]
    /// The nonempty buckets in ascending order and where each starts in `lows` (plus one
    /// entry: the end).
    let buckets: [Int]
    let starts: [Int]
    /// Each nonempty bucket's count, mean, M2, min and max.
    let moments: [Statistics.Moments]

    /// Samples at least this large go through the bucketed form (below it the fixed cost of
    /// the 64 Ki-bucket arrays is more than the passes it saves).
    static let minCount = 1 << 15

    /// Two parallel passes over `s`: count the usable values with keys in `range` per bucket,
    /// then write each into its bucket's place; then one pass over the grouped values for the
    /// buckets' moments.
    init(_ s: SampleHandle, range: KeyRange) {
        let n = s.count
        let nchunks = Swift.max(1, Swift.min(Parallel.threads, n / SampleHandle.minChunk))
        let chunks = (0..<nchunks).map { c in (n * c / nchunks)..<(n * (c + 1) / nchunks) }
        guard s.values != nil, !range.isEmpty, n > 0 else {
            lows = []; buckets = []; starts = [0]; moments = []
            return
        }
        let base = range.lo, span = range.hi &- range.lo

        // Pass 1: counts per bucket and chunk; the extreme keys bound the buckets in use.
        struct Counted: Sendable { var counts: [UInt32]; var lo: UInt32; var hi: UInt32 }
        let counted = BucketedSample.perChunk(chunks) { r -> Counted in
            let v = s.values!, m = s.mask
            var h = [UInt32](repeating: 0, count: 65536)
            var lo = UInt32.max, hi = UInt32.min
            h.withUnsafeMutableBufferPointer { hb in
                let h = hb.baseAddress!
                var i = r.lowerBound
                while i < r.upperBound {
                    let k = SortKey.key(v[i])
                    var use = k &- base <= span
                    if let m { use = use && m[i] == 0 }
                    // Unusable values land in bucket 0, which holds no finite value.
                    h[use ? Int(truncatingIfNeeded: k >> 16) : 0] &+= 1
                    lo = Swift.min(lo, use ? k : .max)
                    hi = Swift.max(hi, use ? k : .min)
                    i &+= 1
                }
            }
            return Counted(counts: h, lo: lo, hi: hi)
        }
        let lo = counted.map(\.lo).min()!, hi = counted.map(\.hi).max()!
        guard lo <= hi else {
            lows = []; buckets = []; starts = [0]; moments = []
            return
        }
        let b0 = Int(lo >> 16), b1 = Int(hi >> 16), width = b1 - b0 + 1

        // Where each chunk writes its values of each bucket: the bucket's start plus the
        // values of the chunks before it.
        var bucketList: [Int] = [], startList: [Int] = []
        var offsets = [[Int]](repeating: [Int](repeating: 0, count: width), count: chunks.count)
        var total = 0
        for b in b0...b1 {
            var inBucket = 0
            for c in chunks.indices {
                offsets[c][b - b0] = total + inBucket
                inBucket += Int(counted[c].counts[b])
            }
            if inBucket > 0 { bucketList.append(b); startList.append(total) }
            total += inBucket
        }
        startList.append(total)

        // Pass 2: the scatter, which writes every element (no zeroing first).
        let grouped = [UInt16](unsafeUninitializedCapacity: total) { gb, written in
            written = total
            let out = SendableMutableBuffer(gb)
            let plan = offsets
            _ = BucketedSample.perChunk(Array(zip(chunks.indices, chunks))) { item -> Int in
                let (c, r) = item
                let v = s.values!, m = s.mask
                var pos = plan[c]
                pos.withUnsafeMutableBufferPointer { pb in
                    let p = pb.baseAddress!
                    var i = r.lowerBound
                    while i < r.upperBound {
                        let x = v[i]
                        let k = SortKey.key(x)
                        var use = k &- base <= span
                        if let m { use = use && m[i] == 0 }
                        if use {
                            let b = Int(truncatingIfNeeded: k >> 16) &- b0
                            out[p[b]] = UInt16(truncatingIfNeeded: k)
                            p[b] &+= 1
                        }
                        i &+= 1
                    }
                }
                return 0
            }
        }

        // Each bucket's moments from its contiguous values (buckets split among workers).
        var bucketMoments = [Statistics.Moments](repeating: .init(), count: bucketList.count)
        grouped.withUnsafeBufferPointer { gb in
            bucketMoments.withUnsafeMutableBufferPointer { mb in
                let g = SendableBuffer(gb), out = SendableMutableBuffer(mb)
                let st = startList, bl = bucketList
                Parallel.forEachBlock(count: st.count - 1, minBlock: 64) { r in
                    for j in r {
                        out[j] = BucketedSample.whole(g, bucket: bl[j], st[j], st[j + 1])
                    }
                }
            }
        }
        lows = grouped
        buckets = bucketList
        starts = startList
        moments = bucketMoments
    }

    /// Runs `body` on each item, the items spread over the worker threads; results in order.
    private static func perChunk<I: Sendable, T: Sendable>(_ items: [I], _ body: @Sendable (I) -> T) -> [T] {
        Parallel.mapBlocks(count: items.count, minBlock: 1) { r in r.map { body(items[$0]) } }.flatMap { $0 }
    }

    /// The value of bucket `b` whose key has the low bits `low`.
    @inline(__always)
    static func value(_ b: Int, _ low: UInt16) -> Float { SortKey.value(UInt32(b) << 16 | UInt32(low)) }

    /// Moments of the values of bucket `b` in `g[start..<end]` with keys in `r`: sums of the
    /// differences from the first such value (exact in Double, as both share a bucket's exponent
    /// or lie close), so nothing cancels however far the bucket lies from zero.
    @inline(__always)
    private static func slice(_ g: SendableBuffer<UInt16>, bucket b: Int, _ start: Int, _ end: Int, _ r: KeyRange) -> Statistics.Moments {
        var out = Statistics.Moments()
        let base = r.lo, span = r.hi &- r.lo, high = UInt32(b) << 16
        var i = start
        while i < end && (high | UInt32(g[i])) &- base > span { i &+= 1 }
        guard i < end else { return out }
        let shift = value(b, g[i]), shiftD = Double(shift)
        var s1 = 0.0, s2 = 0.0, count = 0
        var lo = shift, hi = shift
        while i < end {
            let k = high | UInt32(g[i]), x = SortKey.value(k)
            let use = k &- base <= span
            let d = use ? Double(x) - shiftD : 0
            s1 += d
            s2 += d * d
            count &+= use ? 1 : 0
            lo = Swift.min(lo, use ? x : lo)
            hi = Swift.max(hi, use ? x : hi)
            i &+= 1
        }
        let c = Double(count)
        out.n = count
        out.mean = shiftD + s1 / c
        out.m2 = Swift.max(0, s2 - s1 * s1 / c)
        out.min = lo
        out.max = hi
        return out
    }

    /// `slice` over all the values of a bucket (no key test), eight values a step in eight
    /// running sums: one sum would wait on each addition before the next (the order of the
    /// additions changes the moments by round-off only).
    @inline(__always)
    private static func whole(_ g: SendableBuffer<UInt16>, bucket b: Int, _ start: Int, _ end: Int) -> Statistics.Moments {
        var out = Statistics.Moments()
        guard start < end else { return out }
        let shift = value(b, g[start]), shiftD = Double(shift)
        typealias D = SIMD8<Double>
        var s1v = D(), s2v = D()
        var lov = SIMD8<Float>(repeating: shift), hiv = lov
        let raw = UnsafeRawPointer(g.base)
        // A bucket's keys share their top bits, so the key → value flip is the same for all.
        let key = UInt32(b) << 16, flip = ((key >> 31) &- 1) | 0x8000_0000
        let high = SIMD8<UInt32>(repeating: (key ^ flip) & 0xFFFF_0000), lowFlip = SIMD8<UInt32>(repeating: flip & 0xFFFF)
        var i = start
        while i &+ 8 <= end {
            let lows = SIMD8<UInt32>(truncatingIfNeeded: raw.loadUnaligned(fromByteOffset: i &* 2, as: SIMD8<UInt16>.self))
            let x = unsafeBitCast(high | (lows ^ lowFlip), to: SIMD8<Float>.self)
            let d = D(x) - shiftD
            s1v += d
            s2v += d * d
            lov = lov.replacing(with: x, where: x .< lov)
            hiv = hiv.replacing(with: x, where: x .> hiv)
            i &+= 8
        }
        var s1 = s1v.sum(), s2 = s2v.sum()
        var lo = lov.min(), hi = hiv.max()
        while i < end {
            let x = value(b, g[i])
            let d = Double(x) - shiftD
            s1 += d
            s2 += d * d
            lo = Swift.min(lo, x)
            hi = Swift.max(hi, x)
            i &+= 1
        }
        let c = Double(end - start)
        out.n = end - start
        out.mean = shiftD + s1 / c
        out.m2 = Swift.max(0, s2 - s1 * s1 / c)
        out.min = lo
        out.max = hi
        return out
    }

    /// The indices in `buckets` of the nonempty buckets `r` touches.
    private func span(_ r: KeyRange) -> Range<Int> {
        guard !r.isEmpty else { return 0..<0 }
        func firstIndex(atLeast b: Int) -> Int {
            var lo = 0, hi = buckets.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if buckets[mid] < b { lo = mid + 1 } else { hi = mid }
            }
            return lo
        }
        return firstIndex(atLeast: r.firstBucket)..<firstIndex(atLeast: r.lastBucket + 1)
    }

    /// How `r` meets bucket `j`'s values: all of them, none, or some (then they must be scanned).
    private enum Cover { case all, none, some }

    private func cover(_ j: Int, _ r: KeyRange) -> Cover {
        let kmin = SortKey.key(moments[j].min), kmax = SortKey.key(moments[j].max)
        if kmin >= r.lo && kmax <= r.hi { return .all }
        if kmax < r.lo || kmin > r.hi { return .none }
        return .some
    }

    /// Count, mean, M2, min and max of the values with keys in `r`: the buckets' moments merged
    /// in key order, a bucket `r` cuts through measured again on its values.
    func moments(in r: KeyRange) -> Statistics.Moments {
        var total = Statistics.Moments()
        lows.withUnsafeBufferPointer { vb in
            let g = SendableBuffer(vb)
            for j in span(r) {
                switch cover(j, r) {
                case .all: total.merge(moments[j])
                case .none: break
                case .some: total.merge(BucketedSample.slice(g, bucket: buckets[j], starts[j], starts[j + 1], r))
                }
            }
        }
        return total
    }

    /// Counts of the values with keys in `r` in bins `⌊(x − origin)/width⌋`, clamped to
    /// `0..<bins`, as `Statistics.histogram` bins them: the bin index is monotonic in x, so a
    /// bucket whose smallest and largest values share a bin puts all its values there.
    func histogram(in r: KeyRange, origin: Double, width: Double, bins: Int) -> [Int] {
        var h = [Int](repeating: 0, count: bins)
        let last = bins - 1
        @inline(__always) func bin(_ x: Float) -> Int {
            let k = Int(((Double(x) - origin) / width).rounded(.down))
            return k < 0 ? 0 : (k > last ? last : k)
        }
        let base = r.lo, span = r.hi &- r.lo
        lows.withUnsafeBufferPointer { g in
            h.withUnsafeMutableBufferPointer { hb in
                for j in self.span(r) {
                    let c = cover(j, r)
                    if c == .none { continue }
                    if c == .all {
                        let k = bin(moments[j].min)
                        if k == bin(moments[j].max) { hb[k] &+= moments[j].n; continue }
                    }
                    let high = UInt32(buckets[j]) << 16
                    for i in starts[j]..<starts[j + 1] {
                        let k = high | UInt32(g[i])
                        if k &- base <= span { hb[bin(SortKey.value(k))] &+= 1 }
                    }
                }
            }
        }
        return h
    }

    /// The value of 0-based `rank` among the values with keys in `r` (rank < their count).
    func value(rank: Int, in r: KeyRange) -> Float {
        var rem = rank
        let base = r.lo, span = r.hi &- r.lo
        for j in self.span(r) {
            let c = cover(j, r)
            if c == .none { continue }
            let high = UInt32(buckets[j]) << 16
            let inside: [UInt16]
            if c == .all {
                let n = moments[j].n
                if rem >= n { rem -= n; continue }
                inside = Array(lows[starts[j]..<starts[j + 1]])
            } else {
                inside = lows[starts[j]..<starts[j + 1]].filter { (high | UInt32($0)) &- base <= span }
                if rem >= inside.count { rem -= inside.count; continue }
            }
            return BucketedSample.value(buckets[j], BucketedSample.select(inside, rank: rem))
        }
        preconditionFailure("BucketedSample: rank \(rank) beyond the values in range")
    }

    /// The low key bits of `rank` in `x` (all of one bucket, so in key order): a sort for a
    /// few, else counts.
    private static func select(_ x: [UInt16], rank: Int) -> UInt16 {
        if x.count <= 4096 { return x.sorted()[rank] }
        var fine = [Int](repeating: 0, count: 65536)
        for v in x { fine[Int(v)] &+= 1 }
        var rem = rank
        for (low, c) in fine.enumerated() {
            if rem < c { return UInt16(low) }
            rem -= c
        }
        preconditionFailure("BucketedSample: rank \(rank) beyond \(x.count) values")
    }

    /// numpy's median of the values with keys in `r` (their count is `n` > 0).
    func median(in r: KeyRange, count n: Int) -> Double {
        let a = value(rank: (n - 1) / 2, in: r)
        let b = n % 2 == 1 ? a : value(rank: n / 2, in: r)
        return (Double(a) + Double(b)) / 2
    }
}
