// Exact order statistics (median, percentiles, MAD, clipped medians) without sorting.
//
// Every finite Float maps to a UInt32 key with the same order (`SortKey`). One parallel pass
// counts the keys' top 16 bits (the "bucket"); the counts say which bucket holds a wanted
// rank. A second pass counts the low 16 bits of the values in just those buckets, which
// pins the exact key, hence the exact value. Two passes over the data, whatever its size,
// and no copy of it; several ranks share both. Usually it is one pass: a sorted subsample
// guesses the buckets (`Guess`), and the first pass counts their low bits as it goes. An
// iterative caller whose later queries drift (sigma clipping) has a pass also keep the values
// of the buckets where they will likely land, and later refinements there scan only those.

/// The order-preserving map between `Float` and `UInt32`.
///
/// Positive floats get the sign bit set, negative ones have every bit flipped, so unsigned
/// key order is numeric order (with −0 just below +0). Finite values occupy
/// `finiteMin...finiteMax`; ±∞ and NaNs fall outside it, so one range check rejects them.
@usableFromInline
enum SortKey {
    @usableFromInline static let finiteMin: UInt32 = 0x0080_0000   // key(-greatestFiniteMagnitude)
    @usableFromInline static let finiteMax: UInt32 = 0xFF7F_FFFF   // key(+greatestFiniteMagnitude)
    /// Buckets (top 16 key bits) that can hold finite values.
    @usableFromInline static let firstBucket = 0x0080, lastBucket = 0xFF7F

    @inlinable @inline(__always)
    static func key(_ f: Float) -> UInt32 {
        let b = f.bitPattern
        return b ^ (UInt32(bitPattern: Int32(bitPattern: b) >> 31) | 0x8000_0000)
    }

    @inlinable @inline(__always)
    static func value(_ k: UInt32) -> Float {
        Float(bitPattern: k ^ (((k >> 31) &- 1) | 0x8000_0000))
    }

    /// Key of the smallest finite Float `x` with `Double(x) >= bound`, or nil if there is none.
    static func lowerKey(_ bound: Double) -> UInt32? {
        if bound.isNaN || bound > Double(Float.greatestFiniteMagnitude) { return nil }
        if bound <= -Double(Float.greatestFiniteMagnitude) { return finiteMin }
        var f = Float(bound)
        if Double(f) < bound { f = f.nextUp }
        if f == 0 { f = -0.0 }          // x >= 0 admits −0 too
        return key(f)
    }

    /// Key of the largest finite Float `x` with `Double(x) <= bound`, or nil if there is none.
    static func upperKey(_ bound: Double) -> UInt32? {
        if bound.isNaN || bound < -Double(Float.greatestFiniteMagnitude) { return nil }
        if bound >= Double(Float.greatestFiniteMagnitude) { return finiteMax }
        var f = Float(bound)
        if Double(f) > bound { f = f.nextDown }
        if f == 0 { f = 0.0 }           // x <= 0 admits +0 too
        return key(f)
    }

    /// The keys of the finite values in `[lower, upper]` (empty when lower > upper or NaN).
    static func range(_ lower: Double, _ upper: Double) -> KeyRange {
        guard let lo = lowerKey(lower), let hi = upperKey(upper) else { return .empty }
        return KeyRange(lo: lo, hi: hi)
    }

    /// `Float(bitPattern: bits & 0xFFFF0000)` of the bucket's values: the same for every value
    /// in the bucket, and `x − rep` is exact in Float. Per-bucket sums are taken about it.
    static let bucketReference: [Double] = (0..<65536).map { b in
        let v = value(UInt32(b) << 16)
        return Double(Float(bitPattern: v.bitPattern & 0xFFFF_0000))
    }
}

/// An inclusive range of keys; `lo > hi` means empty.
struct KeyRange: Equatable {
    var lo: UInt32
    var hi: UInt32
    static let finite = KeyRange(lo: SortKey.finiteMin, hi: SortKey.finiteMax)
    static let empty = KeyRange(lo: 1, hi: 0)
    var isEmpty: Bool { lo > hi }
    var firstBucket: Int { Int(lo >> 16) }
    var lastBucket: Int { Int(hi >> 16) }

    func intersection(_ o: KeyRange) -> KeyRange {
        let r = KeyRange(lo: max(lo, o.lo), hi: min(hi, o.hi))
        return r.isEmpty ? .empty : r
    }

