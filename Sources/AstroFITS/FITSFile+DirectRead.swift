internal import CFITSIO
import AstroImage
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

// ffurlt = fits_url_type   ffflnm = fits_file_name
//   ffgidt = fits_get_img_type   ffgkyd = fits_read_key_dbl

extension FITSFile {
    /// Reads rows of an uncompressed, unscaled BITPIX −32 image straight from the file with
    /// parallel `pread` and an in-place byte swap, the cost of which is close to copying the
    /// bytes. Returns nil when the HDU does not qualify (compressed, scaled, another BITPIX,
    /// not a plain disk file, or an image section cfitsio made in memory); callers then use
    /// cfitsio's general path, which gives the same values.
    func readFloat32Directly(rows: Range<Int>, width: Int) -> [Float]? {
        guard let offset = directDataOffset() else { return nil }
        let path = diskPath()
        guard let path else { return nil }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let n = rows.count * width
        let rowBytes = width * 4
        let failed = Atomic(false)
        let pixels = [Float](unsafeUninitializedCapacity: n) { buffer, count in
            let base = UnsafeMutableRawPointer(buffer.baseAddress!)
            let address = Int(bitPattern: base)
            Parallel.forEachBlock(count: rows.count, minBlock: max(1, (1 << 20) / max(1, rowBytes))) { block in
                let dst = UnsafeMutableRawPointer(bitPattern: address)! + block.lowerBound * rowBytes
                let bytes = block.count * rowBytes
                var done = 0
                while done < bytes {
                    let r = pread(fd, dst + done, bytes - done,
                                  off_t(offset + (rows.lowerBound + block.lowerBound) * rowBytes + done))
                    if r <= 0 { failed.store(true, ordering: .relaxed); return }
                    done += r
                }
                let words = dst.assumingMemoryBound(to: UInt32.self)
                for i in 0..<(block.count * width) { words[i] = UInt32(bigEndian: words[i]) }
            }
            count = n
        }
        return failed.load(ordering: .relaxed) ? nil : pixels
    }

    /// Byte offset of the current HDU's data when it can be read directly, else nil.
    private func directDataOffset() -> Int? {
        var status: Int32 = 0, bitpix: Int32 = 0
        ffgidt(fptr, &bitpix, &status)
        guard status == 0, bitpix == FLOAT_IMG, !isCompressed else { return nil }
        for (key, identity) in [("BSCALE", 1.0), ("BZERO", 0.0)] {
            var value = identity, s: Int32 = 0
            ffgkyd(fptr, key, &value, nil, &s)
            if s == 0 && value != identity { return nil }
            if s != 0 { ffcmsg() }
        }
        var type = [CChar](repeating: 0, count: 32)
        ffurlt(fptr, &type, &status)
        let url = type.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        guard status == 0, url == "file://" else { return nil }
        return try? dataOffset()
    }

    private func diskPath() -> String? {
        var name = [CChar](repeating: 0, count: 4096), status: Int32 = 0
        ffflnm(fptr, &name, &status)
        guard status == 0 else { return nil }
        let path = name.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return path.isEmpty ? nil : path
    }
}
