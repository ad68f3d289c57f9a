import AstroImage

/// Frames offset from one another (astropysics ImageCombiner's `shifts`, IRAF's `offsets`):
/// each is resampled onto a common grid before combining. A shift (dx, dy) means
/// out(x, y) = in(x − dx, y − dy); integer shifts copy pixels exactly, fractional ones
/// interpolate (nearest, bilinear or cubic B-spline). The grid is the union of the shifted
/// frames or, with `overlap`, the part all of them cover; where a frame has no data the
/// pixel is masked NO_DATA (astropysics filled 0, which pulls a stack down).
public struct ShiftOptions: Sendable, Equatable {
    public var shifts: [(dx: Double, dy: Double)]
    /// 0 nearest, 1 bilinear, 3 cubic B-spline.
    public var order = 3
    public var overlap = false
    public init(shifts: [(dx: Double, dy: Double)]) { self.shifts = shifts }

    public static func == (a: ShiftOptions, b: ShiftOptions) -> Bool {
        a.order == b.order && a.overlap == b.overlap && a.shifts.count == b.shifts.count
            && zip(a.shifts, b.shifts).allSatisfy { $0.dx == $1.dx && $0.dy == $1.dy }
    }

    /// The common grid for frames of width×height: its size and where its (0, 0) falls in
    /// shifted coordinates.
    public func grid(width: Int, height: Int) throws -> (width: Int, height: Int, x0: Int, y0: Int) {
        let xs = shifts.map(\.dx), ys = shifts.map(\.dy)
        let x0, y0, w, h: Int
        if overlap {
            x0 = Int(xs.max()!.rounded(.up)); y0 = Int(ys.max()!.rounded(.up))
            w = width + Int(xs.min()!.rounded(.down)) - x0; h = height + Int(ys.min()!.rounded(.down)) - y0
        } else {
            x0 = Int(xs.min()!.rounded(.down)); y0 = Int(ys.min()!.rounded(.down))
            w = width + Int(xs.max()!.rounded(.up)) - x0; h = height + Int(ys.max()!.rounded(.up)) - y0
        }
        guard w > 0, h > 0 else {
            throw AstroError(.badData, operation: "shifting frames", reason: "the shifted frames have no pixel in common")
        }
        return (w, h, x0, y0)
    }
}

public enum Shift {
    /// `image` (data, ERR, MASK) resampled onto the grid for shift (dx, dy). ERR and MASK take
    /// the nearest input pixel; a pixel whose sample falls outside the frame is NO_DATA.
    public static func resample(_ image: Image, dx: Double, dy: Double, order: Int,
                                grid: (width: Int, height: Int, x0: Int, y0: Int)) -> Image {
        let w = image.width, h = image.height
        let gw = grid.width, gh = grid.height
        var out = Image(width: gw, height: gh, pixels: [Float](repeating: 0, count: gw * gh), header: image.header)
        var mask = [UInt8](repeating: MaskBits.noData.rawValue, count: gw * gh)
        var sigma: [Float]? = image.uncertainty.map { _ in [Float](repeating: .nan, count: gw * gh) }
        let integral = dx == dx.rounded() && dy == dy.rounded()
        let coefficients = (!integral && order == 3) ? splineCoefficients(image) : nil
        for y in 0..<gh {
            let v = Double(y + grid.y0) - dy
            for x in 0..<gw {
                let u = Double(x + grid.x0) - dx
                guard u >= -1e-9, u <= Double(w - 1) + 1e-9, v >= -1e-9, v <= Double(h - 1) + 1e-9 else { continue }
                let ni = min(w - 1, max(0, Int(u.rounded()))), nj = min(h - 1, max(0, Int(v.rounded())))
                let k = y * gw + x
                mask[k] = image.mask?[nj * w + ni] ?? 0
                sigma?[k] = image.uncertainty![nj * w + ni]
                if integral || order == 0 {
                    out.pixels[k] = image.pixels[nj * w + ni]
                } else if order == 1 {
                    out.pixels[k] = bilinear(image, u, v)
                } else {
                    out.pixels[k] = cubic(coefficients!, w, h, u, v)
                }
            }
        }
        out.mask = mask
        out.uncertainty = sigma
        return out
    }

