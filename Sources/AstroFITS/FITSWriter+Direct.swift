import AstroImage
import Foundation

/// Uncompressed outputs written without cfitsio: the same header cards cfitsio writes, and the
/// pixels converted to big-endian in large blocks across the cores and handed to the kernel in a
/// few large writes. cfitsio issues one write(2) per few kilobytes, which on a mosaic of four
/// 66 MB planes cost more than converting the pixels.
extension FITSWriter {
    /// Whether `path` is a plain file cfitsio would write as it is (not compressed on the fly).
    public static func writesDirectly(_ path: String) -> Bool {
        let name = path.lowercased()
        return !(name.hasSuffix(".gz") || name.hasSuffix(".z") || name.hasSuffix(".bz2") || name.contains("["))
    }

    static func writeDirectly(_ hdus: [OutputHDU], to tmp: String, path: String) throws {
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw failure(path, nil, "creating output") }
        defer { close(fd) }
        var file = SparseFile(fd: fd, path: path)
        for (index, hdu) in hdus.enumerated() {
            file.label = hdu.extname.map { "HDU \(index) '\($0)'" } ?? "HDU \(index)"
            let data = DataUnit(hdu)
            try header(hdu, index: index, data: data).withUnsafeBytes { try file.put($0) }
            try data.write(to: &file)
        }
        try file.finish()
    }

    /// The header block: structural cards as cfitsio writes them, the image's own cards,
    /// EXTNAME/EXTVER, BLANK where needed, END, blank-padded to 2880 bytes.
    private static func header(_ hdu: OutputHDU, index: Int, data: DataUnit) -> [UInt8] {
        headerBlock(headerCards(hdu, index: index, width: data.width, height: data.height, blank: data.blank))
    }

    /// The card images of an HDU's header, END excluded.
    static func headerCards(_ hdu: OutputHDU, index: Int, width: Int, height: Int, blank: Int?) -> [String] {
        let count = width * height
        var cards: [Card] = []
        if index == 0 {
            cards.append(Card("SIMPLE", .logical(true), comment: "file does conform to FITS standard"))
        } else {
            cards.append(Card("XTENSION", .string("IMAGE"), comment: "IMAGE extension"))
        }
        cards.append(Card("BITPIX", .integer(hdu.pixelType.bitpix), comment: "number of bits per data pixel"))
        cards.append(Card("NAXIS", .integer(count == 0 ? 0 : 2), comment: "number of data axes"))
        if count > 0 {
            cards.append(Card("NAXIS1", .integer(width), comment: "length of data axis 1"))
            cards.append(Card("NAXIS2", .integer(height), comment: "length of data axis 2"))
        }
        if index == 0 {
            cards.append(Card("EXTEND", .logical(true), comment: "FITS dataset may contain extensions"))
            cards += Header.standardReference.map { Card(commentary: "COMMENT", $0) }
        } else {
            cards.append(Card("PCOUNT", .integer(0), comment: "required keyword; must = 0"))
            cards.append(Card("GCOUNT", .integer(1), comment: "required keyword; must = 1"))
        }
        if hdu.pixelType == .uint16 && count > 0 {
            cards.append(Card("BZERO", .integer(32768), comment: "offset data range to that of unsigned short"))
            cards.append(Card("BSCALE", .integer(1), comment: "default scaling factor"))
        }
        var text = cards.flatMap(\.images)
        for card in hdu.image.header.userCards.cards where !(card.keyword == "EXTNAME" || card.keyword == "EXTVER") {
            text += card.images
        }
        if let extname = hdu.extname { text += Card("EXTNAME", .string(extname), comment: "extension name").images }
        if let extver = hdu.extver { text += Card("EXTVER", .integer(extver), comment: "extension version").images }
        if let blank { text += Card("BLANK", .integer(blank), comment: "value of undefined pixels").images }
        return text
    }

    /// Card images + END, blank-padded to whole 2880-byte blocks; with `blocks`, padded to that
    /// many with blank records before END (a header rewritten in place keeps its size).
    static func headerBlock(_ cards: [String], blocks: Int? = nil) -> [UInt8] {
        var text = cards
        if let blocks { text += Array(repeating: String(repeating: " ", count: 80), count: max(0, blocks * 36 - cards.count - 1)) }
        text.append("END".padding(80))
        var bytes = Array(text.joined().utf8)
        bytes += [UInt8](repeating: UInt8(ascii: " "), count: (2880 - bytes.count % 2880) % 2880)
        return bytes
    }

    static func failure(_ path: String, _ label: String?, _ operation: String) -> AstroError {
        AstroError(.cannotCreate, file: path, hdu: label, operation: operation, reason: String(cString: strerror(errno)))
    }
}

