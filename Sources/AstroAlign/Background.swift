import AstroImage

/// The sky level and its noise across an image, estimated as SExtractor and sep do: a robust
/// mode per mesh box, holes filled from neighbouring meshes, a median filter over the mesh
/// grid, then interpolation between mesh centres (bilinear here; sep uses a bicubic spline).
/// Stars bias a plain mean upwards; the clipped mode of each box follows the sky under them.
struct BackgroundMap: Sendable {
    let width: Int
    let height: Int
    let meshSize: Int
    /// Meshes per axis.
    let nx: Int
    let ny: Int
    /// Mesh values, row-major `nx × ny`.
    let level: [Float]
    let rms: [Float]
    /// Median of the mesh levels and noises: the image's typical sky and σ.
    let globalLevel: Float
    let globalRMS: Float

    /// - Parameters:
    ///   - pixels: row-major `width × height`; NaN and ±∞ are left out.
    ///   - mask: optional, non-zero = leave out.
    ///   - meshSize: box side in pixels (the last row and column of boxes take the remainder).
    ///   - filterSize: side of the median filter over the mesh grid (1 = none).
    /// - Returns: nil when no mesh has enough usable pixels.
    init?(pixels: [Float], width: Int, height: Int, mask: [UInt8]? = nil, meshSize: Int = 64, filterSize: Int = 3) {
        self.width = width
        self.height = height
        let size = max(8, min(meshSize, max(width, height)))
        self.meshSize = size
        let nx = max(1, width / size), ny = max(1, height / size)
        self.nx = nx
        self.ny = ny
        let estimates = Parallel.mapBlocks(count: nx * ny) { range -> [(Float, Float)?] in
            range.map { m in
                let mx = m % nx, my = m / nx
                let x0 = mx * size, x1 = mx == nx - 1 ? width : x0 + size
                let y0 = my * size, y1 = my == ny - 1 ? height : y0 + size
                var values: [Float] = []
                values.reserveCapacity((x1 - x0) * (y1 - y0))
                pixels.withUnsafeBufferPointer { pp in
                    if let mask {
                        mask.withUnsafeBufferPointer { mp in
                            for y in y0..<y1 {
                                for k in (y * width + x0)..<(y * width + x1) where pp[k].isFinite && mp[k] == 0 { values.append(pp[k]) }
                            }
                        }
                    } else {
                        for y in y0..<y1 {
                            for k in (y * width + x0)..<(y * width + x1) where pp[k].isFinite { values.append(pp[k]) }
                        }
                    }
                }
                // SExtractor: a mesh with less than half its pixels usable is filled from neighbours.
                guard values.count * 2 >= (x1 - x0) * (y1 - y0), values.count >= 8 else { return nil }
                return BackgroundMap.mode(&values)
            }
        }.flatMap { $0 }
        guard estimates.contains(where: { $0 != nil }) else { return nil }
        var level = BackgroundMap.filled(estimates.map { $0?.0 }, nx: nx, ny: ny)
        var rms = BackgroundMap.filled(estimates.map { $0?.1 }, nx: nx, ny: ny)
        if filterSize > 1 {
            level = BackgroundMap.medianFiltered(level, nx: nx, ny: ny, size: filterSize)
            rms = BackgroundMap.medianFiltered(rms, nx: nx, ny: ny, size: filterSize)
        }
        self.level = level
        self.rms = rms
        globalLevel = BackgroundMap.median(level)
        let positive = rms.filter { $0 > 0 }
        globalRMS = positive.isEmpty ? 1 : BackgroundMap.median(positive)
    }

    /// Full-resolution level and σ planes: bilinear between mesh centres, constant beyond the
    /// outer ones.
    func planes() -> (level: [Float], rms: [Float]) {
        let nx = self.nx, ny = self.ny, size = meshSize, width = self.width, height = self.height, level = self.level, rms = self.rms
        let cols = (0..<width).map { BackgroundMap.cell(Double($0), count: nx, size: size, extent: width) }
        // Both planes written once, rows across the cores (no fill pass, no copy).
        var outRMS: [Float] = []
        let outLevel = [Float](unsafeUninitializedCapacity: width * height) { lp, filledLevel in
            outRMS = [Float](unsafeUninitializedCapacity: width * height) { rp, filledRMS in
                level.withUnsafeBufferPointer { lvp in
                    rms.withUnsafeBufferPointer { rvp in
                        let lo = SendableMutableBuffer(lp), ro = SendableMutableBuffer(rp)
                        let lv = SendableBuffer(lvp), rv = SendableBuffer(rvp)
                        Parallel.forEachBlock(count: height, minBlock: 16) { rows in
                            for y in rows {
                                let (j0, j1, fy) = BackgroundMap.cell(Double(y), count: ny, size: size, extent: height)
                                let r0 = j0 * nx, r1 = j1 * nx, gy = 1 - fy
                                for x in 0..<width {
                                    let (i0, i1, fx) = cols[x]
                                    let gx = 1 - fx
                                    let la = lv[r0 + i0] * gx + lv[r0 + i1] * fx, lb = lv[r1 + i0] * gx + lv[r1 + i1] * fx
                                    (lo.base + y * width + x).initialize(to: la * gy + lb * fy)
                                    let ra = rv[r0 + i0] * gx + rv[r0 + i1] * fx, rb = rv[r1 + i0] * gx + rv[r1 + i1] * fx
                                    (ro.base + y * width + x).initialize(to: ra * gy + rb * fy)
                                }
                            }
                        }
                    }
                }
                filledRMS = width * height
            }
            filledLevel = width * height
        }
        return (outLevel, outRMS)
    }