    private static func bilinear(_ image: Image, _ u: Double, _ v: Double) -> Float {
        let w = image.width, h = image.height
        let i = min(w - 2, max(0, Int(u.rounded(.down)))), j = min(h - 2, max(0, Int(v.rounded(.down))))
        let fx = u - Double(i), fy = v - Double(j)
        func p(_ a: Int, _ b: Int) -> Double { Double(image.pixels[b * w + a]) }
        guard w > 1, h > 1 else { return image.pixels[0] }
        let top = p(i, j) * (1 - fx) + p(i + 1, j) * fx
        let bottom = p(i, j + 1) * (1 - fx) + p(i + 1, j + 1) * fx
        return Float(top * (1 - fy) + bottom * fy)
    }

    /// Cubic B-spline coefficients of the image (Unser's recursive prefilter along rows, then
    /// columns, mirror-symmetric ends), so that interpolating them reproduces the pixels.
    static func splineCoefficients(_ image: Image) -> [Double] {
        let w = image.width, h = image.height
        var c = image.pixels.map(Double.init)
        var line = [Double](repeating: 0, count: max(w, h))
        for y in 0..<h {
            for x in 0..<w { line[x] = c[y * w + x] }
            prefilter(&line, w)
            for x in 0..<w { c[y * w + x] = line[x] }
        }
        for x in 0..<w {
            for y in 0..<h { line[y] = c[y * w + x] }
            prefilter(&line, h)
            for y in 0..<h { c[y * w + x] = line[y] }
        }
        return c
    }

    /// In-place cubic B-spline prefilter of line[0..<n] (pole √3 − 2, gain 6).
    private static func prefilter(_ line: inout [Double], _ n: Int) {
        guard n > 1 else { return }
        let z = 3.0.squareRoot() - 2
        for i in 0..<n { line[i] *= 6 }
        // Causal start: the mirror-symmetric sum, truncated where z^k is negligible.
        var sum = line[0], zk = z
        let horizon = min(n, 30)
        for k in 1..<horizon { sum += zk * line[k]; zk *= z }
        line[0] = sum
        for i in 1..<n { line[i] += z * line[i - 1] }
        line[n - 1] = z / (z * z - 1) * (line[n - 1] + z * line[n - 2])
        for i in stride(from: n - 2, through: 0, by: -1) { line[i] = z * (line[i + 1] - line[i]) }
    }

    private static func cubic(_ c: [Double], _ w: Int, _ h: Int, _ u: Double, _ v: Double) -> Float {
        func weights(_ t: Double) -> [Double] {
            // B-spline weights for offsets −1, 0, 1, 2 from floor(t).
            let f = t - t.rounded(.down)
            let a = (1 - f) * (1 - f) * (1 - f) / 6
            let b = (3 * f * f * f - 6 * f * f + 4) / 6
            let d = f * f * f / 6
            return [a, b, 1 - a - b - d, d]
        }
        func mirror(_ i: Int, _ n: Int) -> Int {
            guard n > 1 else { return 0 }
            let period = 2 * (n - 1)
            let j = ((i % period) + period) % period
            return j < n ? j : period - j
        }
        let i0 = Int(u.rounded(.down)) - 1, j0 = Int(v.rounded(.down)) - 1
        let wx = weights(u), wy = weights(v)
        var sum = 0.0
        for b in 0..<4 {
            let row = mirror(j0 + b, h) * w
            var s = 0.0
            for a in 0..<4 { s += wx[a] * c[row + mirror(i0 + a, w)] }
            sum += wy[b] * s
        }
        return Float(sum)
    }
}