/// The output file, written at explicit offsets. Pages (4 KiB, aligned in the file) that are
/// all zero — the empty parts of weight, context and mask planes — are skipped and left as holes,
/// which read back as zeros without being copied into the page cache; the rest goes out in one
/// write per run of non-zero pages.
struct SparseFile {
    let fd: Int32
    let path: String
    var label = ""
    private(set) var offset = 0
    static let page = 4096
    /// The shortest run of zero pages left as a hole: 64 KiB.
    static let hole = 16

    init(fd: Int32, path: String) { self.fd = fd; self.path = path }

    /// Moves where the next `put` writes (the streaming writer fills HDUs out of order).
    mutating func seek(to position: Int) { offset = position }

    /// Writes `bytes` at the current offset, leaving runs of at least `hole` whole zero pages
    /// unwritten (a hole reads back as zeros). Shorter runs are written: a hole per few zero
    /// pages (the edges of every row of a rotated mosaic's weight and context planes) cost a
    /// write(2) each, ~5000 for one mosaic, and left a file whose deletion, once on disk, took
    /// ext4 0.28 s instead of 0.04 s, which every `--overwrite` of it paid.
    mutating func put(_ bytes: UnsafeRawBufferPointer) throws {
        // `written`: bytes before it are out or skipped; `zeros`: start of the current zero run.
        var written = 0, zeros: Int? = nil, at = 0
        while at < bytes.count {
            // The end of the page holding this byte of the file, or of the bytes.
            let end = min(bytes.count, (offset + at) / Self.page * Self.page + Self.page - offset)
            if end - at == Self.page && Self.isZero(UnsafeRawBufferPointer(rebasing: bytes[at..<end])) {
                if zeros == nil { zeros = at }
            } else if let start = zeros {
                if at - start >= Self.hole * Self.page {
                    if written < start { try write(UnsafeRawBufferPointer(rebasing: bytes[written..<start]), at: offset + written) }
                    written = at
                }
                zeros = nil
            }
            at = end
        }
        var last = bytes.count
        if let start = zeros, bytes.count - start >= Self.hole * Self.page { last = start }
        if written < last { try write(UnsafeRawBufferPointer(rebasing: bytes[written..<last]), at: offset + written) }
        offset += bytes.count
    }

    /// Copies up to `count` bytes of the file `source` from `position` to the current offset
    /// inside the kernel (copy_file_range: no buffer to fault in, no copy through it). Returns
    /// the bytes copied: fewer when the source ends early, 0 as well when the system cannot
    /// (the caller then copies the rest itself).
    mutating func copy(from source: Int32, at position: Int, count: Int) -> Int {
        #if os(Linux)
        guard let copyFileRange = Self.copyFileRange else { return 0 }
        var from = Int64(position), to = Int64(offset), done = 0
        while done < count {
            let n = copyFileRange(source, &from, fd, &to, count - done, 0)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            done += n
        }
        offset += done
        return done
        #else
        return 0
        #endif
    }

    #if os(Linux)
    /// glibc's copy_file_range (2.27 on), looked up at run time: Swift's Glibc module does not export it.
    private static let copyFileRange: (@convention(c) (Int32, UnsafeMutablePointer<Int64>?, Int32, UnsafeMutablePointer<Int64>?, Int, UInt32) -> Int)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "copy_file_range") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, UnsafeMutablePointer<Int64>?, Int32, UnsafeMutablePointer<Int64>?, Int, UInt32) -> Int).self)
    }()
    #endif

    /// Sets the length, so that a file ending in a hole is as long as it should be.
    func finish() throws {
        if ftruncate(fd, off_t(offset)) != 0 { throw FITSWriter.failure(path, label, "writing image") }
    }

    private func write(_ bytes: UnsafeRawBufferPointer, at position: Int) throws {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(position + done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw FITSWriter.failure(path, label, "writing image") }
            done += n
        }
    }

    private static func isZero(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let words = bytes.count / 8
        var any: UInt64 = 0
        for k in 0..<words { any |= bytes.loadUnaligned(fromByteOffset: k * 8, as: UInt64.self) }
        if any != 0 { return false }
        for k in (words * 8)..<bytes.count where bytes[k] != 0 { return false }
        return true
    }
}