    /// The low-16-bit range of bucket `b` that lies inside this range.
    func lowBits(ofBucket b: Int) -> ClosedRange<Int> {
        let first = b == firstBucket ? Int(lo & 0xFFFF) : 0
        let last = b == lastBucket ? Int(hi & 0xFFFF) : 0xFFFF
        return first...last
    }

    /// Whether bucket `b` (inside the range) is only partly covered, so it needs its fine counts.
    func cutsBucket(_ b: Int) -> Bool { lowBits(ofBucket: b) != 0...0xFFFF }
}

/// The values and optional mask as raw pointers that worker threads may share.
///
/// This is the one place the statistics code holds unsafe pointers (the "handle" pattern of
/// swift-collections): the mask length is checked once at construction, and the kernels
/// index only within `0..<count` with wrapping arithmetic after that.
@usableFromInline
struct SampleHandle: @unchecked Sendable {
    let values: UnsafePointer<Float>?
    let mask: UnsafePointer<UInt8>?
    let count: Int

    init(_ values: UnsafeBufferPointer<Float>, mask: UnsafeBufferPointer<UInt8>?) {
        if let mask {
            precondition(mask.count == values.count,
                         "Statistics: mask has \(mask.count) elements, values have \(values.count)")
        }
        self.values = values.baseAddress
        self.mask = mask?.baseAddress
        self.count = values.count
    }

    /// Lanes of −1 for the eight values at `i` that are unmasked, 0 for masked ones. (An
    /// eight-byte group of the mask is mostly all zero: one test; a vector conversion from
    /// bytes would be a call.)
    @_transparent
    func unmaskedLanes(at i: Int) -> SIMD8<Int32> {
        guard let m = mask, UnsafeRawPointer(m + i).loadUnaligned(as: UInt64.self) != 0 else { return SIMD8(repeating: -1) }
        var lanes = SIMD8<Int32>()
        for k in 0..<8 { lanes[k] = m[i &+ k] == 0 ? -1 : 0 }
        return lanes
    }

    /// Minimum elements per worker: smaller inputs stay on one thread.
    static let minChunk = 1 << 16

    /// Runs `body` on one contiguous chunk per worker thread and returns the partial results
    /// in order. One chunk per worker (not several) because each allocates a 64 Ki-bin
    /// histogram, and merging fewer of them is cheaper than the balance more would buy.
    func perWorker<T: Sendable>(_ body: @Sendable (Range<Int>) -> T) -> [T] {
        SampleHandle.perChunk(workerChunks) { _, r in body(r) }
    }

    /// The contiguous chunks `perWorker` runs: one per worker thread, as `Parallel.threads` is now.
    var workerChunks: [Range<Int>] {
        let n = count
        let chunks = max(1, min(Parallel.threads, n / SampleHandle.minChunk))
        return (0..<chunks).map { n * $0 / chunks ..< n * ($0 + 1) / chunks }
    }

    /// `body` on each of `chunks` (with its index), spread over the worker threads; results in
    /// order. Passes that must see the same chunks keep them (the thread count may change).
    static func perChunk<T: Sendable>(_ chunks: [Range<Int>], _ body: @Sendable (Int, Range<Int>) -> T) -> [T] {
        if chunks.count == 1 { return [body(0, chunks[0])] }
        return Parallel.mapBlocks(count: chunks.count, minBlock: 1) { r in r.map { body($0, chunks[$0]) } }.flatMap { $0 }
    }
}

/// Σ(x − centre), Σ(x − centre)², the smallest and largest key of the finite, unmasked values,
/// and the number of masked values, taken alongside a `RadixIndex`'s first pass.
struct CentredSums: Sendable {
    var s1 = 0.0, s2 = 0.0
    var minKey = UInt32.max, maxKey = UInt32.min
    var masked = 0

    mutating func merge(_ o: CentredSums) {
        s1 += o.s1
        s2 += o.s2
        minKey = Swift.min(minKey, o.minKey)
        maxKey = Swift.max(maxKey, o.maxKey)
        masked &+= o.masked
    }
}

