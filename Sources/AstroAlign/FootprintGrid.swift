import Foundation

/// `--preserve-footprints` (spalipy's preserve_footprints): the output grid grows from the
/// template's to the union with the source's footprint, so no source pixel is cut off. Output
/// pixel (0, 0) is template pixel (`offsetX`, `offsetY`), both ≤ 0.
struct FootprintGrid {
    var offsetX: Int, offsetY: Int
    var width: Int, height: Int

    /// The union of `grid` (template pixels from 0) and the pixel centres in the bounding box of
    /// the source's outline pushed through the registration's model (points every 8 px along its edges; where a
    /// spline's push does not settle, the linear part's).
    init(grid: PixelFrame, source: PixelFrame, registration reg: Registration) {
        let push = reg.pushMap
        var lo = (x: 0.0, y: 0.0), hi = (x: Double(grid.width - 1), y: Double(grid.height - 1))
        let x1 = Double(source.width) - 0.5, y1 = Double(source.height) - 0.5
        let xs = Array(stride(from: -0.5, to: x1, by: 8)) + [x1], ys = Array(stride(from: -0.5, to: y1, by: 8)) + [y1]
        let outline = xs.flatMap { [($0, -0.5), ($0, y1)] } + ys.flatMap { [(-0.5, $0), (x1, $0)] }
        for (x, y) in outline {
            var p = push.apply(x, y)
            if !(p.x.isFinite && p.y.isFinite) { p = reg.push.apply(x, y) }
            // Output pixels whose centre the footprint holds: the warp fills no other.
            lo = (min(lo.x, (p.x - 1e-9).rounded(.up)), min(lo.y, (p.y - 1e-9).rounded(.up)))
            hi = (max(hi.x, (p.x + 1e-9).rounded(.down)), max(hi.y, (p.y + 1e-9).rounded(.down)))
        }
        (offsetX, offsetY) = (Int(lo.x), Int(lo.y))
        (width, height) = (Int(hi.x) - offsetX + 1, Int(hi.y) - offsetY + 1)
    }

    /// The pull map read from this grid: output pixel → template pixel → source pixel.
    func pull(_ base: any PixelMap) -> any PixelMap {
        offsetX == 0 && offsetY == 0 ? base : ShiftedMap(base: base, dx: Double(offsetX), dy: Double(offsetY))
    }
}

/// A map evaluated at (x + dx, y + dy).
struct ShiftedMap: PixelMap {
    let base: any PixelMap
    let dx: Double, dy: Double

    func apply(_ x: Double, _ y: Double) -> (x: Double, y: Double) { base.apply(x + dx, y + dy) }
    func jacobian(_ x: Double, _ y: Double) -> Double { base.jacobian(x + dx, y + dy) }

    /// The base's own row evaluation (a polynomial's or spline's fast path) when x is not shifted.
    func applyRow(_ y: Double, count: Int, xs: UnsafeMutablePointer<Double>, ys: UnsafeMutablePointer<Double>) {
        if dx == 0 { return base.applyRow(y + dy, count: count, xs: xs, ys: ys) }
        for i in 0..<count {
            let p = base.apply(Double(i) + dx, y + dy)
            xs[i] = p.x; ys[i] = p.y
        }
    }
}
