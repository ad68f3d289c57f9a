import Dispatch
import Synchronization

/// Runs row blocks of an image across all cores (or `--threads N`).
public enum Parallel {
    private static let threadLimit = Atomic<Int>(0)

    /// Number of worker threads used by `forEachBlock`; 0 means one per active core.
    public static var threads: Int {
        get {
            let n = threadLimit.load(ordering: .relaxed)
            return n > 0 ? n : max(1, activeProcessorCount)
        }
        set { threadLimit.store(max(0, newValue), ordering: .relaxed) }
    }

    /// Splits `0..<count` into contiguous blocks of at least `minBlock` items and runs `body`
    /// on each, concurrently. Blocks are disjoint, so `body` may write to its own range of a
    /// shared buffer. Returns when every block is done.
    public static func forEachBlock(count: Int, minBlock: Int = 1, _ body: @Sendable (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let workers = min(threads, max(1, count / max(1, minBlock)))
        if workers <= 1 { body(0..<count); return }
        // A few blocks per worker balances uneven rows without much overhead.
        let blocks = min(count, workers * 4)
        DispatchQueue.concurrentPerform(iterations: blocks) { b in
            let lo = count * b / blocks, hi = count * (b + 1) / blocks
            if lo < hi { body(lo..<hi) }
        }
    }

    /// Maps each block to a partial result and returns them in block order, for reductions.
    public static func mapBlocks<T: Sendable>(count: Int, minBlock: Int = 1,
                                              _ body: @Sendable (Range<Int>) -> T) -> [T] {
        guard count > 0 else { return [] }
        let workers = min(threads, max(1, count / max(1, minBlock)))
        if workers <= 1 { return [body(0..<count)] }
        let blocks = min(count, workers * 4)
        let results = Mutex<[T?]>(Array(repeating: nil, count: blocks))
        DispatchQueue.concurrentPerform(iterations: blocks) { b in
            let lo = count * b / blocks, hi = count * (b + 1) / blocks
            let r = body(lo..<hi)
            results.withLock { $0[b] = r }
        }
        return results.withLock { $0.map { $0! } }
    }

    /// Maps each of `0..<count` to a result across the cores (in blocks, as `mapBlocks`), for
    /// work that can fail: the results in order, or the first error in order, rethrown once
    /// every item is done.
    public static func tryMap<T: Sendable>(count: Int, _ body: @Sendable (Int) throws -> T) throws -> [T] {
        try mapBlocks(count: count) { r in r.map { k in Result { try body(k) } } }.flatMap { $0 }.map { try $0.get() }
    }

    /// Runs `a` and `b` at the same time (each may use `forEachBlock` itself) and returns both
    /// results; the first error thrown, `a`'s before `b`'s, is rethrown once both are done. For
    /// two independent jobs whose serial parts would leave cores idle one after the other.
    public static func both<A: Sendable, B: Sendable>(_ a: @Sendable () throws -> A, _ b: @Sendable () throws -> B) throws -> (A, B) {
        guard threads > 1 else { return (try a(), try b()) }
        let ra = Mutex<Result<A, any Error>?>(nil), rb = Mutex<Result<B, any Error>?>(nil)
        DispatchQueue.concurrentPerform(iterations: 2) { k in
            if k == 0 { let r = Result { try a() }; ra.withLock { $0 = r } }
            else { let r = Result { try b() }; rb.withLock { $0 = r } }
        }
        let x = try ra.withLock { $0! }.get(), y = try rb.withLock { $0! }.get()
        return (x, y)
    }

    private static var activeProcessorCount: Int {
        #if canImport(Glibc)
        Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #else
        4
        #endif
    }
}

#if canImport(Glibc)
import Glibc
#endif
