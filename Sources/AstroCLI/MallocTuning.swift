#if canImport(Glibc)
import Glibc
#endif

/// glibc's allocator gives every block over 128 KiB its own mmap and unmaps it when freed, so
/// each new image plane is fresh pages the kernel must zero and fault in (~3-7 µs a page on this
/// VM: page faults are most of astrotool's system time). Two settings keep freed planes for
/// reuse as they are:
/// - no block gets its own mmap: all come from the heap, so a freed 32 MiB plane of a
///   4096×2048 frame (past glibc's largest mmap threshold) is reused by the next one instead of
///   mapped afresh (L.A.Cosmic on such a frame 1.12 → 0.94 s, peak 380 → 356 MiB; a plane
///   the heap cannot grow for still gets an mmap, glibc's fallback);
/// - the heap is not handed back to the kernel before 64 MiB lie free at its top.
/// Before the first (night.mk 5.1 → 4.8 s, cosmicray's system time halved) blocks up to 32 MiB
/// were already kept in the heap.
enum MallocTuning {
    static func apply() {
        #if os(Linux)
        // mallopt is in malloc.h, which Swift's Glibc module leaves out.
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
        _ = mallopt(-4 /* M_MMAP_MAX */, 0)
        _ = mallopt(-1 /* M_TRIM_THRESHOLD */, 64 << 20)
        #endif
    }
}
