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
    /// of its two sides, (gi, gj) and (gj, gi), and `combine` on the pair's two sides. Returns the
    /// non-nil results in pair order and each chip's overlap pixel count summed over the pairs.
    /// With `sidesApart` the sides are spread over the cores one by one and joined at the end
    /// (for small side results); otherwise a worker runs a pair's two sides and joins them at
    /// once, so that only one pair's sides are held per core.
    static func map<T: Sendable, U: Sendable>(members: [[Int]], chips: [SkyChip], sidesApart: Bool,
                                              _ side: @escaping (inout PairWorker, _ from: Int, _ against: Int) -> T,
                                              combine: @escaping (_ gi: Int, _ gj: Int, T, T) -> U?) -> (results: [U], overlapPixels: [Int]) {
        let all = members.indices.flatMap { gi in (gi + 1..<members.count).map { (gi, $0) } }
        // A pair's work grows with its overlap, the area where the groups' footprints meet.
        let sizes = all.map { gi, gj in
            members[gi].reduce(0.0) { sum, m in
                members[gj].reduce(sum) { $0 + (chips[m].footprint.intersection(chips[$1].footprint)?.area ?? 0) }
            }
        }
        // The largest overlaps first. A side is serial work: with sides apart, a side rather
        // than a whole pair is what one core is left alone with at the end. (Side −1: both.)
        let order = all.indices.sorted { sizes[$0] > sizes[$1] }
        let jobs = sidesApart ? order.flatMap { [(pair: $0, side: 0), (pair: $0, side: 1)] } : order.map { (pair: $0, side: -1) }
        let shared = Unshared(Job(chips: chips, body: side, combine: combine))
        // One worker per core takes the next job as it finishes one (with fixed blocks of
        // pairs in index order one core was left alone with the last block).
        let next = Atomic<Int>(0)
        let parts = Parallel.mapBlocks(count: min(Parallel.threads, jobs.count)) { _ -> Part<T, U> in
            let job = shared.value
            var worker = PairWorker(chips: job.chips.map { $0.twin() }, overlapPixels: [Int](repeating: 0, count: job.chips.count))
            var sides: [(Int, T)] = [], joined: [(Int, U)] = []
            while true {
                let p = next.add(1, ordering: .relaxed).oldValue
                guard p < jobs.count else { break }
                let (pair, which) = jobs[p], (gi, gj) = all[pair]
                switch which {
                case 0: sides.append((2 * pair, job.body(&worker, gi, gj)))
                case 1: sides.append((2 * pair + 1, job.body(&worker, gj, gi)))
                default:
                    let a = job.body(&worker, gi, gj), b = job.body(&worker, gj, gi)
                    if let u = job.combine(gi, gj, a, b) { joined.append((pair, u)) }
                }
            }
            return Part(sides: sides, joined: joined, overlapPixels: worker.overlapPixels)
        }
        var counts = [Int](repeating: 0, count: chips.count)
        for part in parts { for k in counts.indices { counts[k] += part.overlapPixels[k] } }
        guard sidesApart else { return (parts.flatMap(\.joined).sorted { $0.0 < $1.0 }.map(\.1), counts) }
        let sides = parts.flatMap(\.sides).sorted { $0.0 < $1.0 }.map(\.1)
        return (all.indices.compactMap { p in combine(all[p].0, all[p].1, sides[2 * p], sides[2 * p + 1]) }, counts)
    }

    private struct Job<T, U> {
        let chips: [SkyChip]
        let body: (inout PairWorker, Int, Int) -> T
        let combine: (Int, Int, T, T) -> U?
    }

    private struct Part<T: Sendable, U: Sendable>: Sendable {
        let sides: [(Int, T)]
        let joined: [(Int, U)]
        let overlapPixels: [Int]
    }
}
