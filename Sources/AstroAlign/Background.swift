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
                for y in y0..<y1 {
                    for x in x0..<x1 {
                        let k = y * width + x
                        let v = pixels[k]
                        if v.isFinite && (mask?[k] ?? 0) == 0 { values.append(v) }
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
        var outLevel = [Float](repeating: 0, count: width * height)
        var outRMS = outLevel
        outLevel.withUnsafeMutableBufferPointer { lp in
            outRMS.withUnsafeMutableBufferPointer { rp in
                let lo = SendableMutableBuffer(lp), ro = SendableMutableBuffer(rp)
                Parallel.forEachBlock(count: height, minBlock: 16) { rows in
                    for y in rows {
                        let (j0, j1, fy) = BackgroundMap.cell(Double(y), count: ny, size: size, extent: height)
                        for x in 0..<width {
                            let (i0, i1, fx) = cols[x]
                            func blend(_ v: [Float]) -> Float {
                                let a = v[j0 * nx + i0] * (1 - fx) + v[j0 * nx + i1] * fx
                                let b = v[j1 * nx + i0] * (1 - fx) + v[j1 * nx + i1] * fx
                                return a * (1 - fy) + b * fy
                            }
                            lo[y * width + x] = blend(level)
                            ro[y * width + x] = blend(rms)
                        }
                    }
                }
            }
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
        values.sort()
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
