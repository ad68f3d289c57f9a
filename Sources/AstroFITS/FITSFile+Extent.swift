internal import CFITSIO
import AstroImage
#if canImport(Glibc)
import Glibc
#endif

// ffghadll = fits_get_hduaddrll   ffgkyjj = fits_read_key_lnglong   ffgncl = fits_get_num_cols
//   ffgtclll = fits_get_eqcoltypell   ffgdesll = fits_read_descriptll

/// The checks that stand between a header's promises and an allocation.
///
/// cfitsio believes NAXISn: a damaged header claiming a 10⁹-pixel image on a 25 KB file makes
/// a reader allocate the claim before cfitsio notices the file is short. So before any pixel
/// buffer is made, the promised byte count is compared with what the file holds (for a
/// tile-compressed image: with what its tile table and heap hold), and the buffer itself with
/// the machine's memory. Every product of header numbers is computed with overflow checks.
extension FITSFile {
    /// Refuses the current image HDU when its data cannot be what the header says.
    /// `pixels` is the product of the image axes, already known to be positive.
    func checkDataExtent(pixels: Int) throws {
        if isCompressed {
            try checkTileTable(pixels: pixels)
        } else {
            var bitpix: Int32 = 0, status: Int32 = 0
            ffgidt(fptr, &bitpix, &status)
            try check(status, "reading image parameters")
            let (bytes, overflow) = pixels.multipliedReportingOverflow(by: abs(Int(bitpix)) / 8)
            try checkHeld(promised: overflow ? nil : bytes, what: "header")
        }
        try checkMemory(pixels: pixels, bytesPerPixel: 4)
    }

    /// Size of the file as cfitsio reads it (for a gzipped file: its uncompressed copy in memory).
    var logicalSize: Int { Int(fptr!.pointee.Fptr.pointee.logfilesize) }

    /// Byte offset of the current HDU's data in the logical file.
    func dataOffset() throws -> Int {
        var head: Int64 = 0, data: Int64 = 0, end: Int64 = 0, status: Int32 = 0
        ffghadll(fptr, &head, &data, &end, &status)
        try check(status, "locating data")
        return Int(data)
    }

    /// Fails with the issue's wording when `promised` bytes (nil: too many to count) exceed
    /// what follows the header.
    private func checkHeld(promised: Int?, what: String) throws {
        let held = max(0, logicalSize - (try dataOffset()))
        guard let promised, promised <= held else {
            let claim = promised.map(String.init) ?? "more than \(Int.max)"
            throw AstroError(.badData, file: name, hdu: hduLabel, operation: "reading image",
                             reason: "\(what) promises \(claim) bytes, file holds \(held) (truncated?)")
        }
    }

