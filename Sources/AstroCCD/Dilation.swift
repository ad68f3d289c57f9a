import AstroImage

/// Binary dilations of 0/1 masks as L.A.Cosmic defines them: the outer rows and columns the
/// structuring element cannot centre on keep their input values. Every pass is a plain loop
/// over a row (ORs of shifted rows), which the compiler turns into vector code.
enum Dilation {
    /// Full 3×3 element.
    static func dilate3(_ m: Plane<UInt8>) -> Plane<UInt8> {
        let w = m.width
        let h3 = rowOr(m, radius: 1)
        return combine(m, border: 1) { o, y, xs in
            let a = h3.base + (y - 1) * w, b = h3.base + y * w, c = h3.base + (y + 1) * w
            for x in xs { o[x] = a[x] | b[x] | c[x] }
        }
    }

    /// The 5×5 element without its four corners (21 pixels), applied `times` times.
    static func dilate5(_ m: Plane<UInt8>, times: Int) -> Plane<UInt8> {
        var current = m
        for _ in 0..<times {
            let w = current.width
            let h3 = rowOr(current, radius: 1), h5 = rowOr(current, radius: 2)
            current = combine(current, border: 2) { o, y, xs in
                let a = h3.base + (y - 2) * w, b = h5.base + (y - 1) * w, c = h5.base + y * w
                let d = h5.base + (y + 1) * w, e = h3.base + (y + 2) * w
                for x in xs { o[x] = a[x] | b[x] | c[x] | d[x] | e[x] }
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
                let line = m.base + y * w, o = out.base + y * w
                o.initialize(repeating: 0, count: w)
                for x in inside { o[x] = line[x - radius] }
                for k in (1 - radius)...radius {
                    for x in inside { o[x] |= line[x + k] }
                }
            }
        }
        return out
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