/// Bucket counts (and optionally per-bucket sums) of the finite, unmasked values, plus a cache
/// of exact per-key counts for the few buckets where ranks or range ends fall.
///
/// Queries over any key range are answered from these arrays in O(65536) time at most, so
/// iterative algorithms (sigma clipping) pay one pass over the data up front and then only a
/// pass now and then to refine a bucket they have not looked inside yet.
final class RadixIndex {
    let sample: SampleHandle
    /// Values per bucket; zero outside the finite buckets.
    private(set) var counts: [Int]
    /// `prefix[b]` = values in buckets `< b`.
    private var prefix: [Int]
    /// Per bucket, Σd and Σd² with d = x − `SortKey.bucketReference[b]`; empty unless asked for.
    private var sums: [Double]
    /// bucket → 65536 counts of its low key bits.
    private var fine: [Int: [Int]] = [:]
    /// Sums about `centre` of the first pass, if it was given one.
    let centred: CentredSums?
    /// Passes made over the data (for tuning).
    private(set) var passes = 0
    /// The values in `gatheredBuckets`, kept by a pass that `gatherOnNextPass` asked for:
    /// refining one of those buckets then scans these instead of the sample.
    private var gathered: [Float] = []
    private var gatheredBuckets: [ClosedRange<Int>] = []
    /// What the next pass over the data keeps, and how many values that is.
    private var toGather: [ClosedRange<Int>] = []
    private var toGatherCount = 0

    /// One parallel pass over the data. `withSums` also accumulates Σd, Σd² per bucket;
    /// `speculative` buckets (the first 15, from `Guess`) get their fine counts in the
    /// same pass, so later queries that land there need no second pass. A `centre` (only
    /// with `withSums`) also takes `centred`, the moments of all the values, in the same pass.
    init(_ sample: SampleHandle, withSums: Bool, centre: Double? = nil, speculative: [Int] = []) {
        precondition(withSums || centre == nil, "RadixIndex: centred sums come with bucket sums")
        self.sample = sample
        var targets = [Int]()
        for b in speculative where b >= SortKey.firstBucket && b <= SortKey.lastBucket
            && !targets.contains(b) && targets.count < 15 { targets.append(b) }
        var table = [UInt8](repeating: 0, count: targets.isEmpty ? 0 : 65536)
        for (i, b) in targets.enumerated() { table[b] = UInt8(i + 1) }
        let t = table, slots = targets.count, c = centre ?? 0
        // Each combination of switches is its own specialised loop.
        func pass<S: Switch, F: Switch, C: Switch>(_: S.Type, _: F.Type, _: C.Type) -> [PassResult] {
            sample.perWorker { RadixIndex.firstPass(sample, $0, S.self, F.self, C.self, t, slots, c) }
        }
        let parts: [PassResult]
        switch (withSums, slots > 0, centre != nil) {
        case (false, false, _): parts = pass(Off.self, Off.self, Off.self)
        case (false, true, _): parts = pass(Off.self, On.self, Off.self)
        case (true, false, false): parts = pass(On.self, Off.self, Off.self)
        case (true, true, false): parts = pass(On.self, On.self, Off.self)
        case (true, false, true): parts = pass(On.self, Off.self, On.self)
        case (true, true, true): parts = pass(On.self, On.self, On.self)
        }
        var total = CentredSums()
        for part in parts { total.merge(part.centred) }
        centred = centre == nil ? nil : total
        var merged = [Int](repeating: 0, count: 65536)
        var mergedSums = [Double](repeating: 0, count: withSums ? 2 * 65536 : 0)
        merged.withUnsafeMutableBufferPointer { m in
            mergedSums.withUnsafeMutableBufferPointer { s in
                for part in parts {
                    part.counts.withUnsafeBufferPointer { c in for b in 0..<65536 { m[b] &+= Int(c[b]) } }
                    part.sums.withUnsafeBufferPointer { p in for j in p.indices { s[j] += p[j] } }
                }
            }
        }
        // Buckets outside the finite range collected NaN, ±∞ and masked values: drop them.
        for b in 0..<SortKey.firstBucket { merged[b] = 0 }
        for b in (SortKey.lastBucket + 1)..<65536 { merged[b] = 0 }
        // A target bucket's values were counted in its fine histogram only.
        for (i, b) in targets.enumerated() {
            let f = RadixIndex.mergeFine(parts.map(\.counts), slot: i + 1)
            merged[b] = f.reduce(0, &+)
            if merged[b] > 0 { fine[b] = f }
        }
        counts = merged
        sums = mergedSums
        var p = [Int](repeating: 0, count: 65537)
        for b in 0..<65536 { p[b + 1] = p[b] &+ merged[b] }
        prefix = p
        passes = 1
    }

