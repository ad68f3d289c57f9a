import AstroImage

/// Binary dilations of 0/1 masks as L.A.Cosmic defines them: the outer rows and columns the
/// structuring element cannot centre on keep their input values.
enum Dilation {
    /// Full 3×3 element.
    static func dilate3(_ m: Plane<UInt8>) -> Plane<UInt8> {
        let w = m.width
        let h3 = rowOr(m, radius: 1)
        return combine(m, border: 1) { x, y in
            h3.base[(y - 1) * w + x] | h3.base[y * w + x] | h3.base[(y + 1) * w + x]
        }
    }

    /// The 5×5 element without its four corners (21 pixels), applied `times` times.
    static func dilate5(_ m: Plane<UInt8>, times: Int) -> Plane<UInt8> {
        var current = m
        for _ in 0..<times {
            let w = current.width
            let h3 = rowOr(current, radius: 1), h5 = rowOr(current, radius: 2)
            current = combine(current, border: 2) { x, y in
                h3.base[(y - 2) * w + x] | h5.base[(y - 1) * w + x] | h5.base[y * w + x]
                    | h5.base[(y + 1) * w + x] | h3.base[(y + 2) * w + x]
            }
        }
        return current
    }

    /// OR over x−radius...x+radius along each row (only where the window fits; else 0).
    private static func rowOr(_ m: Plane<UInt8>, radius: Int) -> Plane<UInt8> {
        let w = m.width
        let out = Plane<UInt8>(width: w, height: m.height, repeating: 0)
        m.forEachRowBlock { block in
            for y in block {
                let line = m.base + y * w
                for x in radius..<max(radius, w - radius) {
                    var v: UInt8 = 0
                    for k in -radius...radius { v |= line[x + k] }
                    out.base[y * w + x] = v
                }
            }
        }
        return out
    }

    /// The input with its interior replaced by `value(x, y)`.
    private static func combine(_ m: Plane<UInt8>, border: Int,
                                _ value: @Sendable (Int, Int) -> UInt8) -> Plane<UInt8> {
        let w = m.width, h = m.height
        let out = Plane<UInt8>(width: w, height: h, repeating: 0)
        m.forEachRowBlock { block in
            for y in block {
                out.base.advanced(by: y * w).update(from: m.base + y * w, count: w)
                guard y >= border && y < h - border else { continue }
                for x in border..<max(border, w - border) { out.base[y * w + x] = value(x, y) }
            }
        }
        return out
    }
}
