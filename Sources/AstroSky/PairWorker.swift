import AstroImage
import Synchronization

/// The pairs of groups measured across the cores. A pair's work (sampling the overlaps both
/// ways, gathering the differences, their statistic) is mostly serial, so the sides of pairs,
/// not rows, are what keeps both cores busy. Each worker holds twins of the chips (a WCS must not
/// be used by two threads at once) and its own scratch buffer; the results do not depend on
/// how the pairs were spread.
struct PairWorker {
    /// The run's chips, each with this worker's own WCS.
    let chips: [SkyChip]
    /// The overlap buffer `SkyMatch.differences` reuses from pair to pair.
    var scratch: [Float] = []
    /// Overlap pixels counted per chip by this worker's pairs.
    var overlapPixels: [Int]

    /// Runs `side` on every pair of groups gi < gj (`members`: each group's chips) seen from each
    /// of its two sides, (gi, gj) and (gj, gi), the sides spread over the cores; `combine` joins
    /// a pair's two sides. Returns the non-nil results in pair order and each chip's overlap
    /// pixel count summed over the pairs.
    static func map<T: Sendable, U>(members: [[Int]], chips: [SkyChip],
                                    _ side: @escaping (inout PairWorker, _ from: Int, _ against: Int) -> T,
                                    combine: (_ gi: Int, _ gj: Int, T, T) -> U?) -> (results: [U], overlapPixels: [Int]) {
        let all = members.indices.flatMap { gi in (gi + 1..<members.count).map { (gi, $0) } }
        // A pair's work grows with its overlap, the area where the groups' footprints meet.
        let sizes = all.map { gi, gj in
            members[gi].reduce(0.0) { sum, m in
                members[gj].reduce(sum) { $0 + (chips[m].footprint.intersection(chips[$1].footprint)?.area ?? 0) }
            }
        }
        // The sides of the largest overlaps first; a side is serial work, so sides rather than
        // whole pairs are what one core is left alone with at the end.
        let jobs = all.indices.sorted { sizes[$0] > sizes[$1] }.flatMap { [(pair: $0, flipped: false), (pair: $0, flipped: true)] }
        let shared = Unshared(Job(chips: chips, body: side))
        // One worker per core takes the next side as it finishes one (with fixed blocks of
        // pairs in index order one core was left alone with the last block).
        let next = Atomic<Int>(0)
        let parts = Parallel.mapBlocks(count: min(Parallel.threads, jobs.count)) { _ -> Part<T> in
            let job = shared.value
            var worker = PairWorker(chips: job.chips.map { $0.twin() }, overlapPixels: [Int](repeating: 0, count: job.chips.count))
            var found: [(Int, T)] = []
            while true {
                let p = next.add(1, ordering: .relaxed).oldValue
                guard p < jobs.count else { break }
                let (gi, gj) = all[jobs[p].pair]
                found.append((2 * jobs[p].pair + (jobs[p].flipped ? 1 : 0),
                              jobs[p].flipped ? job.body(&worker, gj, gi) : job.body(&worker, gi, gj)))
            }
            return Part(results: found, overlapPixels: worker.overlapPixels)
        }
        var counts = [Int](repeating: 0, count: chips.count)
        for part in parts { for k in counts.indices { counts[k] += part.overlapPixels[k] } }
        let sides = parts.flatMap(\.results).sorted { $0.0 < $1.0 }.map(\.1)
        let results = all.indices.compactMap { p in combine(all[p].0, all[p].1, sides[2 * p], sides[2 * p + 1]) }
        return (results, counts)
    }

    private struct Job<T> {
        let chips: [SkyChip]
        let body: (inout PairWorker, Int, Int) -> T
    }

    private struct Part<T: Sendable>: Sendable {
        let results: [(Int, T)]
        let overlapPixels: [Int]
    }
}