    var total: Int { prefix[65536] }

    // MARK: Kernels

    /// Compile-time switches for `firstPass`, so each combination is its own specialised loop.
    private protocol Switch: SendableMetatype { static var on: Bool { get } }
    private enum On: Switch { static var on: Bool { true } }
    private enum Off: Switch { static var on: Bool { false } }

    private struct PassResult: Sendable {
        /// Slot 0: counts per bucket; slot s in 1…15: the fine counts of the bucket `table`
        /// maps to s, whose values are counted there only.
        var counts: [UInt32]
        var sums: [Double]
        var centred: CentredSums
    }

    /// Bucket counts, optionally per-bucket sums, the fine counts of the buckets `table` maps
    /// to slots 1…`slots`, and sums about `centre`. Masked values go to bucket 0, which lies
    /// outside the finite buckets and is discarded; so are the NaN and ±∞ buckets.
    @inline(__always)
    private static func firstPass<Sums: Switch, Fine: Switch, Centred: Switch>(
        _ s: SampleHandle, _ r: Range<Int>, _: Sums.Type, _: Fine.Type, _: Centred.Type,
        _ table: [UInt8], _ slots: Int, _ centre: Double
    ) -> PassResult {
        var h = [UInt32](repeating: 0, count: (Fine.on ? slots + 1 : 1) << 16)
        var sums = [Double](repeating: 0, count: Sums.on ? 2 * 65536 : 0)
        var c = CentredSums()
        guard let v = s.values else { return PassResult(counts: h, sums: sums, centred: c) }
        h.withUnsafeMutableBufferPointer { hb in
            sums.withUnsafeMutableBufferPointer { sb in
                table.withUnsafeBufferPointer { tb in
                    let h = hb.baseAddress!, sp = sb.baseAddress, t = tb.baseAddress
                    let m = s.mask
                    var lo = UInt32.max, hi = UInt32.min, masked = 0
                    var i = r.lowerBound
                    while i < r.upperBound {
                        // The centred sums add up blocks of 4096 on their own, so their rounding
                        // errors grow with 4096 + n/4096 rather than with n.
                        let blockEnd = Centred.on ? Swift.min(i &+ 4096, r.upperBound) : r.upperBound
                        var s1 = 0.0, s2 = 0.0
                        while i < blockEnd {
                            let x = v[i]
                            let k = SortKey.key(x)
                            var b = Int(truncatingIfNeeded: k >> 16)
                            if let m {
                                if Centred.on { masked &+= m[i] == 0 ? 0 : 1 }
                                b = m[i] == 0 ? b : 0
                            }
                            // One increment per value: its bucket's count or, in a target bucket,
                            // its fine count (the bucket's count is their sum). About 5% faster
                            // than counting both.
                            let slot = Fine.on ? Int(t![b]) : 0
                            h[slot == 0 ? b : slot << 16 | Int(truncatingIfNeeded: k & 0xFFFF)] &+= 1
                            if Centred.on {
                                // Finite and unmasked (in a finite bucket); other values add
                                // d = 0. The extremes are kept as keys, with integer selects.
                                let use = UInt(bitPattern: b &- SortKey.firstBucket)
                                    <= UInt(SortKey.lastBucket &- SortKey.firstBucket)
                                let d = use ? Double(x) - centre : 0
                                s1 += d
                                s2 += d * d
                                lo = Swift.min(lo, use ? k : .max)
                                hi = Swift.max(hi, use ? k : .min)
                            }
                            if Sums.on {
                                // Exact: x and its truncation share sign and exponent.
                                let d = Double(x - Float(bitPattern: x.bitPattern & 0xFFFF_0000))
                                sp![2 &* b] += d
                                sp![2 &* b &+ 1] += d * d
                            }
                            i &+= 1
                        }
                        c.s1 += s1
                        c.s2 += s2
                    }
                    c.minKey = lo
                    c.maxKey = hi
                    c.masked = masked
                }
            }
        }
        return PassResult(counts: h, sums: sums, centred: c)
    }

