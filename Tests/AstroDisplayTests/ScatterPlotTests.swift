@testable import AstroDisplay
import AstroImage
import AstroTestSupport
import Foundation
import Testing

/// The scatter plot puts each point where its axes say, keeps outliers on the edge, and
/// panels sit side by side on one sheet.
@Suite struct ScatterPlotTests {
    static func colour(_ c: Canvas, _ x: Int, _ y: Int) -> (UInt8, UInt8, UInt8) {
        let i = (y * c.width + x) * 3
        return (c.bytes[i], c.bytes[i + 1], c.bytes[i + 2])
    }

    @Test func pointsLandWhereTheAxesSay() {
        var o = ScatterPlotOptions()
        o.width = 200; o.height = 170
        o.xRange = 0...1; o.yRange = 0...1
        // Plot area: x from 70 (left) over 114 px, y from 26 (top) over 100 px.
        let c = ScatterPlot.draw(x: [0.5], y: [0.5], options: o)
        #expect(Self.colour(c, 70 + 57, 26 + 50) == (40, 80, 160))
        #expect(Self.colour(c, 70 + 57 + 3, 26 + 50) == (255, 255, 255))
        // Outside the range: a red cross pinned to the edge.
        let out = ScatterPlot.draw(x: [0.5], y: [7], options: o)
        #expect(Self.colour(out, 70 + 57, 26) == (200, 0, 0))
    }

    @Test func referenceLinesAndAutomaticRanges() {
        var o = ScatterPlotOptions()
        o.width = 200; o.height = 170
        o.referenceLines = [2]
        // y from 1...3 padded by 5 %: y = 2 sits half-way down the plot area.
        let c = ScatterPlot.draw(x: [0, 1, .nan], y: [1, 3, 5], options: o)
        #expect(Self.colour(c, 70, 26 + 50) == (0, 0, 0))       // the axis
        #expect(Self.colour(c, 72, 26 + 50) == (160, 160, 160)) // the dashed line
    }

    @Test func panelsInARow() throws {
        let a = Canvas(width: 30, height: 20, background: (1, 2, 3))
        let b = Canvas(width: 10, height: 40, background: (4, 5, 6))
        let sheet = Canvas.row([a, b], gap: 5)
        #expect(sheet.width == 5 + 30 + 5 + 10 + 5 && sheet.height == 40 + 10)
        #expect(Self.colour(sheet, 5, 5) == (1, 2, 3) && Self.colour(sheet, 40, 44) == (4, 5, 6))
        #expect(Self.colour(sheet, 5, 30) == (255, 255, 255))
        var p = PreviewOptions()
        p.size = nil
        p.colorbar = true
        p.interval = .manual(0, 3)
        let panel = try ImagePanel.draw(Image(width: 4, height: 2, pixels: [0, 1, 2, 3, 0, 1, 2, 3]), title: "MAP", options: p, zoom: 10)
        #expect(panel.width == 40 + 12)
        #expect(panel.height > 20 + Preview.colorbarHeight)
    }
}
