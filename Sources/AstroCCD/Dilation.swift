import AstroImage

/// Binary dilations of 0/1 masks as L.A.Cosmic defines them: the outer rows and columns the
/// structuring element cannot centre on keep their input values. Every pass ORs shifted rows,
/// 16 bytes at a time (left to the compiler, the byte loops stayed scalar, with overflow checks:
/// a sixth of `ccdproc cosmicray`'s time).
enum Dilation {
    private typealias Bytes = SIMD16<UInt8>

    /// Full 3×3 element.
    static func dilate3(_ m: Plane<UInt8>) -> Plane<UInt8> {
        let w = m.width
        let h3 = rowOr(m, radius: 1)
        return combine(m, border: 1) { o, y, xs in
            let row = { (dy: Int) -> UnsafePointer<UInt8> in UnsafePointer(h3.base + (y + dy) * w) }
            orRows(o, [row(-1), row(0), row(1)], xs)
        }
    }

    /// The 5×5 element without its four corners (21 pixels), applied `times` times.
    static func dilate5(_ m: Plane<UInt8>, times: Int) -> Plane<UInt8> {
        var current = m
        for _ in 0..<times {
            let w = current.width
            let h3 = rowOr(current, radius: 1), h5 = rowOr(current, radius: 2)
            current = combine(current, border: 2) { o, y, xs in
                let row = { (p: Plane<UInt8>, dy: Int) -> UnsafePointer<UInt8> in UnsafePointer(p.base + (y + dy) * w) }
                orRows(o, [row(h3, -2), row(h5, -1), row(h5, 0), row(h5, 1), row(h3, 2)], xs)
            }
        }
        return current
    }

    /// OR over x−radius...x+radius along each row (only where the window fits; else 0).
    private static func rowOr(_ m: Plane<UInt8>, radius: Int) -> Plane<UInt8> {
        let w = m.width
        let out = Plane<UInt8>.unset(width: w, height: m.height)
        let inside = radius..<max(radius, w - radius)
        m.forEachRowBlock { block in
            for y in block {
                let line = UnsafePointer(m.base + y * w), o = out.base + y * w
                o.initialize(repeating: 0, count: w)
                orRows(o, (-radius...radius).map { line + $0 }, inside)
            }
        }
        return out
    }

    /// o[x] = the OR of every row's byte x, for x in `xs`.
    @inline(__always)
    private static func orRows(_ o: UnsafeMutablePointer<UInt8>, _ rows: [UnsafePointer<UInt8>], _ xs: Range<Int>) {
        var x = xs.lowerBound
        rows.withUnsafeBufferPointer { r in
            while x &+ 16 <= xs.upperBound {
                var v = UnsafeRawPointer(r[0] + x).loadUnaligned(as: Bytes.self)
                for k in 1..<r.count { v |= UnsafeRawPointer(r[k] + x).loadUnaligned(as: Bytes.self) }
                UnsafeMutableRawPointer(o + x).storeBytes(of: v, as: Bytes.self)
                x &+= 16
            }
            while x < xs.upperBound {
                var v = r[0][x]
                for k in 1..<r.count { v |= r[k][x] }
                o[x] = v
                x &+= 1
            }
        }
    }

    /// The input with its interior rows' interior columns set by `row(out row, y, columns)`.
    private static func combine(_ m: Plane<UInt8>, border: Int,
                                _ row: @Sendable (UnsafeMutablePointer<UInt8>, Int, Range<Int>) -> Void) -> Plane<UInt8> {
        let w = m.width, h = m.height
        let out = Plane<UInt8>.unset(width: w, height: h)
        let inside = border..<max(border, w - border)
        m.forEachRowBlock { block in
            for y in block {
                let o = out.base + y * w
                o.update(from: m.base + y * w, count: w)
                if y >= border && y < h - border { row(o, y, inside) }
            }
        }
        return out
    }
}
