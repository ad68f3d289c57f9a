internal import CFITSIO
internal import CZLIB
import AstroImage

// ffgcno = fits_get_colnum   ffgtclll = fits_get_eqcoltypell   ffgdesll = fits_read_descriptll

/// Compressed tiles that cfitsio 4.2 would trust are checked first, from their own bytes.
///
/// * GZIP_1/GZIP_2: `uncompress2mem_from_mem` grows its output with `realloc` for as long as
///   the stream asks, so a damaged tile made it claim tens of gigabytes and run for minutes.
///   Each tile is inflated once here (output discarded) and must end within the bytes its
///   pixels can need.
/// * PLIO_1: `pl_l2pi` reads as many 16-bit words as the line list's own header says, past
///   the end of the tile when that lies, which crashed the process now and then (SIGSEGV,
///   depending on what lay beyond). The declared length must fit in the tile.
/// * HCOMPRESS_1: `fits_hdecompress` writes as many pixels as the stream's own nx × ny into
///   a buffer sized for the tile, corrupting the heap when they disagree (SIGABRT, SIGSEGV).
///   The stream's dimensions must be the tile's.
extension FITSFile {
    enum TileCodec {
        case gzip, plio
        /// Axis lengths and tile sizes, to know each tile's own shape.
        case hcompress([(length: Int, tile: Int)])

        var name: String {
            switch self {
            case .gzip: "GZIP"
            case .plio: "PLIO"
            case .hcompress: "HCOMPRESS"
            }
        }

        /// PLIO tiles are 16-bit words; the others bytes.
        var isPLIO: Bool { if case .plio = self { true } else { false } }
    }

    /// The COMPRESSED_DATA column must hold variable-length arrays of bytes (of 16-bit words
    /// for PLIO): cfitsio reads the tiles from it whatever its TFORM says. Returns the column.
    func checkTileColumn(plio: Bool) throws -> Int32? {
        var column: Int32 = 0, status: Int32 = 0
        var template = Array("COMPRESSED_DATA".utf8CString)   // cfitsio takes `char *` for a const
        ffgcno(fptr, CASEINSEN, &template, &column, &status)
        if status != 0 { ffcmsg(); return nil }   // cfitsio reports the missing column itself
        var type: Int32 = 0, repeatCount: Int64 = 0, width: Int64 = 0
        ffgtclll(fptr, column, &type, &repeatCount, &width, &status)
        try check(status, "reading the tile table")
        let expected = plio ? -TSHORT : -TBYTE
        if type != expected {
            throw AstroError(.badData, file: name, hdu: hduLabel, operation: "reading image",
                             reason: "the COMPRESSED_DATA column is not a variable-length array of \(plio ? "16-bit words" : "bytes")")
        }
        return column
    }

    func checkTiles(_ codec: TileCodec, rows: Int, heapStart: Int, maxTileBytes: Int) throws {
        var status: Int32 = 0
        guard let column = try checkTileColumn(plio: codec.isPLIO) else { return }
        let heap = Int64(try dataOffset() + heapStart)
        var input = [UInt8]()
        var output = [UInt8](repeating: 0, count: 1 << 16)
        for row in stride(from: 1, through: rows, by: 1) {
            var length: Int64 = 0, offset: Int64 = 0
            ffgdesll(fptr, column, Int64(row), &length, &offset, &status)
            try check(status, "reading the tile table")
            guard length > 0 else { continue }   // stored uncompressed
            input = [UInt8](repeating: 0, count: Int(length) * (codec.isPLIO ? 2 : 1))
            ffmbyt(fptr, heap + offset, 0, &status)
            ffgbyt(fptr, Int64(input.count), &input, &status)
            try check(status, "reading tile \(row)")
            let problem = switch codec {
            case .gzip: Self.inflateProblem(&input, scratch: &output, limit: maxTileBytes)
            case .plio: Self.lineListProblem(input)
            case .hcompress(let grid): Self.hcompressProblem(input, tile: Self.tileShape(row - 1, grid))
            }
            if let problem {
                throw AstroError(.badData, file: name, hdu: hduLabel, operation: "reading image",
                                 reason: "tile \(row) of the \(codec.name)-compressed image \(problem)")
            }
        }
    }

