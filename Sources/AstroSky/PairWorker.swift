import AstroImage

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

    /// Runs `body` on every pair of groups gi < gj, pairs spread over the cores; returns the
    /// non-nil results in pair order and each chip's overlap pixel count summed over the pairs.
    static func map<T: Sendable>(groups: Int, chips: [SkyChip],
                                 _ body: @escaping (inout PairWorker, _ gi: Int, _ gj: Int) -> T?) -> (results: [T], overlapPixels: [Int]) {
        let pairs = (0..<groups).flatMap { gi in (gi + 1..<groups).map { (gi, $0) } }
        let shared = Unshared(Job(chips: chips, body: body))
        let parts = Parallel.mapBlocks(count: pairs.count) { block -> Part<T> in
            let job = shared.value
            var worker = PairWorker(chips: job.chips.map { $0.twin() }, overlapPixels: [Int](repeating: 0, count: job.chips.count))
            var found: [T] = []
            for p in block { if let r = job.body(&worker, pairs[p].0, pairs[p].1) { found.append(r) } }
            return Part(results: found, overlapPixels: worker.overlapPixels)
        }
        var counts = [Int](repeating: 0, count: chips.count)
        for part in parts { for k in counts.indices { counts[k] += part.overlapPixels[k] } }
        return (parts.flatMap(\.results), counts)
    }

    private struct Job<T> {
        let chips: [SkyChip]
        let body: (inout PairWorker, Int, Int) -> T?
    }

    private struct Part<T: Sendable>: Sendable {
        let results: [T]
        let overlapPixels: [Int]
    }
}