    /// The two meshes whose centres bracket `p` along one axis, and the weight of the second.
    @inline(__always)
    private static func cell(_ p: Double, count: Int, size: Int, extent: Int) -> (Int, Int, Float) {
        guard count > 1 else { return (0, 0, 0) }
        // Centres of the regular meshes; the last one's centre sits in the middle of its (larger) box.
        func centre(_ i: Int) -> Double {
            i == count - 1 ? (Double(i * size) + Double(extent - 1)) / 2 : Double(i * size) + Double(size - 1) / 2
        }
        if p <= centre(0) { return (0, 0, 0) }
        if p >= centre(count - 1) { return (count - 1, count - 1, 0) }
        var i = min(count - 2, max(0, Int((p - Double(size - 1) / 2) / Double(size))))
        while i < count - 2 && p > centre(i + 1) { i += 1 }
        let f = (p - centre(i)) / (centre(i + 1) - centre(i))
        return (i, i + 1, Float(f))
    }

    /// SExtractor's estimator: clip at ±3σ about the median until stable; the mode is
    /// 2.5·median − 1.5·mean unless the clipped distribution is too skewed (then the median).
    /// Returns (mode, clipped σ). Sorts `values`.
    static func mode(_ values: inout [Float]) -> (Float, Float) {
        radixSort(&values)
        var lo = 0, hi = values.count
        var mean = 0.0, sigma = 0.0, median = 0.0
        for _ in 0..<20 {
            let n = hi - lo
            guard n > 2 else { break }
            var s = 0.0, s2 = 0.0
            let ref = Double(values[lo + n / 2])
            for k in lo..<hi { let d = Double(values[k]) - ref; s += d; s2 += d * d }
            mean = ref + s / Double(n)
            sigma = max(0, s2 / Double(n) - (s / Double(n)) * (s / Double(n))).squareRoot()
            median = n % 2 == 1 ? Double(values[lo + n / 2]) : (Double(values[lo + n / 2 - 1]) + Double(values[lo + n / 2])) / 2
            let lower = Float(median - 3 * sigma), upper = Float(median + 3 * sigma)
            let newLo = lowerBound(values, lower, lo, hi), newHi = upperBound(values, upper, newLo, hi)
            if newLo == lo && newHi == hi { break }
            lo = newLo; hi = newHi
        }
        let m = sigma > 0 && abs(mean - median) / sigma < 0.3 ? 2.5 * median - 1.5 * mean : median
        return (Float(m), Float(sigma))
    }