/// One HDU's pixels as they go to disk: the stored type, BLANK when an integer image has NaNs,
/// and the conversion to big-endian bytes.
struct DataUnit {
    let hdu: OutputHDU
    let width: Int, height: Int
    var count: Int { width * height }
    /// The stored code of NaN pixels in an integer image (only when there are NaNs).
    let blank: Int?

    init(_ hdu: OutputHDU) {
        self.hdu = hdu
        (width, height) = hdu.stored.map { ($0.width, $0.height) }
            ?? hdu.exactShape ?? (hdu.image.width, hdu.image.height)
        if let stored = hdu.stored {
            blank = stored.blank
        } else if hdu.integers != nil || hdu.bytes != nil {
            blank = hdu.integerBlank
        } else if hdu.pixelType != .float32, hdu.pixelType != .float64, hdu.image.pixels.contains(where: \.isNaN) {
            blank = switch hdu.pixelType {
            case .uint8: 0
            case .int16, .uint16: Int(Int16.min)
            default: Int(Int32.min)
            }
        } else {
            blank = nil
        }
    }

    /// Converts blocks of rows to big-endian bytes on all cores and writes them in order, then
    /// the zero padding to a whole 2880-byte block (unless `pad` is false: a part of a plane).
    func write(to file: inout SparseFile, pad: Bool = true) throws {
        guard count > 0 else { return }
        let size = abs(hdu.pixelType.bitpix) / 8
        if let stored = hdu.stored {
            try copy(stored, to: &file)
        } else {
            try convertAndWrite(size: size, to: &file)
        }
        guard pad else { return }
        let padding = (2880 - (count * size) % 2880) % 2880
        try [UInt8](repeating: 0, count: padding).withUnsafeBytes { try file.put($0) }
    }

