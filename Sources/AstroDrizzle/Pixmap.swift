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

    /// input pixel → sky (input WCS) → output pixel (output WCS).
    public init(from input: WCS, width: Int, height: Int, to output: WCS) {
        var xs = [Double](repeating: 0, count: width * height), ys = xs
        for j in 0..<height { for i in 0..<width { xs[j * width + i] = Double(i); ys[j * width + i] = Double(j) } }
        let sky = input.pixelToWorld(x: xs, y: ys)
        let out = output.worldToPixel(ra: sky.ra, dec: sky.dec)
        self.init(width: width, height: height, x: out.x, y: out.y)
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
