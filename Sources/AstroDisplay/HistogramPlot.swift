import AstroImage
import Foundation

/// `astrotool ccdproc histogram`: astropysics' plotHist as a PNG — the pixel histogram, counts
/// linear or logarithmic, with percentile markers and the Gaussian of the data's mean and σ.
public struct HistogramOptions: Sendable {
    public var bins = 100
    /// Values outside are left out; nil: the finite values' min...max.
    public var range: ClosedRange<Double>?
    public var logCounts = false
    /// Percentiles (0–100) marked by vertical lines.
    public var percentiles: [Double] = []
    /// Overlay the Gaussian with the in-range values' mean, σ and count.
    public var gaussian = false
    public var width = 800
    public var height = 500
    public var title: String?
    public init() {}
}

public struct Histogram: Sendable, Encodable {
    /// bins + 1 edges.
    public var edges: [Double]
    public var counts: [Int]
    public var n: Int
    public var mean: Double
    public var std: Double
    public var percentiles: [Double]
    public var percentileValues: [Double]

    /// Bins the finite, unmasked values inside the range.
    public static func of(_ values: [Float], mask: [UInt8]?, options o: HistogramOptions) -> Histogram {
        var kept: [Float] = []
        kept.reserveCapacity(values.count)
        for (i, v) in values.enumerated() where v.isFinite && (mask?[i] ?? 0) == 0 {
            if let r = o.range, !r.contains(Double(v)) { continue }
            kept.append(v)
        }
        let lo = o.range?.lowerBound ?? Double(kept.min() ?? 0), hi = o.range?.upperBound ?? Double(kept.max() ?? 1)
        let span = hi > lo ? hi - lo : 1
        let bins = max(1, o.bins)
        var counts = [Int](repeating: 0, count: bins)
        var sum = 0.0, sum2 = 0.0
        for v in kept {
            let d = Double(v)
            counts[min(bins - 1, max(0, Int((d - lo) / span * Double(bins))))] += 1
            sum += d; sum2 += d * d
        }
        let n = kept.count
        let mean = n > 0 ? sum / Double(n) : .nan
        let std = n > 0 ? max(0, sum2 / Double(n) - mean * mean).squareRoot() : .nan
        let pv = kept.withUnsafeBufferPointer { Statistics.percentiles($0, o.percentiles) }
        return Histogram(edges: (0...bins).map { lo + span * Double($0) / Double(bins) }, counts: counts, n: n,
                         mean: mean, std: std, percentiles: o.percentiles, percentileValues: pv)
    }
}