    /// Counts the low key bits of the values in the `targets` buckets (at most 15; `table` maps
    /// bucket → slot 1…15 in its low bits), one histogram per slot; with `Gather` on, also
    /// returns the unmasked values whose bucket's entry has the bit 0x80.
    private static func fineCounts<Gather: Switch>(_ s: SampleHandle, _ r: Range<Int>, table: [UInt8], slots: Int, _: Gather.Type,
                                                   capacity: Int) -> (counts: [UInt32], kept: [Float]) {
        var h = [UInt32](repeating: 0, count: (slots + 1) << 16)
        guard let v = s.values else { return (h, []) }
        var n = 0
        let kept = [Float](unsafeUninitializedCapacity: Gather.on ? capacity : 0) { kb, written in
            h.withUnsafeMutableBufferPointer { hb in
                table.withUnsafeBufferPointer { tb in
                    let h = hb.baseAddress!, t = tb.baseAddress!, out = kb.baseAddress
                    let m = s.mask
                    var i = r.lowerBound
                    while i < r.upperBound {
                        let k = SortKey.key(v[i])
                        let entry = Int(t[Int(truncatingIfNeeded: k >> 16)])
                        var slot = entry & 0x0F
                        let use = m.map { $0[i] == 0 } ?? true
                        if m != nil { slot = use ? slot : 0 }
                        let low = Int(truncatingIfNeeded: k & 0xFFFF)
                        // Values of other buckets (slot 0) land in 256 scratch counters at the start
                        // of the unused slot-0 area: no branch, and unlike a full 64 Ki-bin scratch
                        // histogram they stay in L1 (about 20% faster than either alternative).
                        h[slot == 0 ? low & 0xFF : slot << 16 | low] &+= 1
                        if Gather.on && entry & 0x80 != 0 && use {
                            out![n] = v[i]
                            n &+= 1
                        }
                        i &+= 1
                    }
                }
            }
            written = n
        }
        return (h, kept)
    }

    /// Whether bucket `b`'s values are all in `gathered`.
    private func isGathered(_ b: Int) -> Bool { gatheredBuckets.contains { $0.contains(b) } }

    private static func mergeFine(_ parts: [[UInt32]], slot: Int) -> [Int] {
        var f = [Int](repeating: 0, count: 65536)
        let base = slot << 16
        f.withUnsafeMutableBufferPointer { fb in
            for p in parts {
                p.withUnsafeBufferPointer { pb in for j in 0..<65536 { fb[j] &+= Int(pb[base + j]) } }
            }
        }
        return f
    }

    // MARK: Refinement

    /// Makes sure the exact counts of `needed` buckets are known, in as few passes as possible.
    /// When a pass is made anyway, `speculative` buckets ride along (up to the slot limit).
    func refine(_ needed: [Int], speculative: [Int] = []) {
        var missing = [Int]()
        for b in needed where fine[b] == nil && counts[b] > 0 && !missing.contains(b) { missing.append(b) }
        guard !missing.isEmpty else { return }
        let gatheredOnly = missing.allSatisfy(isGathered)
        for b in speculative where fine[b] == nil && counts[b] > 0 && !missing.contains(b) && (!gatheredOnly || isGathered(b)) {
            missing.append(b)
        }
        let maxSlots = 15
        var start = 0
        while start < missing.count {
            let group = Array(missing[start..<min(start + maxSlots, missing.count)])
            start += group.count
            var table = [UInt8](repeating: 0, count: 65536)
            for (i, b) in group.enumerated() { table[b] = UInt8(i + 1) }
            let slots = group.count
            let parts: [(counts: [UInt32], kept: [Float])]
            if gatheredOnly {
                // On one thread: a second core's histograms cost more to clear and merge than
                // it saves on a few hundred thousand values (outliers +3 % of CPU).
                parts = gathered.withUnsafeBufferPointer { g in
                    [RadixIndex.fineCounts(SampleHandle(g, mask: nil), 0..<g.count, table: table, slots: slots, Off.self, capacity: 0)]
                }
            } else if toGather.isEmpty {
                let sample = self.sample, t = table
                parts = sample.perWorker { r in RadixIndex.fineCounts(sample, r, table: t, slots: slots, Off.self, capacity: 0) }
                passes += 1
            } else {
                for range in toGather { for b in range { table[b] |= 0x80 } }
                let sample = self.sample, t = table, capacity = toGatherCount
                parts = sample.perWorker { r in RadixIndex.fineCounts(sample, r, table: t, slots: slots, On.self, capacity: capacity) }
                gathered = parts.flatMap(\.kept)
                gatheredBuckets = toGather
                toGather = []
                passes += 1
            }
            for (i, b) in group.enumerated() { fine[b] = RadixIndex.mergeFine(parts.map(\.counts), slot: i + 1) }
        }
    }

