import AstroFITS
import AstroWCS
import AstroImage
import Foundation

/// Blot: the inverse of drizzle — a (drizzled) image sampled at the positions a pixmap gives
/// for every pixel of a target grid (spacetelescope drizzle's `blot_image`, same interpolants,
/// float32 arithmetic, edges reflected for the polynomials). Used to bring a median mosaic back
/// onto each input for outlier detection.
public enum Blot {
    public enum Interpolation: String, Sendable, CaseIterable {
        case nearest, linear, poly3, poly5, lanczos3, lanczos5
    }

    /// `source` (row-major `width`×`height`) sampled at `pixmap` (one position per target pixel,
    /// in the source's 0-based pixels), times `scale`. Positions outside [-0.5, n) or NaN get `fill`.
    /// Returns the target plane and how many pixels were filled.
    public static func sample(_ source: [Float], width: Int, height: Int, at pixmap: Pixmap,
                              interpolation: Interpolation = .poly5, scale: Float = 1, fill: Float = 0) -> (pixels: [Float], missed: Int) {
        precondition(source.count == width * height, "source must be width x height")
        let n = pixmap.width * pixmap.height
        let lut: [Double] = switch interpolation {
        case .lanczos3: lanczosTable(3)
        case .lanczos5: lanczosTable(5)
        default: []
        }
        var missed = 0
        // Every pixel is written once below (the fill where the position misses): no fill pass.
        let out = [Float](unsafeUninitializedCapacity: n) { op, filled in
            missed = source.withUnsafeBufferPointer { sp -> Int in
            pixmap.x.withUnsafeBufferPointer { pxp -> Int in
            pixmap.y.withUnsafeBufferPointer { pyp -> Int in
                let grid = Grid(data: sp.baseAddress!, width: width, height: height)
                let target = UncheckedPointer(op.baseAddress!)
                let px = SendableBuffer(pxp), py = SendableBuffer(pyp)
                let counts = Parallel.mapBlocks(count: pixmap.height, minBlock: 16) { rows -> Int in
                    var missed = 0
                    for j in rows {
                        var i = 0
                        while i < pixmap.width {
                            let k = j * pixmap.width + i
                            if interpolation == .linear, i + 8 <= pixmap.width,
                               grid.linearEight(px.base + k, py.base + k, scale: scale, into: target.pointer + k) {
                                i += 8
                                continue
                            }
                            i += 1
                            var x = Float(px[k]), y = Float(py[k])
                            // The reference drops the low edges' outer half pixel (and a centre a
                            // rounding error below 0); here it reads as the edge pixel.
                            guard x >= -0.5, x < Float(width), y >= -0.5, y < Float(height) else {
                                (target.pointer + k).initialize(to: fill)
                                missed += 1
                                continue
                            }
                            x = max(x, 0); y = max(y, 0)
                            let v: Float = switch interpolation {
                            case .nearest: grid.nearest(x, y)
                            case .linear: grid.linear(x, y)
                            case .poly3: grid.poly3(x, y)
                            case .poly5: grid.poly5(x, y)
                            case .lanczos3: grid.lanczos(x, y, order: 3, lut)
                            case .lanczos5: grid.lanczos(x, y, order: 5, lut)
                            }
                            (target.pointer + k).initialize(to: v * scale)
                        }
                    }
                    return missed
                }
                return counts.reduce(0, +)
            }}}
            filled = n
        }
        return (out, missed)
    }

    /// sinc(x)·sinc(x/a) every 0.003 pixels, in double as blot keeps it.
    static func lanczosTable(_ a: Int) -> [Double] {
        let n = Int((Double(a) / Lanczos.spacing).rounded(.up)) + 1
        return (0..<n).map { k in
            let x = Double(k) * Lanczos.spacing
            if k == 0 { return 1 }
            guard x <= Double(a) else { return 0 }
            let px = Double.pi * x, pa = px / Double(a)
            return sin(px) * sin(pa) / (px * pa)
        }
    }
}

private struct UncheckedPointer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    init(_ p: UnsafeMutablePointer<Float>) { pointer = p }
}

/// The source image and its interpolants; (x, y) is always inside [0, n).
private struct Grid: @unchecked Sendable {
    let data: UnsafePointer<Float>
    let width: Int
    let height: Int

    @inline(__always) func at(_ i: Int, _ j: Int) -> Float { data[j * width + i] }

    @inline(__always) func nearest(_ x: Float, _ y: Float) -> Float {
        // The outer half of the last row or column rounds past the end: the last pixel.
        at(min(Int(x + 0.5), width - 1), min(Int(y + 0.5), height - 1))
    }

    /// Bilinear; along one axis only on the last column or row, the pixel itself at the corner.
    @inline(__always) func linear(_ x: Float, _ y: Float) -> Float {
        let i = Int(x), j = Int(y)
        let f00 = at(i, j)
        let lastX = i == width - 1, lastY = j == height - 1
        if lastX && lastY { return f00 }
        if lastX { let sy = y - Float(j); return (1 - sy) * f00 + sy * at(i, j + 1) }
        if lastY { let sx = x - Float(i); return (1 - sx) * f00 + sx * at(i + 1, j) }
        let sx = x - Float(i), tx = 1 - sx, sy = y - Float(j), ty = 1 - sy
        return tx * ty * f00 + sx * ty * at(i + 1, j) + sy * tx * at(i, j + 1) + sx * sy * at(i + 1, j + 1)
    }

