import AstroImage
import Foundation

/// A scatter plot of points with axes, ticks, titles and horizontal reference lines, on a
/// `Canvas`: small enough for score sheets and diagnostics, where a plotting library is
/// not at hand.
public struct ScatterPlotOptions: Sendable {
    public var width = 480
    public var height = 360
    public var title: String?
    public var xLabel: String?
    public var yLabel: String?
    /// Axis ranges; nil: the finite points' range, padded by 5 %.
    public var xRange: ClosedRange<Double>?
    public var yRange: ClosedRange<Double>?
    /// Dashed horizontal lines at these y values (e.g. the expected value and a median).
    public var referenceLines: [Double] = []
    public init() {}
}

public enum ScatterPlot {
    /// Points outside the ranges are drawn on the plot's edge as open marks, so none is lost.
    public static func draw(x: [Double], y: [Double], options o: ScatterPlotOptions) -> Canvas {
        var c = Canvas(width: o.width, height: o.height)
        let left = 70, right = 16, top = 26, bottom = 44
        let pw = max(10, o.width - left - right), ph = max(10, o.height - top - bottom)
        let points = zip(x, y).filter { $0.0.isFinite && $0.1.isFinite }
        func range(_ v: [Double], _ given: ClosedRange<Double>?) -> (Double, Double) {
            if let given { return (given.lowerBound, given.upperBound) }
            guard let lo = v.min(), let hi = v.max() else { return (0, 1) }
            let pad = hi > lo ? 0.05 * (hi - lo) : max(abs(lo) * 0.05, 1e-6)
            return (lo - pad, hi + pad)
        }
        let (x0, x1) = range(points.map(\.0), o.xRange)
        let (y0, y1) = range(points.map(\.1) + o.referenceLines.filter(\.isFinite), o.yRange)
        func px(_ v: Double) -> Int { left + Int(((v - x0) / (x1 - x0) * Double(pw)).rounded()) }
        func py(_ v: Double) -> Int { top + ph - Int(((v - y0) / (y1 - y0) * Double(ph)).rounded()) }
        let black: Canvas.Color = (0, 0, 0), grey: Canvas.Color = (160, 160, 160), red: Canvas.Color = (200, 0, 0)

        for (k, v) in o.referenceLines.enumerated() where v.isFinite && v >= y0 && v <= y1 {
            let yy = py(v)
            for xx in stride(from: left, to: left + pw, by: 6) { c.line(xx, yy, min(left + pw, xx + 3), yy, k == 0 ? grey : red) }
        }
        for (vx, vy) in points {
            let inside = vx >= x0 && vx <= x1 && vy >= y0 && vy <= y1
            let cx = min(left + pw, max(left, px(vx))), cy = min(top + ph, max(top, py(vy)))
            if inside {
                c.fill(x: cx - 1, y: cy - 1, width: 3, height: 3, (40, 80, 160))
            } else {
                c.line(cx - 2, cy - 2, cx + 2, cy + 2, red)
                c.line(cx - 2, cy + 2, cx + 2, cy - 2, red)
            }
        }
        c.plotFrame(left: left, top: top, width: pw, height: ph, from: x0, to: x1, position: px, label: label, black)
        for t in 0...4 {
            let vy = y0 + (y1 - y0) * Double(t) / 4, yy = py(vy)
            c.line(left - 4, yy, left, yy, black)
            let ly = label(vy)
            c.text(ly, x: max(0, left - 7 - Canvas.textWidth(ly)), y: yy - Canvas.textHeight() / 2, black)
        }
        if let t = o.title { c.text(t, x: left, y: 8, black) }
        if let t = o.xLabel { c.text(t, x: left + pw - Canvas.textWidth(t), y: o.height - 14, black) }
        if let t = o.yLabel { c.text(t, x: 4, y: top - 12, black) }
        return c
    }

    static func label(_ v: Double) -> String { String(format: "%.4g", abs(v) < 1e-12 ? 0 : v) }
}

extension Canvas {
    /// Panels side by side on a white sheet, top-aligned, `gap` pixels apart and around.
    public static func row(_ panels: [Canvas], gap: Int = 8) -> Canvas {
        let width = panels.reduce(gap) { $0 + $1.width + gap }
        let height = (panels.map(\.height).max() ?? 0) + 2 * gap
        var sheet = Canvas(width: width, height: height)
        var x = gap
        for p in panels {
            sheet.paste(p, x: x, y: gap)
            x += p.width + gap
        }
        return sheet
    }

    /// Another canvas pasted with its top-left corner at (x, y).
    public mutating func paste(_ other: Canvas, x: Int, y: Int) {
        for yy in 0..<other.height {
            for xx in 0..<other.width {
                let i = (yy * other.width + xx) * 3
                set(x + xx, y + yy, (other.bytes[i], other.bytes[i + 1], other.bytes[i + 2]))
            }
        }
    }
}
