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
        #endif
    }
}
