import AstroCCD
import AstroFITS
import AstroImage
import AstroTestSupport
import Foundation

/// Fixtures made by scripts/fixtures/ccdproc.py with ccdproc 2.5.1 (testdata/ccdproc/).
enum Fixture {
    static func raw(_ name: String) -> String { TestSupport.path("ccdproc/raw/\(name).fits") }
    static func ref(_ name: String) -> String { TestSupport.path("ccdproc/ref/\(name).fits") }

    static func read(_ path: String) throws -> Image { try CCDFile.read(path).chips[0].image }

    /// Largest |a − b| / (|b| + scale) over finite pairs; +inf when NaN sits in only one of them.
    /// `scale` is the size of the values the result was computed from (a ~1000 ADU pedestal
    /// cancels to a few ADU, whose float32 rounding is relative to the pedestal, not the result).
    static func maxDiff(_ a: [Float], _ b: [Float], scale: Double) -> Double {
        precondition(a.count == b.count)
        var worst = 0.0
        for i in a.indices {
            let x = Double(a[i]), y = Double(b[i])
            if x.isNaN || y.isNaN { if x.isNaN != y.isNaN { return .infinity }; continue }
            worst = max(worst, abs(x - y) / (abs(y) + scale))
        }
        return worst
    }

    static func region(_ text: String, _ image: Image) throws -> PixelRegion {
        try Section.parseFITS(text, width: image.width, height: image.height)
    }

    static let biassec = "[131:136,1:96]"
    static let trimsec = "[1:128,1:96]"
}
