internal import CFITSIO
import AstroImage
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

// ffurlt = fits_url_type   ffflnm = fits_file_name   ffrtnm = fits_parse_rootname
//   ffgidt = fits_get_img_type   ffgkyd = fits_read_key_dbl   ffgkyjj = fits_read_key_lnglong

extension FITSFile {
    /// Reads rows of an uncompressed BITPIX 8/16/32/−32/−64 image straight from the file with
    /// parallel `pread`, converting big-endian samples to physical `Float` values as cfitsio
    /// does (value·BSCALE + BZERO in Double, then rounded; an integer BLANK becomes NaN), at
    /// about the cost of copying the bytes. Returns false when the HDU does not qualify
    /// (compressed, 64-bit integers, not a plain disk file, or an image section cfitsio made in
    /// memory); callers then use cfitsio's general path, which gives the same values.
    func readDirectly(rows: Range<Int>, width: Int, into out: UnsafeMutablePointer<Float>) -> Bool {
        guard let layout = directLayout(), let path = diskPath() else { return false }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let sample = abs(Int(layout.bitpix)) / 8
        let rowBytes = width * sample
        let failed = Atomic(false)
        let address = Int(bitPattern: out)
        Parallel.forEachBlock(count: rows.count, minBlock: max(1, (1 << 20) / max(1, rowBytes))) { block in
            let dst = UnsafeMutablePointer<Float>(bitPattern: address)! + block.lowerBound * width
            // Unscaled floats land in place; other samples go through a bounded staging buffer.
            let inPlace = layout.bitpix == FLOAT_IMG && layout.identity
            let chunkRows = inPlace ? block.count : max(1, min(block.count, (1 << 20) / max(1, rowBytes)))
            let staging = inPlace ? nil : UnsafeMutableRawPointer.allocate(byteCount: chunkRows * rowBytes, alignment: 8)
            defer { staging?.deallocate() }
            var r = 0
            while r < block.count {
                let k = min(chunkRows, block.count - r)
                let raw = staging ?? UnsafeMutableRawPointer(dst + r * width)
                let bytes = k * rowBytes
                let start = layout.offset + (rows.lowerBound + block.lowerBound + r) * rowBytes
                var done = 0
                while done < bytes {
                    let got = pread(fd, raw + done, bytes - done, off_t(start + done))
                    if got <= 0 { failed.store(true, ordering: .relaxed); return }
                    done += got
                }
                Self.convert(raw, count: k * width, layout, to: dst + r * width)
                r += k
            }
        }
        return !failed.load(ordering: .relaxed)
    }

    /// What the direct path needs to know about the current HDU's samples.
    struct DirectLayout {
        var offset: Int
        var bitpix: Int32
        var scale: Double
        var zero: Double
        var blank: Int?
        var identity: Bool { scale == 1 && zero == 0 }
    }

    /// Big-endian samples at `raw` to physical Float values at `out` (which may alias `raw`
    /// for unscaled BITPIX −32).
    private static func convert(_ raw: UnsafeMutableRawPointer, count: Int, _ l: DirectLayout,
                                to out: UnsafeMutablePointer<Float>) {
        let scale = l.scale, zero = l.zero, identity = l.identity
        /// Big-endian integers of type T, BLANK to NaN, then scaled.
        func integers<T: FixedWidthInteger>(_: T.Type) {
            let v = raw.assumingMemoryBound(to: T.self)
            let blank = l.blank ?? Int.min
            for i in 0..<count {
                let x = T(bigEndian: v[i])
                out[i] = Int(x) == blank ? .nan : Float(Double(x) * scale + zero)
            }
        }
        switch l.bitpix {
        case BYTE_IMG: integers(UInt8.self)
        case SHORT_IMG: integers(Int16.self)
        case LONG_IMG: integers(Int32.self)
        case FLOAT_IMG:
            let v = raw.assumingMemoryBound(to: UInt32.self)
            if identity {
                ByteOrder.swap32(UnsafeRawPointer(v), UnsafeMutableRawPointer(out), count: count)
            } else {
                for i in 0..<count { out[i] = Float(Double(Float(bitPattern: UInt32(bigEndian: v[i]))) * scale + zero) }
            }
        default:   // DOUBLE_IMG
            let v = raw.assumingMemoryBound(to: UInt64.self)
            for i in 0..<count {
                let x = Double(bitPattern: UInt64(bigEndian: v[i]))
                out[i] = Float(identity ? x : x * scale + zero)
            }
        }
    }

    /// The current HDU's 2-D data unit as bytes a copy can take verbatim: a plain disk file,
    /// uncompressed, stored in one of the writer's types exactly (no BSCALE; BZERO only as
    /// uint16's 32768). Nil otherwise: the copy then reads and converts the pixels.
    func storedData(index: Int, width: Int, height: Int) -> StoredData? {
        guard let layout = directLayout(), let path = diskPath(), layout.scale == 1 else { return nil }
        let type: PixelType? = switch (layout.bitpix, layout.zero) {
        case (BYTE_IMG, 0): .uint8
        case (SHORT_IMG, 0): .int16
        case (SHORT_IMG, 32768): .uint16
        case (LONG_IMG, 0): .int32
        case (FLOAT_IMG, 0): .float32
        case (DOUBLE_IMG, 0): .float64
        default: nil
        }
        guard let type else { return nil }
        return StoredData(path: path, index: index, offset: layout.offset, width: width, height: height,
                          pixelType: type, blank: layout.blank)
    }

    /// The current HDU's data layout when it can be read directly, else nil.
    private func directLayout() -> DirectLayout? {
        var status: Int32 = 0, bitpix: Int32 = 0
        ffgidt(fptr, &bitpix, &status)
        guard status == 0, !isCompressed,
              [BYTE_IMG, SHORT_IMG, LONG_IMG, FLOAT_IMG, DOUBLE_IMG].contains(bitpix) else { return nil }
        var layout = DirectLayout(offset: 0, bitpix: bitpix, scale: 1, zero: 0, blank: nil)
        for (key, path) in [("BSCALE", \DirectLayout.scale), ("BZERO", \DirectLayout.zero)] {
            var value = 0.0, s: Int32 = 0
            ffgkyd(fptr, key, &value, nil, &s)
            if s == 0 { layout[keyPath: path] = value } else { ffcmsg() }
        }
        guard layout.scale.isFinite, layout.zero.isFinite, layout.scale != 0 else { return nil }
        if bitpix > 0 {
            var value: Int64 = 0, s: Int32 = 0
            ffgkyjj(fptr, "BLANK", &value, nil, &s)
            if s == 0 { layout.blank = Int(value) } else { ffcmsg() }
        }
        var type = [CChar](repeating: 0, count: 32)
        ffurlt(fptr, &type, &status)
        let url = type.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        guard status == 0, url == "file://", let offset = try? dataOffset() else { return nil }
        layout.offset = offset
        return layout
    }

    /// The file on disk: the opened name without its HDU or filter part (`f.fits[SCI,1]` is
    /// `f.fits`; with the part, open(2) failed and every named HDU took cfitsio's path).
    private func diskPath() -> String? {
        var name = [CChar](repeating: 0, count: 4096), root = [CChar](repeating: 0, count: 4096), status: Int32 = 0
        ffflnm(fptr, &name, &status)
        ffrtnm(&name, &root, &status)
        guard status == 0 else { return nil }
        var path = root.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        if path.hasPrefix("file://") { path.removeFirst(7) }
        return path.isEmpty ? nil : path
    }
}
