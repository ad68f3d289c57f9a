@testable import AstroCCD
import Testing
import AstroTestSupport

/// The rank filters' merge network (sorted columns merged, +inf padding relabelled, pruned)
/// against plain sorting: every rank it is asked for, on random values with ties.
@Suite struct MedianRanksTests {
    @Test(arguments: [(15, 15, [155, 69]), (7, 7, [24]), (5, 3, [0, 7, 14]), (9, 9, [40]), (1, 4, [1, 2]), (4, 1, [3])])
    func mergeNetworkPicksTheRanks(runs: Int, length: Int, ranks: [Int]) {
        let (network, slots) = MedianFilter.Network.merging(runs: runs, length: length, outputs: ranks)
        let n = runs * length
        let v = UnsafeMutablePointer<MedianFilter.Lanes>.allocate(capacity: n)
        defer { v.deallocate() }
        var rng = SeededGenerator(seed: 1)
        for _ in 0..<50 {
            // Independent windows, one per lane; values from a small set, so ties happen.
            let width = MedianFilter.Lanes.scalarCount
            var lanes = [[Float]](repeating: [], count: width)
            for lane in 0..<width {
                var all: [Float] = []
                for _ in 0..<runs {
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
    /// that take the paired tiles with a shifted last pair (37), single tiles (20) and scalars (9).
    @Test(arguments: [37, 20, 9])
    func rankFilterMatchesSorting(w: Int) {
        let h = 23, sy = 15, sx = 15, ranks = [155, 69]
        var rng = SeededGenerator(seed: 2)
        let values = (0..<(w * h)).map { _ in Float.random(in: -1...1, using: &rng) }
        let src = values.withUnsafeBufferPointer { Plane<Float>(width: w, height: h, copying: $0) }
        let outs = MedianFilter.ranks(src, height: sy, width: sx, ranks: ranks)
        func reflect(_ i: Int, _ n: Int) -> Int {
            var i = i
            while i < 0 || i >= n { i = i < 0 ? -i - 1 : 2 * n - i - 1 }
            return i
        }
        var worst: Float = 0
        for y in 0..<h {
            for x in 0..<w {
                var window: [Float] = []
                for j in 0..<sy { for k in 0..<sx { window.append(values[reflect(y + j - sy / 2, h) * w + reflect(x + k - sx / 2, w)]) } }
                window.sort()
                for (out, r) in zip(outs, ranks) { worst = max(worst, abs(out[x, y] - window[r])) }
            }
        }
        #expect(worst == 0)
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
