import AstroImage
import AstroWCS

/// Where each input pixel centre lands on the output grid: out(x, y) of input (i, j), 0-based,
/// NaN where the input pixel has no mapping (stcal's calc_pixmap, evaluated exactly at every
/// pixel through AstroWCS's batched transforms).
public struct Pixmap: Sendable {
    public let width: Int
    public let height: Int
    /// Output x and y, row-major over the input.
    public var x: [Double]
    public var y: [Double]

    public init(width: Int, height: Int, x: [Double], y: [Double]) {
        precondition(x.count == width * height && y.count == width * height, "pixmap arrays must cover the input")
        self.width = width; self.height = height; self.x = x; self.y = y
    }

    /// input pixel → sky (input WCS) → output pixel (output WCS), exactly at every pixel, or with
    /// `step` > 1 exactly on every step-th row and column (and the last) and bilinearly between
    /// (stcal's pixmap_stepsize): far cheaper, and on smooth distortions off by well under 1e-3 px.
    public init(from input: WCS, width: Int, height: Int, to output: WCS, step: Int = 1) {
        func nodes(_ n: Int) -> [Int] { Array(stride(from: 0, to: n - 1, by: max(1, step))) + [n - 1] }
        let cols = step > 1 ? nodes(width) : Array(0..<width), rows = step > 1 ? nodes(height) : Array(0..<height)
        var xs: [Double] = [], ys: [Double] = []
        xs.reserveCapacity(cols.count * rows.count); ys.reserveCapacity(cols.count * rows.count)
        for j in rows { for i in cols { xs.append(Double(i)); ys.append(Double(j)) } }
        let sky = input.pixelToWorld(x: xs, y: ys)
        let out = output.worldToPixel(ra: sky.ra, dec: sky.dec)
        guard step > 1 else { self.init(width: width, height: height, x: out.x, y: out.y); return }
        var gx = [Double](repeating: .nan, count: width * height), gy = gx
        let nc = cols.count
        // Bilinear between the nodes of the cell holding each pixel (a NaN node makes NaN).
        var rowCell = 0
        for j in 0..<height {
            while rowCell < rows.count - 2 && rows[rowCell + 1] <= j { rowCell += 1 }
            let r0 = rows[rowCell], r1 = rows[min(rowCell + 1, rows.count - 1)]
            let fy = r1 > r0 ? Double(j - r0) / Double(r1 - r0) : 0
            var colCell = 0
            for i in 0..<width {
                while colCell < nc - 2 && cols[colCell + 1] <= i { colCell += 1 }
                let c0 = cols[colCell], c1 = cols[min(colCell + 1, nc - 1)]
                let fx = c1 > c0 ? Double(i - c0) / Double(c1 - c0) : 0
                let a = rowCell * nc + colCell, b = a + (c1 > c0 ? 1 : 0), c = a + (r1 > r0 ? nc : 0), d = c + (c1 > c0 ? 1 : 0)
                func blend(_ v: [Double]) -> Double {
                    v[a] * (1 - fx) * (1 - fy) + v[b] * fx * (1 - fy) + v[c] * (1 - fx) * fy + v[d] * fx * fy
                }
                gx[j * width + i] = blend(out.x); gy[j * width + i] = blend(out.y)
            }
        }
        self.init(width: width, height: height, x: gx, y: gy)
    }

    /// The same pixel positions: out = in (for tests and same-grid stacking).
    public static func identity(width: Int, height: Int) -> Pixmap {
        var xs = [Double](repeating: 0, count: width * height), ys = xs
        for j in 0..<height { for i in 0..<width { xs[j * width + i] = Double(i); ys[j * width + i] = Double(j) } }
        return Pixmap(width: width, height: height, x: xs, y: ys)
    }

    /// Bilinear interpolation of the map at input position (u, v), extrapolating linearly past
    /// the first and last centres (the C core's interpolate_bilinear: cell index truncated
    /// toward zero, then clamped to the grid's last cell).
    @inline(__always)
    func interpolate(_ u: Double, _ v: Double) -> (Double, Double) {
        let i0 = min(max(Int(u), 0), width - 2), j0 = min(max(Int(v), 0), height - 2)
        let fx = u - Double(i0), fy = v - Double(j0)
        let k = j0 * width + i0
        func blend(_ a: [Double]) -> Double {
            a[k] * (1 - fx) * (1 - fy) + a[k + 1] * fx * (1 - fy) + a[k + width] * (1 - fx) * fy + a[k + width + 1] * fx * fy
        }
        return (blend(x), blend(y))
    }
}
