import AstroImage

/// `astrotool ccdproc median-filter`: scipy.ndimage.median_filter with its boundary modes, but
/// leaving out NaN and masked pixels (scipy sorts NaN arbitrarily). A window with nothing usable
/// gives NaN; an even count of usable values gives the upper middle one, as scipy's even windows.
public enum MaskedMedianFilter {
    public static func apply(_ image: Image, height sy: Int, width sx: Int, boundary: Boundary,
                             useMask: Bool = true) -> [Float] {
        let w = image.width, h = image.height
        let src = Plane<Float>(width: w, height: h, repeating: 0)
        image.pixels.withUnsafeBufferPointer { src.base.update(from: $0.baseAddress!, count: $0.count) }
        let bad = Plane<UInt8>(width: w, height: h, repeating: 0)
        for i in 0..<src.count where !src.base[i].isFinite || (useMask && (image.mask?[i] ?? 0) != 0) { bad.base[i] = 1 }
        let top = sy / 2, left = sx / 2, bottom = sy - 1 - sy / 2, right = sx - 1 - sx / 2
        let values = boundary.pad(src, top: top, left: left, bottom: bottom, right: right)
        let flags = boundary.pad(bad, top: top, left: left, bottom: bottom, right: right, constant: 0)
        let pw = values.width, ph = values.height
        // Summed-area table of the flags: a window's bad count in four lookups.
        var sat = [Int32](repeating: 0, count: (pw + 1) * (ph + 1))
        for y in 0..<ph {
            var row: Int32 = 0
            for x in 0..<pw {
                row += Int32(flags.base[y * pw + x])
                sat[(y + 1) * (pw + 1) + x + 1] = sat[y * (pw + 1) + x + 1] + row
            }
        }
        let table = sat
        @Sendable func badCount(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int) -> Int32 {   // [x0, x1) × [y0, y1)
            table[y1 * (pw + 1) + x1] - table[y0 * (pw + 1) + x1] - table[y1 * (pw + 1) + x0] + table[y0 * (pw + 1) + x0]
        }
        let out = Plane<Float>(width: w, height: h, repeating: 0)
        let n = sx * sy
        let network = MedianFilter.Network(n)
        src.forEachRowBlock { block in
            let v = UnsafeMutablePointer<MedianFilter.Lanes>.allocateAligned(capacity: n); defer { v.deallocate() }
            var values8: [Float] = []
            for y in block {
                func scalar(_ x: Int) {
                    values8.removeAll(keepingCapacity: true)
                    for j in 0..<sy {
                        for k in 0..<sx where flags.base[(y + j) * pw + x + k] == 0 { values8.append(values.base[(y + j) * pw + x + k]) }
                    }
                    values8.sort()
                    out.base[y * w + x] = values8.isEmpty ? .nan : values8[values8.count / 2]
                }
                MedianFilter.tiles(from: 0, to: w) { x in
                    guard badCount(x, y, x + sx + MedianFilter.Lanes.scalarCount - 1, y + sy) == 0 else {
                        for q in x..<(x + MedianFilter.Lanes.scalarCount) { scalar(q) }
                        return
                    }
                    for j in 0..<sy {
                        for k in 0..<sx { v[j * sx + k] = MedianFilter.load(values.base + (y + j) * pw + x + k) }
                    }
                    MedianFilter.store(network.median(v), out.base + y * w + x)
                } scalar: { x in scalar(x) }
            }
        }
        return out.array
    }
}
