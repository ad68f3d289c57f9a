import AstroImage

/// The extent of each run of `size` mapped centres along an input row: where on the output
/// the block's pixels land. A thread drizzling one band of output rows walks the whole input;
/// with these it skips a block whose every centre lies beyond its window, instead of testing
/// each pixel. Blocks holding a NaN or infinite centre are never skipped (the kernel decides
/// about those pixels).
struct PixmapBlocks: Sendable {
    static let size = 64
    let perRow: Int
    /// Per block: lowest and highest x, lowest and highest y; NaN bounds when a centre is not finite.
    let bounds: [SIMD4<Double>]

    init(_ m: Pixmap) {
        let w = m.width, perRow = (w + Self.size - 1) / Self.size
        self.perRow = perRow
        bounds = m.x.withUnsafeBufferPointer { xp in
            m.y.withUnsafeBufferPointer { yp in
                let xs = SendableBuffer(xp), ys = SendableBuffer(yp)
                return [SIMD4<Double>](unsafeUninitializedCapacity: perRow * m.height) { out, filled in
                    let o = SendableMutableBuffer(out)
                    Parallel.forEachBlock(count: m.height, minBlock: 64) { rows in
                        for j in rows {
                            for b in 0..<perRow {
                                var x0 = Double.infinity, x1 = -Double.infinity, y0 = Double.infinity, y1 = -Double.infinity
                                var finite = true
                                for k in (j * w + b * Self.size)..<(j * w + min(w, (b + 1) * Self.size)) {
                                    let x = xs[k], y = ys[k]
                                    finite = finite && x.isFinite && y.isFinite
                                    x0 = min(x0, x); x1 = max(x1, x); y0 = min(y0, y); y1 = max(y1, y)
                                }
                                (o.base + j * perRow + b).initialize(to: finite ? SIMD4(x0, x1, y0, y1) : SIMD4(repeating: .nan))
                            }
                        }
                    }
                    filled = perRow * m.height
                }
            }
        }
    }

    /// Whether every centre of block `b` of input row `j` lies beyond the window's rows, or
    /// beyond its columns when these are limited.
    @inline(__always)
    func misses(row j: Int, block b: Int, _ w: Window) -> Bool {
        let e = bounds[j * perRow + b]
        // NaN bounds fail every comparison: never skipped.
        return (w.rowsLimited && (e[3] < w.lowest || e[2] > w.highest))
            || (w.columnsLimited && (e[1] < w.leftmost || e[0] > w.rightmost))
    }
}
