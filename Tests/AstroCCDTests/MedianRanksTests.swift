@testable import AstroCCD
import Testing
import AstroTestSupport

/// The rank filters' merge network (sorted columns merged, +inf padding relabelled, pruned)
/// against plain sorting: every rank it is asked for, on random values with ties.
@Suite struct MedianRanksTests {
    /// Runs of unequal lengths too (a band of ranks merged with sorted rows, as the rank
    /// filter's tiles do).
    @Test(arguments: [([Int](repeating: 15, count: 15), [155, 69]), ([Int](repeating: 7, count: 7), [24]),
                      ([3, 3, 3, 3, 3], [0, 7, 14]), ([Int](repeating: 9, count: 9), [40]), ([4], [1, 2]), ([1, 1, 1, 1], [3]),
                      ([46, 30], Array(30...45)), ([22, 7, 7], [14, 21]), ([15, 15], Array(0..<30)), ([5, 1, 2], [0, 4, 7])])
    func mergeNetworkPicksTheRanks(lengths: [Int], ranks: [Int]) {
        let (network, slots) = MedianFilter.Network.merging(lengths: lengths, outputs: ranks)
        let n = lengths.reduce(0, +)
        let v = UnsafeMutablePointer<MedianFilter.Lanes>.allocate(capacity: n)
        defer { v.deallocate() }
        var rng = SeededGenerator(seed: 1)
        for _ in 0..<50 {
            // Independent windows, one per lane; values from a small set, so ties happen.
            let width = MedianFilter.Lanes.scalarCount
            var lanes = [[Float]](repeating: [], count: width)
            for lane in 0..<width {
                var all: [Float] = []
                for length in lengths {
                    all += (0..<length).map { _ in Float(Int.random(in: 0..<20, using: &rng)) }.sorted()
                }
                lanes[lane] = all
            }
            for k in 0..<n { v[k] = MedianFilter.Lanes((0..<width).map { lanes[$0][k] }) }
            network.sort(v)
            for lane in 0..<width {
                let sorted = lanes[lane].sorted()
                for (rank, slot) in zip(ranks, slots) { #expect(v[slot][lane] == sorted[rank]) }
            }
        }
    }

    /// The filter itself against a brute-force reflect-padded rank filter (scipy's mode); widths
    /// that take two tiles with a shifted last one (37), an odd tile count (20: one paired with
    /// itself) and the sorted windows (9); heights that end in a shifted tile of four rows (23),
    /// or have tiles of two (3) and one row (1); windows too short for tiles of four, even sides.
    @Test(arguments: [(37, 23, 15, 15, [155, 69]), (20, 23, 15, 15, [155, 69]), (9, 23, 15, 15, [155, 69]),
                      (40, 30, 7, 7, [24]), (33, 17, 3, 5, [0, 7, 14]), (35, 3, 5, 5, [12]), (21, 1, 5, 5, [3, 12]),
                      (24, 13, 4, 6, [0, 11, 23]), (17, 9, 1, 3, [1]), (18, 11, 2, 2, [0, 3]), (50, 40, 9, 9, [40, 10])])
    func rankFilterMatchesSorting(w: Int, h: Int, sx: Int, sy: Int, ranks: [Int]) {
        var rng = SeededGenerator(seed: 2)
        // Values from a small set, so windows hold ties.
        let values = (0..<(w * h)).map { _ in Float(Int.random(in: -40...40, using: &rng)) / 8 }
        let src = values.withUnsafeBufferPointer { Plane<Float>(width: w, height: h, copying: $0) }
        let outs = MedianFilter.ranks(src, height: sy, width: sx, ranks: ranks)
        func reflect(_ i: Int, _ n: Int) -> Int {
            var i = i
            while i < 0 || i >= n { i = i < 0 ? -i - 1 : 2 * n - i - 1 }
            return i
        }
        var wrong = 0
        for y in 0..<h {
            for x in 0..<w {
                var window: [Float] = []
                for j in 0..<sy { for k in 0..<sx { window.append(values[reflect(y + j - sy / 2, h) * w + reflect(x + k - sx / 2, w)]) } }
                window.sort()
                for (out, r) in zip(outs, ranks) where out[x, y] != window[r] { wrong += 1 }
            }
        }
        #expect(wrong == 0)
    }

    /// The separable median (a median along each row, then along each column of those) against
    /// sorting, for the unrolled networks (5, 7, 9) and the general one (3, 11); values with ties.
    /// Width 9 also takes the scalar path, and for sizes 9 and 11 leaves no column to filter.
    @Test(arguments: [3, 5, 7, 9, 11], [41, 9])
    func separableMedianMatchesSorting(size: Int, w: Int) {
        let h = 29, r = size / 2
        var rng = SeededGenerator(seed: 3)
        let values = (0..<(w * h)).map { _ in Float(Int.random(in: 0..<50, using: &rng)) / 4 }
        let src = values.withUnsafeBufferPointer { Plane<Float>(width: w, height: h, copying: $0) }
        let out = MedianFilter.separable(src, size: size)
        // Pixels within r of an edge keep their value.
        var rows = values
        for y in 0..<h { for x in r..<max(r, w - r) { rows[y * w + x] = (0..<size).map { values[y * w + x - r + $0] }.sorted()[r] } }
        for y in 0..<h {
            for x in 0..<w {
                let edge = y < r || y >= h - r || x < r || x >= w - r
                let want = edge ? values[y * w + x] : (0..<size).map { rows[(y - r + $0) * w + x] }.sorted()[r]
                #expect(out[x, y] == want, "size \(size) at \(x),\(y)")
            }
        }
    }
}