    /// Ascending sort of finite floats by an LSD radix sort over their order-preserving bit
    /// keys less the smallest key, so that only the bits that vary are sorted: two passes of
    /// at most 11 bits for a mesh of sky and noise, three when a star widens the range. The
    /// same order as `sort()` (±0 are equal in value, and only values are read). A pass's
    /// counters chain through memory when neighbouring values share a bucket (a mesh's top
    /// digit is nearly one bucket: the old fixed digits spent most of the align stage's sort
    /// there), so the counts go to two tables by parity and the scatter runs from both ends of
    /// the array, the front filling each bucket upwards and the back downwards: two chains
    /// that overlap, and still a stable pass.
    static func radixSort(_ values: inout [Float]) {
        let n = values.count
        guard n > 64 else { values.sort(); return }
        let keys = UnsafeMutablePointer<UInt32>.allocate(capacity: 2 * n)
        defer { keys.deallocate() }
        var src = keys, dst = keys + n
        var lo = UInt32.max, hi = UInt32.min
        values.withUnsafeBufferPointer { vp in
            for k in 0..<n {
                let b = vp[k].bitPattern
                let key = b & 0x8000_0000 != 0 ? ~b : b | 0x8000_0000
                src[k] = key
                lo = min(lo, key); hi = max(hi, key)
            }
        }
        // Every value the same bits: already in order.
        guard lo < hi else { return }
        let bits = 32 - (hi - lo).leadingZeroBitCount
        let passes = (bits + 10) / 11, width = (bits + passes - 1) / passes
        let buckets = 1 << width, mask = UInt32(buckets - 1)
        // Table t of pass p: counts[(p · 2 + t) · buckets + digit].
        let counts = UnsafeMutablePointer<UInt32>.allocate(capacity: 2 * passes * buckets)
        let head = UnsafeMutablePointer<Int>.allocate(capacity: 2 * buckets), tail = head + buckets
        defer { counts.deallocate(); head.deallocate() }
        counts.initialize(repeating: 0, count: 2 * passes * buckets)
        let w1 = UInt32(width), w2 = UInt32(2 * width)
        let c1 = counts + 2 * buckets, c2 = counts + 4 * buckets
        var k = 0
        while k < n {
            // Table 0 for even k, 1 for odd (the digits of the last pass read 0 when it is absent).
            let t = (k & 1) &* buckets
            let v = src[k] &- lo
            src[k] = v
            counts[t &+ Int(v & mask)] &+= 1
            if passes > 1 { c1[t &+ Int((v >> w1) & mask)] &+= 1 }
            if passes > 2 { c2[t &+ Int((v >> w2) & mask)] &+= 1 }
            k &+= 1
        }
        for p in 0..<passes {
            let shift = UInt32(p * width)
            var total = 0, full = false
            for d in 0..<buckets {
                let c = Int(counts[2 * p * buckets + d] &+ counts[(2 * p + 1) * buckets + d])
                full = full || c == n
                head[d] = total
                total += c
                tail[d] = total
            }
            // Every key in one bucket: this digit orders nothing.
            if full { continue }
            var i = 0, j = n - 1
            while i < j {
                let a = src[i], b = src[j]
                let da = Int((a >> shift) & mask), db = Int((b >> shift) & mask)
                dst[head[da]] = a
                head[da] &+= 1
                tail[db] &-= 1
                dst[tail[db]] = b
                i &+= 1; j &-= 1
            }
            if i == j { dst[head[Int((src[i] >> shift) & mask)]] = src[i] }
            swap(&src, &dst)
        }
        values.withUnsafeMutableBufferPointer { vp in
            for k in 0..<n {
                let b = src[k] &+ lo
                vp[k] = Float(bitPattern: b & 0x8000_0000 != 0 ? b & 0x7FFF_FFFF : ~b)
            }
        }
    }

    private static func lowerBound(_ v: [Float], _ x: Float, _ lo: Int, _ hi: Int) -> Int {
        var a = lo, b = hi
        while a < b { let m = (a + b) / 2; if v[m] < x { a = m + 1 } else { b = m } }
        return a
    }

    private static func upperBound(_ v: [Float], _ x: Float, _ lo: Int, _ hi: Int) -> Int {
        var a = lo, b = hi
        while a < b { let m = (a + b) / 2; if v[m] <= x { a = m + 1 } else { b = m } }
        return a
    }

    /// Missing meshes take the mean of the nearest meshes that have a value.
    private static func filled(_ values: [Float?], nx: Int, ny: Int) -> [Float] {
        let known = values.indices.filter { values[$0] != nil }
        return values.indices.map { k in
            if let v = values[k] { return v }
            let (x, y) = (k % nx, k / nx)
            let d = known.map { (($0 % nx) - x) * (($0 % nx) - x) + (($0 / nx) - y) * (($0 / nx) - y) }
            let best = d.min()!
            let near = known.indices.filter { d[$0] == best }.map { values[known[$0]]! }
            return near.reduce(0, +) / Float(near.count)
        }
    }

    /// Median over a `size × size` window of the mesh grid, shrunk symmetrically at the border.
    private static func medianFiltered(_ v: [Float], nx: Int, ny: Int, size: Int) -> [Float] {
        let r = size / 2
        return v.indices.map { k in
            let (x, y) = (k % nx, k / nx)
            let rx = min(r, x, nx - 1 - x), ry = min(r, y, ny - 1 - y)
            var window: [Float] = []
            for j in (y - ry)...(y + ry) { for i in (x - rx)...(x + rx) { window.append(v[j * nx + i]) } }
            return median(window)
        }
    }

    static func median(_ v: [Float]) -> Float {
        let s = v.sorted()
        guard !s.isEmpty else { return .nan }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