    /// Has the next pass over the data also keep the values in `buckets` (finite buckets only),
    /// if they are at most half of the values: an iterative caller that knows roughly where its
    /// later ranks and bounds fall then refines there by scanning those, not the whole sample.
    func gatherOnNextPass(_ buckets: [ClosedRange<Int>]) {
        // Clipped to the finite buckets and merged where they overlap, so each value counts once.
        var merged: [ClosedRange<Int>] = []
        for r in buckets.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            let lo = max(r.lowerBound, SortKey.firstBucket), hi = min(r.upperBound, SortKey.lastBucket)
            guard lo <= hi else { continue }
            if let last = merged.last, lo <= last.upperBound + 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, hi)
            } else {
                merged.append(lo...hi)
            }
        }
        let n = merged.reduce(0) { $0 + prefix[$1.upperBound + 1] - prefix[$1.lowerBound] }
        (toGather, toGatherCount) = n > 0 && 2 * n <= total ? (merged, n) : ([], 0)
    }

    // MARK: Queries

    /// Buckets a range cuts through (their fine counts are needed to count the range).
    func cutBuckets(_ r: KeyRange) -> [Int] {
        guard !r.isEmpty else { return [] }
        return Set([r.firstBucket, r.lastBucket]).filter { r.cutsBucket($0) && counts[$0] > 0 }.sorted()
    }

    /// Values of bucket `b` inside `r`. Needs the fine counts if `r` cuts the bucket.
    func count(bucket b: Int, in r: KeyRange) -> Int {
        guard r.cutsBucket(b) else { return counts[b] }
        guard counts[b] > 0 else { return 0 }
        let f = fine[b]!
        var n = 0
        for j in r.lowBits(ofBucket: b) { n &+= f[j] }
        return n
    }

    /// Values inside `r`. The buckets `cutBuckets(r)` must be refined.
    func count(_ r: KeyRange) -> Int {
        guard !r.isEmpty else { return 0 }
        let bL = r.firstBucket, bH = r.lastBucket
        if bL == bH { return count(bucket: bL, in: r) }
        return count(bucket: bL, in: r) + (prefix[bH] - prefix[bL + 1]) + count(bucket: bH, in: r)
    }

    /// The bucket holding the value of 0-based `rank` among those inside `r`, and the rank
    /// within that bucket's part of `r`. The cut buckets of `r` must be refined.
    func locate(rank: Int, in r: KeyRange) -> (bucket: Int, rank: Int) {
        let bL = r.firstBucket, bH = r.lastBucket
        var rem = rank
        let cL = count(bucket: bL, in: r)
        if bL == bH || rem < cL { return (bL, rem) }
        rem -= cL
        let base = prefix[bL + 1]
        if prefix[bH] - base > rem {
            // First bucket b in (bL, bH) with prefix[b + 1] − base > rem.
            var lo = bL + 1, hi = bH - 1
            while lo < hi {
                let mid = (lo + hi) / 2
                if prefix[mid + 1] - base > rem { hi = mid } else { lo = mid + 1 }
            }
            return (lo, rem - (prefix[lo] - base))
        }
        return (bH, rem - (prefix[bH] - base))
    }

    /// The value at `rank` within bucket `b`'s part of `r`. Bucket `b` must be refined.
    func resolve(bucket b: Int, rank: Int, in r: KeyRange) -> Float {
        let f = fine[b]!
        var rem = rank
        for j in r.lowBits(ofBucket: b) {
            let c = f[j]
            if rem < c { return SortKey.value(UInt32(b) << 16 | UInt32(j)) }
            rem -= c
        }
        preconditionFailure("RadixIndex: rank \(rank) beyond bucket \(b)")
    }

    /// Exact values at the given 0-based ranks (each < count(r)) among the values inside `r`.
    /// Makes at most one extra pass (plus one if `r` cuts unrefined buckets); `speculative`
    /// buckets are refined in the same pass if one is needed.
    func select(ranks: [Int], in r: KeyRange, speculative: [Int] = []) -> [Float] {
        refine(cutBuckets(r))
        let located = ranks.map { locate(rank: $0, in: r) }
        refine(located.map(\.bucket), speculative: speculative)
        return located.map { resolve(bucket: $0.bucket, rank: $0.rank, in: r) }
    }

    /// Count, mean and population variance of the values inside `r`, from the per-bucket sums
    /// (and the fine counts of cut buckets, which must be refined). `reference` should be
    /// near the centre of the data; sums are taken about it to avoid cancellation.
    func moments(in r: KeyRange, reference: Double) -> (n: Int, mean: Double, variance: Double) {
        precondition(!sums.isEmpty, "RadixIndex built without sums")
        guard !r.isEmpty else { return (0, .nan, .nan) }
        var n = 0
        var s1 = 0.0, s2 = 0.0
        let refs = SortKey.bucketReference
        for b in r.firstBucket...r.lastBucket {
            let c = counts[b]
            if c == 0 { continue }
            if r.cutsBucket(b) {
                let f = fine[b]!
                for j in r.lowBits(ofBucket: b) where f[j] != 0 {
                    let k = Double(f[j])
                    let d = Double(SortKey.value(UInt32(b) << 16 | UInt32(j))) - reference
                    n &+= f[j]; s1 += k * d; s2 += k * d * d
                }
            } else {
                let k = Double(c)
                let shift = refs[b] - reference
                let a1 = sums[2 * b], a2 = sums[2 * b + 1]
                n &+= c
                s1 += a1 + k * shift
                s2 += a2 + 2 * shift * a1 + k * shift * shift
            }
        }
        guard n > 0 else { return (0, .nan, .nan) }
        let m1 = s1 / Double(n)
        return (n, reference + m1, max(0, s2 / Double(n) - m1 * m1))
    }

    /// Lowest and highest value a bucket can hold.
    static func valueSpan(ofBucket b: Int) -> (Double, Double) {
        (Double(SortKey.value(UInt32(b) << 16)), Double(SortKey.value(UInt32(b) << 16 | 0xFFFF)))
    }
}