    /// The stored bytes, copied by the kernel, or read and written in 8 MiB pieces where it
    /// cannot (or for what is left when the source ends early, which then fails with its reason).
    private func copy(_ stored: StoredData, to file: inout SparseFile) throws {
        let fd = open(stored.path, O_RDONLY)
        guard fd >= 0 else {
            throw AstroError(.noInput, file: stored.path, operation: "copying HDU \(stored.index)", reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var done = file.copy(from: fd, at: stored.offset, count: stored.byteCount)
        guard done < stored.byteCount else { return }
        var buffer = [UInt8](repeating: 0, count: min(stored.byteCount - done, 8 << 20))
        while done < stored.byteCount {
            let n = min(buffer.count, stored.byteCount - done)
            var got = 0
            while got < n {
                let r = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + got, n - got, off_t(stored.offset + done + got)) }
                if r < 0 && errno == EINTR { continue }
                guard r > 0 else {
                    throw AstroError(.badData, file: stored.path, operation: "copying HDU \(stored.index)",
                                     reason: r == 0 ? "the file ends inside the HDU's data" : String(cString: strerror(errno)))
                }
                got += r
            }
            try buffer.withUnsafeBytes { try file.put(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            done += n
        }
    }

    /// The pixels converted in 1 MiB blocks into one buffer, left unset until converted into:
    /// each page of it is a fresh page for the kernel to fault in and zero (with 8 MiB blocks,
    /// `process` peaked 3.5 MB higher; its time was the same).
    private func convertAndWrite(size: Int, to file: inout SparseFile) throws {
        let perBlock = max(1, (1 << 20) / size)
        var buffer = [UInt8](unsafeUninitializedCapacity: min(count, perBlock) * size) { _, n in n = min(count, perBlock) * size }
        var start = 0
        while start < count {
            let n = min(perBlock, count - start), first = start
            buffer.withUnsafeMutableBytes { raw in
                let out = SendableMutableBuffer(raw.bindMemory(to: UInt8.self))
                Parallel.forEachBlock(count: n, minBlock: 1 << 16) { r in
                    convert(first + r.lowerBound, r.count, into: out.base + r.lowerBound * size)
                }
            }
            try buffer.withUnsafeBytes { try file.put(UnsafeRawBufferPointer(rebasing: $0[0..<(n * size)])) }
            start += n
        }
    }

    /// Pixels [first, first + n) as stored bytes at `out`.
    private func convert(_ first: Int, _ n: Int, into out: UnsafeMutablePointer<UInt8>) {
        if let bytes = hdu.bytes {
            bytes.withUnsafeBufferPointer { out.update(from: $0.baseAddress! + first, count: n) }
            return
        }
        if let ints = hdu.integers {
            ints.withUnsafeBufferPointer { src in
                switch hdu.pixelType {
                case .uint8:
                    for k in 0..<n { out[k] = UInt8(clamping: src[first + k]) }
                case .int16:
                    out.withMemoryRebound(to: UInt16.self, capacity: n) { dst in
                        for k in 0..<n { dst[k] = UInt16(bitPattern: Int16(clamping: src[first + k])).bigEndian }
                    }
                default:
                    out.withMemoryRebound(to: UInt32.self, capacity: n) { dst in
                        for k in 0..<n { dst[k] = UInt32(bitPattern: src[first + k]).bigEndian }
                    }
                }
            }
            return
        }
        hdu.image.pixels.withUnsafeBufferPointer { src in
            // The lowest physical value a real pixel may take: the type's, one above when that
            // code stands for NaN (BLANK).
            let reserved = blank == nil ? 0 : 1
            let lo = switch hdu.pixelType {
            case .uint8, .uint16: reserved
            case .int16: Int(Int16.min) + reserved
            default: Int(Int32.min) + reserved
            }
            @inline(__always) func integer(_ v: Float) -> Int {
                if v >= 9.2e18 { return Int.max }
                if v <= -9.2e18 { return Int.min }
                return max(lo, Int(v.rounded(.toNearestOrAwayFromZero)))
            }
            switch hdu.pixelType {
            case .float32:
                ByteOrder.swap32(src.baseAddress! + first, out, count: n)
            case .float64:
                out.withMemoryRebound(to: UInt64.self, capacity: n) { dst in
                    for k in 0..<n { dst[k] = Double(src[first + k]).bitPattern.bigEndian }
                }
            case .uint8:
                // Eight at a time: rounded half away from zero (truncated, then a step where the
                // part cut off is half or more), clamped to [lo, 255], NaN to 0: what `integer`
                // and the clamping give every value. The result read from the low byte of
                // r + 2²³, whose mantissa then holds it.
                typealias F = SIMD8<Float>
                let low = F(repeating: Float(lo)), high = F(repeating: 255), one = F(repeating: 1), zero = F(repeating: 0)
                var k = 0
                while k + 8 <= n {
                    let v = UnsafeRawPointer(src.baseAddress! + first + k).loadUnaligned(as: F.self)
                    let t = v.rounded(.towardZero), cut = v - t
                    var r = t + zero.replacing(with: one, where: cut .>= F(repeating: 0.5)) - zero.replacing(with: one, where: cut .<= F(repeating: -0.5))
                    r = r.replacing(with: low, where: r .< low).replacing(with: high, where: r .> high)
                    r = r.replacing(with: 0, where: v .!= v)
                    let bits = unsafeBitCast(r + F(repeating: 8_388_608), to: SIMD8<UInt32>.self)
                    UnsafeMutableRawPointer(out + k).storeBytes(of: SIMD8<UInt8>(truncatingIfNeeded: bits), as: SIMD8<UInt8>.self)
                    k += 8
                }
                while k < n { let v = src[first + k]; out[k] = v.isNaN ? 0 : UInt8(clamping: integer(v)); k += 1 }
            case .int16:
                out.withMemoryRebound(to: UInt16.self, capacity: n) { dst in
                    for k in 0..<n {
                        let v = src[first + k]
                        dst[k] = UInt16(bitPattern: v.isNaN ? Int16.min : Int16(clamping: integer(v))).bigEndian
                    }
                }
            case .uint16:
                // Stored as signed with BZERO 32768; NaN as the stored −32768 (BLANK).
                out.withMemoryRebound(to: UInt16.self, capacity: n) { dst in
                    for k in 0..<n {
                        let v = src[first + k]
                        let u = v.isNaN ? UInt16.min : UInt16(clamping: integer(v))
                        dst[k] = (u ^ 0x8000).bigEndian
                    }
                }
            case .int32:
                out.withMemoryRebound(to: UInt32.self, capacity: n) { dst in
                    for k in 0..<n {
                        let v = src[first + k]
                        dst[k] = UInt32(bitPattern: v.isNaN ? Int32.min : Int32(clamping: integer(v))).bigEndian
                    }
                }
            }
        }
    }
}