    /// `linear` at eight positions in a row and `scale` times the values written to `out`, lane
    /// by lane the same arithmetic, where the eight lie in one row of cells and in consecutive
    /// columns away from the last row and column (a pixmap close to a translation: the usual
    /// case), so that each corner of the eight cells is one vector load. False, with nothing
    /// written, otherwise.
    @inline(__always) func linearEight(_ px: UnsafePointer<Double>, _ py: UnsafePointer<Double>, scale: Float,
                                       into out: UnsafeMutablePointer<Float>) -> Bool {
        typealias F = SIMD8<Float>
        @inline(__always) func floats(_ p: UnsafePointer<Double>) -> F {
            let d = UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Double>.self)
            return F(Float(d[0]), Float(d[1]), Float(d[2]), Float(d[3]), Float(d[4]), Float(d[5]), Float(d[6]), Float(d[7]))
        }
        let x = floats(px), y = floats(py)
        // Inside [0, n − 1) on both axes (NaN fails too): no clamping, no last-row rule.
        let inside = (x .>= F()) .& (x .< F(repeating: Float(width - 1))) .& (y .>= F()) .& (y .< F(repeating: Float(height - 1)))
        guard all(inside) else { return false }
        let i0 = Int(x[0]), j0 = Int(y[0])
        // (The truncations of the other lanes, as Floats: exact for these small integers.)
        let fi = x.rounded(.towardZero), fj = y.rounded(.towardZero)
        guard all(fj .== F(repeating: Float(j0))), all(fi .== F(repeating: Float(i0)) + F(0, 1, 2, 3, 4, 5, 6, 7)) else { return false }
        let base = UnsafeRawPointer(data + j0 * width + i0), row = width * 4
        let f00 = base.loadUnaligned(as: F.self), f10 = base.loadUnaligned(fromByteOffset: 4, as: F.self)
        let f01 = base.loadUnaligned(fromByteOffset: row, as: F.self), f11 = base.loadUnaligned(fromByteOffset: row + 4, as: F.self)
        let one = F(repeating: 1)
        let sx = x - fi, tx = one - sx, sy = y - fj, ty = one - sy
        let v = tx * ty * f00 + sx * ty * f10 + sy * tx * f01 + sx * sy * f11
        UnsafeMutableRawPointer(out).storeBytes(of: v * scale, as: F.self)
        return true
    }

    /// A pixel of the image extended past its edges by point reflection about the edge pixel
    /// (2·f[edge] − f[mirror]), so linear trends continue; x first, then y.
    func reflected(_ i: Int, _ j: Int) -> Float {
        func row(_ i: Int, _ j: Int) -> Float {
            let last = width - 1
            if i < 0 { return 2 * at(0, j) - at(min(-i, last), j) }
            if i > last { return 2 * at(last, j) - at(max(2 * last - i, 0), j) }
            return at(i, j)
        }
        let last = height - 1
        if j < 0 { return 2 * row(i, 0) - row(i, min(-j, last)) }
        if j > last { return 2 * row(i, last) - row(i, max(2 * last - j, 0)) }
        return row(i, j)
    }

    /// Everett's central-difference cubic on the 4×4 block around (x, y).
    func poly3(_ x: Float, _ y: Float) -> Float {
        let nx = Int(x), ny = Int(y)
        var c = InlineArray<16, Float>(repeating: 0)
        for r in 0..<4 { for q in 0..<4 { c[r * 4 + q] = reflected(nx - 1 + q, ny - 1 + r) } }
        // The stencil's fractional offsets as the reference forms them in float32 (2 + f rounding
        // up to 3 is read as f = 1 on the same stencil, the same value).
        let xv: Float = 2 + (x - Float(nx)), yv: Float = 2 + (y - Float(ny))
        let sx = xv - 2, tx = 1 - sx, sy = yv - 2, ty = 1 - sy
        let first = 1
        var z = InlineArray<4, Float>(repeating: 0)
        for r in 0..<4 {
            let k = first + 4 * r
            let d0 = 1 / Float(6) * (c[k + 1] - 2 * c[k] + c[k - 1])
            let d1 = 1 / Float(6) * (c[k + 2] - 2 * c[k + 1] + c[k])
            z[r] = sx * (c[k + 1] + (sx * sx - 1) * d1) + tx * (c[k] + (tx * tx - 1) * d0)
        }
        let e0 = 1 / Float(6) * (z[2] - 2 * z[1] + z[0]), e1 = 1 / Float(6) * (z[3] - 2 * z[2] + z[1])
        return sy * (z[2] + (sy * sy - 1) * e1) + ty * (z[1] + (ty * ty - 1) * e0)
    }

    /// Everett's central-difference quintic on the 6×6 block around (x, y).
    func poly5(_ x: Float, _ y: Float) -> Float {
        let nx = Int(x), ny = Int(y)
        var c = InlineArray<36, Float>(repeating: 0)
        for r in 0..<6 { for q in 0..<6 { c[r * 6 + q] = reflected(nx - 2 + q, ny - 2 + r) } }
        let xv: Float = 3 + (x - Float(nx)), yv: Float = 3 + (y - Float(ny))
        let sx = xv - 3, tx = 1 - sx, sy = yv - 3, ty = 1 - sy
        let sx2 = sx * sx, tx2 = tx * tx, sy2 = sy * sy, ty2 = ty * ty
        let first = 2
        let sixth = 1 / Float(6), h20 = 1 / Float(120)
        var z = InlineArray<6, Float>(repeating: 0)
        for r in 0..<6 {
            let k = first + 6 * r
            let d20 = sixth * (c[k + 1] - 2 * c[k] + c[k - 1])
            let d21 = sixth * (c[k + 2] - 2 * c[k + 1] + c[k])
            let d40 = h20 * (c[k - 2] - 4 * c[k - 1] + 6 * c[k] - 4 * c[k + 1] + c[k + 2])
            let d41 = h20 * (c[k - 1] - 4 * c[k] + 6 * c[k + 1] - 4 * c[k + 2] + c[k + 3])
            z[r] = sx * (c[k + 1] + (sx2 - 1) * (d21 + (sx2 - 4) * d41)) + tx * (c[k] + (tx2 - 1) * (d20 + (tx2 - 4) * d40))
        }
        let e20 = sixth * (z[3] - 2 * z[2] + z[1]), e21 = sixth * (z[4] - 2 * z[3] + z[2])
        let e40 = h20 * (z[0] - 4 * z[1] + 6 * z[2] - 4 * z[3] + z[4])
        let e41 = h20 * (z[1] - 4 * z[2] + 6 * z[3] - 4 * z[4] + z[5])
        return sy * (z[3] + (sy2 - 1) * (e21 + (sy2 - 4) * e41)) + ty * (z[2] + (ty2 - 1) * (e20 + (ty2 - 4) * e40))
    }

    /// Lanczos of order a from the table, over the box clipped to the image and not
    /// renormalised (values fall near the edges, as in the reference).
    func lanczos(_ x: Float, _ y: Float, order a: Int, _ lut: [Double]) -> Float {
        let box = Float(a)
        let x0 = max(Int((x - box).rounded(.down)) + 1, 0), x1 = min(Int((x + box).rounded(.down)), width - 1)
        let y0 = max(Int((y - box).rounded(.down)) + 1, 0), y1 = min(Int((y + box).rounded(.down)), height - 1)
        var sum = 0.0
        guard x0 <= x1, y0 <= y1 else { return 0 }
        for j in y0...y1 {
            let ky = Int(abs(Double(y) - Double(j)) / Lanczos.spacing)
            guard ky < lut.count else { continue }
            for i in x0...x1 {
                let kx = Int(abs(Double(x) - Double(i)) / Lanczos.spacing)
                guard kx < lut.count else { continue }
                sum += Double(at(i, j)) * lut[kx] * lut[ky]
            }
        }
        return Float(sum)
    }
}