// MARK: - Guessing where ranks fall

/// A sorted strided subsample predicts which buckets the wanted ranks (and, for sigma
/// clipping, the bounds) will land in. `RadixIndex` refines those buckets during its first
/// pass, so a right guess saves a whole pass over the data; a wrong one costs nothing but the
/// few fine counts, and the exact answer never depends on it.
enum Guess {
    /// Inputs smaller than this are not worth guessing for.
    static let minCount = 1 << 16

    /// About `limit` finite, unmasked values at a regular stride, sorted, as Double.
    static func preview(_ s: SampleHandle, limit: Int = 8192) -> [Double] {
        guard s.count >= minCount, let v = s.values else { return [] }
        let stride = s.count / limit
        var out = [Double]()
        out.reserveCapacity(limit)
        var i = stride / 2
        while i < s.count {
            let x = v[i]
            if x.isFinite && (s.mask == nil || s.mask![i] == 0) { out.append(Double(x)) }
            i &+= stride
        }
        out.sort()
        return out
    }

    /// The buckets spanned by the values `[a, b]`, if there are at most `limit` of them.
    static func buckets(_ a: Double, _ b: Double, limit: Int = 4) -> [Int] {
        let r = SortKey.range(Swift.min(a, b), Swift.max(a, b))
        guard !r.isEmpty, r.lastBucket - r.firstBucket < limit else { return [] }
        return Array(r.firstBucket...r.lastBucket)
    }

    /// Buckets likely to hold quantile `q` (0…1) of the data of which `sorted` is a sample:
    /// those spanned by the sample values within four standard errors of its rank.
    static func quantile(_ sorted: ArraySlice<Double>, _ q: Double) -> [Int] {
        let m = sorted.count
        guard m > 0 else { return [] }
        let centre = q * Double(m - 1)
        let spread = 4 * (Double(m) * q * (1 - q)).squareRoot() + 2
        let lo = Swift.max(0, Int((centre - spread).rounded(.down)))
        let hi = Swift.min(m - 1, Int((centre + spread).rounded(.up)))
        return buckets(sorted[sorted.startIndex + lo], sorted[sorted.startIndex + hi])
    }

    /// Buckets for the given percentiles.
    static func percentiles(_ s: SampleHandle, _ qs: [Double]) -> [Int] {
        let p = preview(s)
        return qs.flatMap { quantile(p[...], $0) }
    }

    /// The median of a sorted `preview`; nil if it is empty.
    static func median(_ p: [Double]) -> Double? {
        p.isEmpty ? nil : (p[(p.count - 1) / 2] + p[p.count / 2]) / 2
    }

