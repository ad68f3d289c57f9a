import AstroImage
import Synchronization

/// The pairs of groups measured across the cores. A pair's work (sampling the overlaps both
/// ways, gathering the differences, their statistic) is mostly serial, so whole pairs, not
/// rows, are what keeps both cores busy. Each worker holds twins of the chips (a WCS must not
/// be used by two threads at once) and its own scratch buffer; the results do not depend on
/// how the pairs were spread.
struct PairWorker {
    /// The run's chips, each with this worker's own WCS.
    let chips: [SkyChip]
    /// The overlap buffer `SkyMatch.differences` reuses from pair to pair.
    var scratch: [Float] = []
    /// Overlap pixels counted per chip by this worker's pairs.
    var overlapPixels: [Int]

    /// Runs `body` on every pair of groups gi < gj (`members`: each group's chips), pairs spread
    /// over the cores; returns the non-nil results in pair order and each chip's overlap pixel
    /// count summed over the pairs.
    static func map<T: Sendable>(members: [[Int]], chips: [SkyChip],
                                 _ body: @escaping (inout PairWorker, _ gi: Int, _ gj: Int) -> T?) -> (results: [T], overlapPixels: [Int]) {
        let all = members.indices.flatMap { gi in (gi + 1..<members.count).map { (gi, $0) } }
        // A pair's work grows with its overlap, the area where the groups' footprints meet.
        let sizes = all.map { gi, gj in
            members[gi].reduce(0.0) { sum, m in
                members[gj].reduce(sum) { $0 + (chips[m].footprint.intersection(chips[$1].footprint)?.area ?? 0) }
            }
        }
        let pairs = all.indices.sorted { sizes[$0] > sizes[$1] }.map { (index: $0, pair: all[$0]) }
        let shared = Unshared(Job(chips: chips, body: body))
        // One worker per core takes the next pair as it finishes one, largest first: with fixed
        // blocks of pairs in index order one core was left alone with the last block. (A pair
        // itself is serial, so one core still finishes the last pair alone.)
        let next = Atomic<Int>(0)
        let parts = Parallel.mapBlocks(count: min(Parallel.threads, pairs.count)) { _ -> Part<T> in
            let job = shared.value
            var worker = PairWorker(chips: job.chips.map { $0.twin() }, overlapPixels: [Int](repeating: 0, count: job.chips.count))
            var found: [(Int, T)] = []
            while true {
                let p = next.add(1, ordering: .relaxed).oldValue
                guard p < pairs.count else { break }
                let (index, (gi, gj)) = pairs[p]
                if let r = job.body(&worker, gi, gj) { found.append((index, r)) }
            }
            return Part(results: found, overlapPixels: worker.overlapPixels)
        }
        var counts = [Int](repeating: 0, count: chips.count)
        for part in parts { for k in counts.indices { counts[k] += part.overlapPixels[k] } }
        return (parts.flatMap(\.results).sorted { $0.0 < $1.0 }.map(\.1), counts)
    }

    private struct Job<T> {
        let chips: [SkyChip]
        let body: (inout PairWorker, Int, Int) -> T?
    }

    private struct Part<T: Sendable>: Sendable {
        let results: [(Int, T)]
        let overlapPixels: [Int]
    }
}