extension Blot {
    /// `astrotool resample blot`: a mosaic's primary image sampled onto `reference`'s grid (its
    /// WCS and shape), written with the reference's header. Returns the pixels filled.
    public static func run(mosaic: String, reference: String, output: String, interpolation: Interpolation,
                           scale: Float = 1, fill: Float = 0, overwrite: Bool) throws -> Int {
        let sourceFile = try FITSFile(mosaic, image: true), source = try sourceFile.readImage()
        let sourceWCS = try WCS.read(path: mosaic)
        try sourceWCS.checkRoundTrip(width: source.width, height: source.height, file: mosaic, hdu: sourceFile.hduLabel)
        let targetFile = try FITSFile(reference, image: true), target = try targetFile.info()
        guard target.shape.count >= 2 else {
            throw AstroError(.badData, file: reference, operation: "blotting", reason: "no 2-D image to take the grid from")
        }
        let (w, h) = (target.shape[0], target.shape[1])
        let targetHeader = try FITS.readHeader(reference)
        let targetWCS = try WCS.read(path: reference)
        try targetWCS.checkRoundTrip(width: w, height: h, file: reference, hdu: targetFile.hduLabel)
        let pixmap = Pixmap(from: targetWCS, width: w, height: h, to: sourceWCS)
        let (pixels, missed) = sample(source.pixels, width: source.width, height: source.height, at: pixmap,
                                      interpolation: interpolation, scale: scale, fill: fill)
        guard missed < w * h else {
            throw AstroError(.badData, file: mosaic, operation: "blotting onto \(reference)", reason: "the two grids do not overlap")
        }
        var header = targetHeader
        header.addHistory("astrotool resample blot: \(URL(fileURLWithPath: mosaic).lastPathComponent) (\(interpolation.rawValue), scale \(scale))")
        try FITSWriter.write([OutputHDU(Image(width: w, height: h, pixels: pixels, header: header))], to: output, overwrite: overwrite)
        return missed
    }
}