    /// Buckets for sigma clipping: the clipping rerun on the sorted `preview`, with every
    /// iteration's median and both bounds (each ±10% of that iteration's σ, for the sample's error).
    static func sigmaClip(_ p: [Double], sigmaLower: Double, sigmaUpper: Double,
                          maxIters: Int, centre: ClipCentre) -> [Int] {
        guard !p.isEmpty else { return [] }
        var medians = [Int](), bounds = [Int]()
        var kept = p[...]
        var iteration = 0
        while iteration < Swift.min(maxIters, 10), !kept.isEmpty {
            iteration += 1
            let n = Double(kept.count)
            let mean = kept.reduce(0, +) / n
            let std = (kept.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n).squareRoot()
            medians += quantile(kept, 0.5)
            let med = (kept[kept.startIndex + (kept.count - 1) / 2] + kept[kept.startIndex + kept.count / 2]) / 2
            let c = centre == .median ? med : mean
            let lo = c - sigmaLower * std, hi = c + sigmaUpper * std
            bounds += buckets(lo - 0.1 * std, lo + 0.1 * std) + buckets(hi - 0.1 * std, hi + 0.1 * std)
            let first = kept.firstIndex { $0 >= lo } ?? kept.endIndex
            let last = kept.lastIndex { $0 <= hi }.map { $0 + 1 } ?? first
            let next = kept[first..<Swift.max(first, last)]
            if next.count == kept.count { break }
            kept = next
        }
        return medians + bounds
    }
}

// MARK: - 64-bit keys (deviations computed in Double)

/// A source of non-negative Double keys for `select64`: the bit patterns of non-negative
/// Doubles order like the values. Excluded elements return `UInt64.max`.
protocol KeySource64: Sendable {
    var sample: SampleHandle { get }
    func key(_ i: Int) -> UInt64
}

/// Exact order statistics of non-negative finite Double keys, by four 16-bit radix passes.
/// Used for the MAD, whose deviations |x − median| are only exact in Double.
func select64<S: KeySource64>(_ source: S, ranks: [Int]) -> [Double] {
    // Per rank: the key prefix decided so far and the rank left within it.
    var prefixes = [UInt64](repeating: 0, count: ranks.count)
    var remaining = ranks
    for level in 0..<4 {
        let shift = UInt64(48 - 16 * level)
        let targets = Array(Set(prefixes)).sorted()   // at most ranks.count distinct
        let hist = histogram64(source, level: level, targets: targets)
        for i in ranks.indices {
            let t = targets.firstIndex(of: prefixes[i])!
            let base = t << 16
            // Level 0: only finite buckets (exponent below all ones) count.
            let limit = level == 0 ? 0x7FF0 : 0x10000
            var rem = remaining[i], digit = 0
            while digit < limit {
                let c = hist[base + digit]
                if rem < c { break }
                rem -= c
                digit += 1
            }
            precondition(digit < limit, "select64: rank beyond data")
            prefixes[i] = prefixes[i] | (UInt64(digit) << shift)
            remaining[i] = rem
        }
    }
    return prefixes.map { Double(bitPattern: $0) }
}

private func histogram64<S: KeySource64>(_ source: S, level: Int, targets: [UInt64]) -> [Int] {
    let shift = UInt64(48 - 16 * level)
    let parts = source.sample.perWorker { r -> [UInt32] in
        // Slot 0: no target matched (or level 0, where everything counts in slot 0).
        var h = [UInt32](repeating: 0, count: (targets.count + 1) << 16)
        h.withUnsafeMutableBufferPointer { hb in
            let h = hb.baseAddress!
            let t0 = targets.first ?? 0, t1 = targets.count > 1 ? targets[1] : t0
            let highMask: UInt64 = level == 0 ? 0 : ~0 << (shift + 16)
            var i = r.lowerBound
            while i < r.upperBound {
                let k = source.key(i)
                let digit = Int(truncatingIfNeeded: (k >> shift) & 0xFFFF)
                let slot: Int
                if level == 0 {
                    slot = 1
                } else {
                    let p = k & highMask
                    slot = p == t0 ? 1 : (p == t1 ? 2 : 0)
                }
                h[slot << 16 | digit] &+= 1
                i &+= 1
            }
        }
        return h
    }
    var merged = [Int](repeating: 0, count: max(1, targets.count) << 16)
    for p in parts {
        for j in 0..<merged.count { merged[j] &+= Int(p[(1 << 16) + j]) }
    }
    return merged
}
