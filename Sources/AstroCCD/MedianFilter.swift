import AstroImage

/// Median filters as L.A.Cosmic (astroscrappy) defines them. The separable filter of size N is
/// an N-wide median along each row, then an N-tall median of that along each column — not the
/// N×N median, which `box` computes. In both, pixels the window cannot centre on (the outer
/// N/2 rows and columns) keep their input values.
///
/// Eight neighbouring pixels are filtered at once: their windows load as N (or N²) vectors and
/// a sorting network pruned to its middle output runs on the vectors.
enum MedianFilter {
    typealias Lanes = SIMD8<Float>

    static func separable(_ src: Plane<Float>, size: Int) -> Plane<Float> {
        let w = src.width, h = src.height, r = size / 2
        let rows = Plane<Float>(width: w, height: h, repeating: 0)
        let out = Plane<Float>(width: w, height: h, repeating: 0)
        let network = Network(size)
        src.forEachRowBlock { block in
            let v = UnsafeMutablePointer<Lanes>.allocate(capacity: size); defer { v.deallocate() }
            for y in block {
                let line = src.base + y * w
                rows.base.advanced(by: y * w).update(from: line, count: w)
                tiles(from: r, to: w - r) { x in
                    for k in 0..<size { v[k] = load(line + x - r + k) }
                    store(network.median(v), rows.base + y * w + x)
                } scalar: { x in
                    rows[x, y] = scalarMedian((0..<size).map { line[x - r + $0] })
                }
            }
        }
        rows.forEachRowBlock { block in
            let v = UnsafeMutablePointer<Lanes>.allocate(capacity: size); defer { v.deallocate() }
            for y in block {
                out.base.advanced(by: y * w).update(from: src.base + y * w, count: w)
                guard y >= r && y < h - r else { continue }
                tiles(from: r, to: w - r) { x in
                    for k in 0..<size { v[k] = load(rows.base + (y - r + k) * w + x) }
                    store(network.median(v), out.base + y * w + x)
                } scalar: { x in
                    out[x, y] = scalarMedian((0..<size).map { rows[x, y - r + $0] })
                }
            }
        }
        return out
    }

    /// The true size×size median.
    static func box(_ src: Plane<Float>, size: Int) -> Plane<Float> {
        let w = src.width, h = src.height, r = size / 2
        let out = Plane<Float>(width: w, height: h, repeating: 0)
        let network = Network(size * size)
        src.forEachRowBlock { block in
            let v = UnsafeMutablePointer<Lanes>.allocate(capacity: size * size); defer { v.deallocate() }
            for y in block {
                out.base.advanced(by: y * w).update(from: src.base + y * w, count: w)
                guard y >= r && y < h - r else { continue }
                tiles(from: r, to: w - r) { x in
                    for j in 0..<size {
                        for k in 0..<size { v[j * size + k] = load(src.base + (y - r + j) * w + x - r + k) }
                    }
                    store(network.median(v), out.base + y * w + x)
                } scalar: { x in
                    var values: [Float] = []
                    for j in -r...r { for k in -r...r { values.append(src[x + k, y + j]) } }
                    out[x, y] = scalarMedian(values)
                }
            }
        }
        return out
    }

    /// scipy.ndimage.median_filter(size=size, mode='reflect'): the image mirrored about its
    /// edges (d c b a | a b c d | d c b a); for an even size the window reaches one further
    /// back than forward and the upper middle value is taken.
    static func reflected(_ src: Plane<Float>, size: Int) -> Plane<Float> {
        let w = src.width, h = src.height
        let before = size / 2, after = size - 1 - size / 2
        func mirror(_ i: Int, _ n: Int) -> Int {
            var i = i
            while i < 0 || i >= n { i = i < 0 ? -i - 1 : 2 * n - i - 1 }
            return i
        }
        let pw = w + before + after, ph = h + before + after
        let padded = Plane<Float>(width: pw, height: ph, repeating: 0)
        for y in 0..<ph {
            for x in 0..<pw { padded.base[y * pw + x] = src[mirror(x - before, w), mirror(y - before, h)] }
        }
        let out = Plane<Float>(width: w, height: h, repeating: 0)
        let network = Network(size * size)
        padded.forEachRowBlock { block in
            let v = UnsafeMutablePointer<Lanes>.allocate(capacity: size * size); defer { v.deallocate() }
            for py in block where py < h {
                tiles(from: 0, to: w) { x in
                    for j in 0..<size {
                        for k in 0..<size { v[j * size + k] = load(padded.base + (py + j) * pw + x + k) }
                    }
                    store(network.median(v), out.base + py * w + x)
                } scalar: { x in
                    var values: [Float] = []
                    for j in 0..<size { for k in 0..<size { values.append(padded[x + k, py + j]) } }
                    out[x, py] = scalarMedian(values)
                }
            }
        }
        return out
    }

    /// Calls `vector` for 8-pixel tiles covering lo..<hi (the last one shifted left to end at
    /// hi, recomputing a few pixels), or `scalar` per pixel when the span is under 8.
    @inline(__always)
    static func tiles(from lo: Int, to hi: Int, vector: (Int) -> Void, scalar: (Int) -> Void) {
        guard hi > lo else { return }
        guard hi - lo >= Lanes.scalarCount else { for x in lo..<hi { scalar(x) }; return }
        var x = lo
        while x + Lanes.scalarCount <= hi { vector(x); x += Lanes.scalarCount }
        if x < hi { vector(hi - Lanes.scalarCount) }
    }

    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> Lanes {
        UnsafeRawPointer(p).loadUnaligned(as: Lanes.self)
    }

    @inline(__always) static func load(_ p: UnsafeMutablePointer<Float>) -> Lanes { load(UnsafePointer(p)) }

    @inline(__always) static func store(_ v: Lanes, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lanes.self)
    }

    static func scalarMedian(_ values: [Float]) -> Float { values.sorted()[values.count / 2] }

    /// Batcher's sorting network for n inputs, pruned to the comparators the middle output
    /// depends on (walking backwards: a comparator matters if it writes a wire that matters).
    struct Network: Sendable {
        let pairs: [(Int32, Int32)]
        let n: Int

        init(_ n: Int) {
            self.n = n
            var needed = Set([n / 2])
            var kept: [(Int32, Int32)] = []
            for (i, j) in StackKernel.batcherNetwork(n).reversed()
            where needed.contains(Int(i)) || needed.contains(Int(j)) {
                kept.append((i, j))
                needed.insert(Int(i)); needed.insert(Int(j))
            }
            pairs = kept.reversed()
        }

        /// The lane-wise median of v[0..<n]; reorders v.
        @inline(__always) func median(_ v: UnsafeMutablePointer<Lanes>) -> Lanes {
            pairs.withUnsafeBufferPointer { p in
                for (i, j) in p {
                    let a = v[Int(i)], b = v[Int(j)]
                    let swap = b .< a
                    v[Int(i)] = a.replacing(with: b, where: swap)
                    v[Int(j)] = b.replacing(with: a, where: swap)
                }
            }
            return v[n / 2]
        }
    }
}
