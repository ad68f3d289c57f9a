#if canImport(Glibc)
import Glibc
#endif

/// glibc's allocator gives every block over 128 KiB its own mmap and unmaps it when freed, and
/// hands the top of its heap back to the kernel once 128 KiB lie free there, so each new image
/// plane is fresh pages the kernel must fault in and zero (~1.6 µs a 4 KiB page on this VM:
/// most of astrotool's system time). Two settings keep freed planes for reuse as they are:
/// - no block gets its own mmap: all come from the heap, so a freed 32 MiB plane of a
///   4096×2048 frame (past glibc's largest mmap threshold) is reused by the next one (L.A.Cosmic
///   on such a frame 1.12 → 0.94 s, peak 380 → 356 MiB; a block the heap cannot grow for still
///   gets an mmap, glibc's fallback);
/// - the heap's free top is kept (up to 2 GiB): with a 64 MiB threshold, two freed planes at its top went back
///   to the kernel and were faulted in again for the next ones, twice over on a 4096×2048 night
///   (its recipe 21.2 → 17.8 s, 2.9 → 1.8 million faults, peaks within 4 %). The memory goes back
///   when the process ends, seconds later.
enum MallocTuning {
    static func apply() {
        #if os(Linux)
        // mallopt is in malloc.h, which Swift's Glibc module leaves out.
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
        _ = mallopt(-4 /* M_MMAP_MAX */, 0)
        _ = mallopt(-1 /* M_TRIM_THRESHOLD */, Int32.max)
        hugePages()
        #endif
    }

    #if os(Linux)
    /// The heap in transparent huge pages, where the system offers them on request
    /// (`enabled` = madvise or always): a 2 MiB page is one fault where 512 small pages were 512,
    /// and faults were the largest fixed cost left. The first GiB of heap is reserved (address
    /// space only: nothing is touched), marked MADV_HUGEPAGE and handed back to the allocator,
    /// which keeps it (the trim threshold above) and carves every later plane from it. A heap
    /// that grows past it gets small pages, as before; a system that refuses the reservation
    /// (a low `ulimit -v`, strict overcommit) changes nothing. Same outputs; night.mk's chain
    /// 2.40 → 2.08 s (medians of 10, alternating), peaks +1–2 MB, start-up +0.3 ms. When the
    /// kernel must compact memory for a huge page a run can stall: 2 of 10 runs took as long
    /// as without huge pages. (glibc's `glibc.malloc.hugetlb=1` tunable does the same, but
    /// only from the environment, and reached 2.16 s.)
    private static func hugePages() {
        let reserve = 1 << 30, huge: UInt = 2 << 20
        guard let p = malloc(reserve) else { return }
        let start = (UInt(bitPattern: p) + huge - 1) & ~(huge - 1), end = (UInt(bitPattern: p) + UInt(reserve)) & ~(huge - 1)
        if end > start { _ = madvise(UnsafeMutableRawPointer(bitPattern: start), Int(end - start), 14 /* MADV_HUGEPAGE */) }
        free(p)
    }
    #endif
}
