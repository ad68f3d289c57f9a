import AstroImage

/// An RGB raster to draw plots and mosaics on, written as PNG. Row 0 is the top.
public struct Canvas: Sendable {
    public typealias Color = (UInt8, UInt8, UInt8)
    public let width: Int
    public let height: Int
    public private(set) var bytes: [UInt8]

    public init(width: Int, height: Int, background: Color = (255, 255, 255)) {
        self.width = width
        self.height = height
        bytes = [UInt8](repeating: 0, count: width * height * 3)
        fill(x: 0, y: 0, width: width, height: height, background)
    }

    public mutating func set(_ x: Int, _ y: Int, _ c: Color) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let i = (y * width + x) * 3
        bytes[i] = c.0; bytes[i + 1] = c.1; bytes[i + 2] = c.2
    }

    public mutating func fill(x: Int, y: Int, width w: Int, height h: Int, _ c: Color) {
        for yy in max(0, y)..<min(height, y + h) { for xx in max(0, x)..<min(width, x + w) { set(xx, yy, c) } }
    }

    /// A one-pixel line (Bresenham).
    public mutating func line(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ c: Color) {
        var x = x0, y = y0
        let dx = abs(x1 - x0), dy = -abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
        var err = dx + dy
        while true {
            set(x, y, c)
            if x == x1 && y == y1 { break }
            let e2 = 2 * err
            if e2 >= dy { err += dy; x += sx }
            if e2 <= dx { err += dx; y += sy }
        }
    }

    /// Text with its top-left corner at (x, y), glyphs `scale` pixels per font pixel.
    public mutating func text(_ s: String, x: Int, y: Int, _ c: Color, scale: Int = 1) {
        var cx = x
        for ch in s {
            let g = BitmapFont.glyph(ch)
            for (r, row) in g.enumerated() {
                for (k, ink) in row.enumerated() where ink {
                    fill(x: cx + k * scale, y: y + r * scale, width: scale, height: scale, c)
                }
            }
            cx += (BitmapFont.width + 1) * scale
        }
    }

    /// A plot's frame: the left and bottom axis lines of the box at (left, top), pw × ph, and
    /// five ticks labelled with `label` along the bottom, from `lo` to `hi` at `position`.
    mutating func plotFrame(left: Int, top: Int, width pw: Int, height ph: Int, from lo: Double, to hi: Double,
                            position: (Double) -> Int, label: (Double) -> String, _ c: Color) {
        line(left, top + ph, left + pw, top + ph, c)
        line(left, top, left, top + ph, c)
        for t in 0...4 {
            let v = lo + (hi - lo) * Double(t) / 4, x = position(v), text = label(v)
            line(x, top + ph, x, top + ph + 4, c)
            self.text(text, x: max(0, min(width - Canvas.textWidth(text), x - Canvas.textWidth(text) / 2)), y: top + ph + 8, c)
        }
    }

    /// Width in pixels of `s` drawn at `scale`.
    public static func textWidth(_ s: String, scale: Int = 1) -> Int {
        max(0, s.count * (BitmapFont.width + 1) * scale - scale)
    }

    public static func textHeight(scale: Int = 1) -> Int { BitmapFont.height * scale }

    /// A grey or RGB preview pasted with its top-left at (x, y), each pixel `zoom`×`zoom`.
    public mutating func paste(_ p: RenderedPreview, x: Int, y: Int, zoom: Int = 1) {
        for py in 0..<p.height {
            for px in 0..<p.width {
                let i = (py * p.width + px) * p.channels
                let c: Color = p.channels >= 3 ? (p.bytes[i], p.bytes[i + 1], p.bytes[i + 2]) : (p.bytes[i], p.bytes[i], p.bytes[i])
                fill(x: x + px * zoom, y: y + py * zoom, width: zoom, height: zoom, c)
            }
        }
    }

    /// Writes the canvas as an 8-bit RGB PNG, atomically.
    public func write(to path: String, overwrite: Bool) throws {
        try PNGWriter.write(bytes, width: width, height: height, channels: 3, to: path, overwrite: overwrite)
    }
}