    /// Why the stream does not inflate to at most `limit` bytes, or nil when it does.
    private static func inflateProblem(_ input: inout [UInt8], scratch: inout [UInt8], limit: Int) -> String? {
        var stream = z_stream()
        guard astro_inflate_init(&stream) == Z_OK else { return "could not be inflated (zlib failed to start)" }
        defer { inflateEnd(&stream) }
        var total = 0
        return input.withUnsafeMutableBufferPointer { inBuf -> String? in
            scratch.withUnsafeMutableBufferPointer { outBuf -> String? in
                stream.next_in = inBuf.baseAddress
                stream.avail_in = UInt32(inBuf.count)
                while true {
                    stream.next_out = outBuf.baseAddress
                    stream.avail_out = UInt32(outBuf.count)
                    let rc = inflate(&stream, Z_NO_FLUSH)
                    total += outBuf.count - Int(stream.avail_out)
                    if total > limit { return "inflates to more than the \(limit) bytes its pixels need" }
                    if rc == Z_STREAM_END { return nil }
                    if rc != Z_OK { return "is damaged (zlib status \(rc))" }
                    if stream.avail_in == 0 && stream.avail_out != 0 { return "is truncated (zlib stream does not end)" }
                }
            }
        }
    }

    /// An IRAF PLIO line list is big-endian 16-bit words: a header, then instructions up to
    /// the length the header declares (word 0, or words 3–4 for a long list, whose first
    /// instruction follows a header of word 1 words).
    private static func lineListProblem(_ bytes: [UInt8]) -> String? {
        let count = bytes.count / 2
        func word(_ i: Int) -> Int { Int(Int16(bitPattern: UInt16(bytes[2 * i]) << 8 | UInt16(bytes[2 * i + 1]))) }
        guard count >= 3 else { return "is shorter than a line-list header" }
        let length: Int, first: Int
        if word(2) > 0 {
            length = word(0); first = 4
        } else {
            guard count >= 5 else { return "is shorter than a long line-list header" }
            length = (word(4) << 15) + word(3); first = word(1) + 1
        }
        if first < 1 || length > count {
            return "declares \(length) words from word \(first), the tile holds \(count)"
        }
        return nil
    }

    /// The shape (first two axes) of 0-based tile `index`: edge tiles are cut by the image.
    private static func tileShape(_ index: Int, _ grid: [(length: Int, tile: Int)]) -> (nx: Int, ny: Int) {
        var rest = index
        var shape: [Int] = []
        for axis in grid {
            let count = (axis.length - 1) / axis.tile + 1
            let position = rest % count
            rest /= count
            shape.append(min(axis.tile, axis.length - position * axis.tile))
        }
        return (shape.first ?? 1, shape.count > 1 ? shape[1] : 1)
    }

    /// An H-compress stream starts with the magic bytes DD 99, then nx and ny as big-endian
    /// 32-bit integers; cfitsio names the first (the slower axis) nx.
    private static func hcompressProblem(_ bytes: [UInt8], tile: (nx: Int, ny: Int)) -> String? {
        guard bytes.count >= 10, bytes[0] == 0xDD, bytes[1] == 0x99 else { return "does not start an H-compress stream" }
        func int32(_ at: Int) -> Int {
            Int(Int32(bitPattern: UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])))
        }
        let a = int32(2), b = int32(6)
        guard (a == tile.ny && b == tile.nx) else {
            return "claims \(b)x\(a) pixels, the tile is \(tile.nx)x\(tile.ny)"
        }
        return nil
    }
}
