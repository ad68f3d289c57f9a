import AstroImage

/// An image as one panel of a sheet: a title line, the preview zoomed by whole pixels, and
/// with a colour bar its limits written under it.
public enum ImagePanel {
    public static func draw(_ image: Image, title: String, options: PreviewOptions, zoom: Int = 1) throws -> Canvas {
        let p = try Preview.render(image, options: options)
        let z = max(1, zoom), gap = 6, titleHeight = Canvas.textHeight() + 10
        let labels = options.colorbar ? Canvas.textHeight() + 6 : 0
        var c = Canvas(width: max(p.width * z, Canvas.textWidth(title)) + 2 * gap, height: p.height * z + titleHeight + labels + gap)
        c.text(title, x: gap, y: 4, (0, 0, 0))
        c.paste(p, x: gap, y: titleHeight, zoom: z)
        if options.colorbar {
            let y = titleHeight + p.height * z + 3
            let lo = ScatterPlot.label(Double(p.lo)), hi = ScatterPlot.label(Double(p.hi))
            c.text(lo, x: gap, y: y, (0, 0, 0))
            c.text(hi, x: gap + p.width * z - Canvas.textWidth(hi), y: y, (0, 0, 0))
        }
        return c
    }
}
