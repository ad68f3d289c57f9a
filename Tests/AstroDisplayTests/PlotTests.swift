@testable import AstroDisplay
import AstroImage
import AstroTestSupport
import Foundation
import Testing

/// The histogram's numbers, and what the canvas draws.
@Suite struct PlotTests {
    @Test func histogramBinsAndMoments() {
        let values: [Float] = [0, 1, 1, 2, 2, 2, 3, 3, .nan, 100]
        var o = HistogramOptions()
        o.bins = 4
        o.range = 0...4
        o.percentiles = [50]
        let h = Histogram.of(values, mask: [0, 0, 0, 0, 0, 0, 0, 1, 0, 0], options: o)
        // 100 out of range, NaN dropped, one 3 masked: 0 | 1 1 | 2 2 2 | 3.
        #expect(h.counts == [1, 2, 3, 1] && h.n == 7)
        #expect(abs(h.mean - 11.0 / 7) < 1e-12)
        #expect(h.percentileValues == [2])
        #expect(h.edges == [0, 1, 2, 3, 4])
    }

    @Test func canvasDrawsTextLinesAndPastes() {
        var c = Canvas(width: 40, height: 20)
        c.text("A1", x: 1, y: 1, (0, 0, 0))
        // 'A' top row is .###. : ink at x = 2...4 of row 1.
        #expect(c.bytes[(1 * 40 + 2) * 3] == 0 && c.bytes[(1 * 40 + 1) * 3] == 255)
        c.line(0, 19, 39, 19, (255, 0, 0))
        #expect(c.bytes[(19 * 40 + 20) * 3 + 1] == 0 && c.bytes[(19 * 40 + 20) * 3] == 255)
        #expect(Canvas.textWidth("A1") == 11)
        let p = RenderedPreview(width: 2, height: 1, channels: 1, bytes: [10, 20], lo: 0, hi: 1, blockFactor: 1)
        c.paste(p, x: 30, y: 5, zoom: 2)
        #expect(c.bytes[(6 * 40 + 33) * 3] == 20)
    }

    @Test func mosaicCutoutsAreCentredAndBlankOutside() {
        let image = Image(width: 5, height: 5, pixels: (0..<25).map(Float.init))
        let cut = CutoutMosaic.cutout(image, x: 0, y: 0, size: 3)
        #expect(cut.pixels[4] == 0 && cut.pixels[0].isNaN && cut.pixels[8] == 6)
    }
}