public enum HistogramPlot {
    public static func draw(_ h: Histogram, options o: HistogramOptions) -> Canvas {
        var c = Canvas(width: o.width, height: o.height)
        let left = 70, right = 20, top = 30, bottom = 45
        let pw = max(10, o.width - left - right), ph = max(10, o.height - top - bottom)
        let lo = h.edges.first!, hi = h.edges.last!, bins = h.counts.count
        func scaleY(_ count: Double) -> Double { o.logCounts ? (count > 0 ? log10(count) + 1 : 0) : count }
        let peak = max(1, scaleY(Double(h.counts.max() ?? 1)))
        func px(_ v: Double) -> Int { left + Int(((v - lo) / (hi - lo)) * Double(pw)) }
        func py(_ s: Double) -> Int { top + ph - Int(s / peak * Double(ph)) }
        let black: Canvas.Color = (0, 0, 0), bar: Canvas.Color = (70, 110, 170)
        for (k, n) in h.counts.enumerated() where n > 0 {
            let x0 = left + k * pw / bins, x1 = left + (k + 1) * pw / bins
            let y = py(scaleY(Double(n)))
            c.fill(x: x0, y: y, width: max(1, x1 - x0), height: top + ph - y, bar)
        }
        if o.gaussian, h.std > 0, h.n > 0 {
            // Expected count per bin for a Gaussian of the data's mean, σ and number.
            let width = (hi - lo) / Double(bins)
            var previous: (Int, Int)?
            for sx in 0...pw {
                let v = lo + (hi - lo) * Double(sx) / Double(pw)
                let z = (v - h.mean) / h.std
                let expected = Double(h.n) * width * exp(-0.5 * z * z) / (h.std * (2 * Double.pi).squareRoot())
                let point = (left + sx, min(top + ph, py(scaleY(expected))))
                if let p = previous { c.line(p.0, p.1, point.0, point.1, (0, 150, 0)) }
                previous = point
            }
        }
        for (p, v) in zip(h.percentiles, h.percentileValues) where v.isFinite && v >= lo && v <= hi {
            let x = px(v)
            for y in stride(from: top, to: top + ph, by: 6) { c.line(x, y, x, min(top + ph, y + 3), (200, 0, 0)) }
            c.text("P" + format(p), x: x + 3, y: top + 2, (200, 0, 0))
        }
        // Axes, ticks and labels.
        c.plotFrame(left: left, top: top, width: pw, height: ph, from: lo, to: hi, position: px, label: format, black)
        let yLabel = format(Double(h.counts.max() ?? 0))
        c.text(yLabel, x: max(0, left - 6 - Canvas.textWidth(yLabel)), y: top, black)
        c.text("0", x: left - 12, y: top + ph - 7, black)
        c.text(o.logCounts ? "LOG N" : "N", x: 4, y: top + ph / 2, black)
        let summary = "N \(h.n)  MEAN \(format(h.mean))  STD \(format(h.std))"
        c.text(summary, x: left, y: o.height - 14, black)
        if let title = o.title { c.text(title, x: left, y: 8, black) }
        return c
    }

    static func format(_ v: Double) -> String { String(format: "%.4g", v) }
}

/// `astrotool ccdproc mosaic`: astropysics' mosaic_objects — a titled grid of cutouts, one row per
/// image and one column per position, each displayed with the same stretch.
public struct MosaicCell: Sendable {
    public var image: Image
    /// Centre, 0-based pixel coordinates.
    public var x: Double
    public var y: Double
    public var title: String
    public init(image: Image, x: Double, y: Double, title: String) {
        self.image = image; self.x = x; self.y = y; self.title = title
    }
}

public enum CutoutMosaic {
    /// `size`: cutout side in image pixels; `zoom`: screen pixels per image pixel.
    public static func draw(_ cells: [MosaicCell], columns: Int, size: Int, zoom: Int,
                            preview: PreviewOptions) throws -> Canvas {
        let cell = size * zoom, gap = 6, titleHeight = Canvas.textHeight() + 4
        let rows = (cells.count + columns - 1) / columns
        var c = Canvas(width: columns * (cell + gap) + gap, height: rows * (cell + titleHeight + gap) + gap)
        var p = preview
        p.size = nil
        for (k, m) in cells.enumerated() {
            let ox = gap + (k % columns) * (cell + gap), oy = gap + (k / columns) * (cell + titleHeight + gap)
            let cut = cutout(m.image, x: m.x, y: m.y, size: size)
            let rendered = try Preview.render(cut, options: p)
            c.paste(rendered, x: ox, y: oy + titleHeight, zoom: zoom)
            var title = m.title
            let fit = max(1, cell / (BitmapFont.width + 1))
            if title.count > fit { title = String(title.prefix(fit)) }
            c.text(title, x: ox, y: oy, (0, 0, 0))
        }
        return c
    }

    /// size×size pixels centred on (x, y); outside the image, NaN.
    static func cutout(_ image: Image, x: Double, y: Double, size: Int) -> Image {
        let x0 = Int(x.rounded()) - size / 2, y0 = Int(y.rounded()) - size / 2
        var pixels = [Float](repeating: .nan, count: size * size)
        for j in 0..<size {
            let yy = y0 + j
            guard yy >= 0 && yy < image.height else { continue }
            for i in 0..<size {
                let xx = x0 + i
                if xx >= 0 && xx < image.width { pixels[j * size + i] = image.pixels[yy * image.width + xx] }
            }
        }
        return Image(width: size, height: size, pixels: pixels)
    }
}