    /// A tile-compressed image is a binary table (one row per tile, the compressed bytes in its
    /// heap): the table and heap must fit in the file, the rows must cover every tile, and each
    /// row's heap descriptor must point inside the heap, so cfitsio never sizes a buffer from a
    /// lie.
    private func checkTileTable(pixels: Int) throws {
        func key(_ name: String) -> Int? {
            var value: Int64 = 0, status: Int32 = 0
            ffgkyjj(fptr, name, &value, nil, &status)
            if status != 0 { ffcmsg(); return nil }
            return Int(value)
        }
        func fail(_ reason: String) -> AstroError {
            AstroError(.badData, file: name, hdu: hduLabel, operation: "reading image", reason: reason)
        }
        let rowBytes = key("NAXIS1") ?? 0, rows = key("NAXIS2") ?? 0, heap = key("PCOUNT") ?? 0
        guard rowBytes >= 0, rows >= 0, heap >= 0 else { throw fail("negative NAXIS1, NAXIS2 or PCOUNT in the tile table") }
        let (table, o1) = rowBytes.multipliedReportingOverflow(by: rows)
        let (total, o2) = table.addingReportingOverflow(heap)
        try checkHeld(promised: o1 || o2 ? nil : total, what: "tile table")

        // Tiles the image needs: ceil(ZNAXISn / ZTILEn) per axis (ZTILE1 defaults to the row,
        // the others to 1). The largest tile is what cfitsio allocates per tile.
        let naxis = key("ZNAXIS") ?? 0
        var tiles = 1, tilePixels = 1
        var grid: [(length: Int, tile: Int)] = []   // per axis, for the size of each tile
        for i in 1...max(1, naxis) {
            let length = key("ZNAXIS\(i)") ?? 0
            let tile = key("ZTILE\(i)") ?? (i == 1 ? length : 1)
            guard tile > 0 else { throw fail("ZTILE\(i) = \(tile) is not a positive tile size") }
            guard length > 0 else { continue }
            let (t, o3) = tiles.multipliedReportingOverflow(by: (length - 1) / tile + 1)
            let (p, o4) = tilePixels.multipliedReportingOverflow(by: tile)
            guard !o3, !o4 else { throw fail("ZTILEn/ZNAXISn describe more tiles than can be counted") }
            tiles = t; tilePixels = p
            grid.append((length, tile))
        }
        guard rows >= tiles else {
            throw fail("the tile table has \(rows) rows, ZNAXISn/ZTILEn need \(tiles) tiles (truncated?)")
        }
        // A tile larger than the whole image is legal but must not outgrow it by much.
        let (tileBytes, o5) = tilePixels.multipliedReportingOverflow(by: 8)
        if o5 || tileBytes > max(pixels.multipliedReportingOverflow(by: 8).partialValue, 64 << 20) {
            throw fail("tiles of \(tilePixels) pixels (ZTILEn) are larger than the image")
        }
        // cfitsio 4.2 sizes tile buffers in `int` bytes: a tile of 2^28 pixels or more overflows.
        if tilePixels >= 1 << 28 {
            throw fail("tiles of \(tilePixels) pixels (ZTILEn) are more than cfitsio can decompress (2^28)")
        }
        // Descriptors count from the heap's start, THEAP bytes into the data (default: the
        // table's end); the heap runs to the end of PCOUNT.
        let heapStart = key("THEAP") ?? table
        guard heapStart >= 0, heapStart <= total else { throw fail("THEAP = \(heapStart) lies outside the table's data") }
        try checkDescriptors(rows: rows, heap: total - heapStart, fail: fail)
        var type = [CChar](repeating: 0, count: Int(FLEN_VALUE)), status: Int32 = 0
        ffgkys(fptr, "ZCMPTYPE", &type, nil, &status)
        if status != 0 { ffcmsg() }
        let codec = type.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }.uppercased()
        if codec.hasPrefix("GZIP") {
            try checkTiles(.gzip, rows: tiles, heapStart: heapStart, maxTileBytes: tileBytes)
        } else if codec.hasPrefix("PLIO") {
            try checkTiles(.plio, rows: tiles, heapStart: heapStart, maxTileBytes: tileBytes)
        } else if codec.hasPrefix("HCOMPRESS") {
            try checkTiles(.hcompress(grid), rows: tiles, heapStart: heapStart, maxTileBytes: tileBytes)
        } else {
            _ = try checkTileColumn(plio: false)
        }
    }

    /// Every variable-length cell (offset, length) must lie inside the heap.
    private func checkDescriptors(rows: Int, heap: Int, fail: (String) -> AstroError) throws {
        var columns: Int32 = 0, status: Int32 = 0
        ffgncl(fptr, &columns, &status)
        try check(status, "reading the tile table")
        guard columns > 0, rows > 0 else { return }
        for column in 1...columns {
            var type: Int32 = 0, repeatCount: Int64 = 0, width: Int64 = 0
            ffgtclll(fptr, column, &type, &repeatCount, &width, &status)
            try check(status, "reading the tile table")
            guard type < 0 else { continue }   // negative: a variable-length array column
            let element = max(1, Int(width))
            for row in 1...rows {
                var length: Int64 = 0, offset: Int64 = 0
                ffgdesll(fptr, column, Int64(row), &length, &offset, &status)
                try check(status, "reading the tile table")
                let (bytes, o1) = Int(length).multipliedReportingOverflow(by: element)
                let (end, o2) = bytes.addingReportingOverflow(Int(offset))
                if length < 0 || offset < 0 || o1 || o2 || end > heap {
                    throw fail("tile \(row) claims \(bytes) bytes at heap offset \(offset), the heap holds \(heap) (truncated?)")
                }
            }
        }
    }

    /// Refuses a pixel buffer larger than the machine's memory with a message instead of the
    /// allocator's abort.
    func checkMemory(pixels: Int, bytesPerPixel: Int) throws {
        let (bytes, overflow) = pixels.multipliedReportingOverflow(by: bytesPerPixel)
        let memory = Self.physicalMemory
        if overflow || bytes > memory {
            throw AstroError(.badData, file: name, hdu: hduLabel, operation: "reading image",
                             reason: "the image needs \(overflow ? "more than \(Int.max)" : String(bytes)) bytes in memory, "
                                 + "more than this machine has (\(memory))")
        }
    }

    static let physicalMemory: Int = {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
        return pages > 0 && size > 0 ? pages * size : Int.max
    }()
}
