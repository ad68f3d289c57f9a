@testable import AstroAlign
import AstroFITS
import AstroImage
import AstroTestSupport
import AstroWCS
import Foundation
import Testing

/// `--preserve-footprints`: a source 40 px beside the template widens the output by 40 px.
@Suite struct PreserveFootprintsTests {
    static let n = 300

    /// A TAN header at 0.5"/px, reference pixel at the centre.
    static func header() -> Header {
        var h = Header()
        for (k, v) in [("CTYPE1", "RA---TAN"), ("CTYPE2", "DEC--TAN"), ("CUNIT1", "deg"), ("CUNIT2", "deg")] { h.set(k, v) }
        h.set("CRPIX1", 150.5); h.set("CRPIX2", 150.5); h.set("CRVAL1", 200.0); h.set("CRVAL2", 10.0)
        h.set("CD1_1", -0.5 / 3600); h.set("CD2_2", 0.5 / 3600)
        return h
    }

    @Test(arguments: ["affine", "poly", "spline"]) func sourceBesideTheTemplate(model: String) throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let n = Self.n
        // Source pixel = template pixel + 40 in x: the source reaches 40 px left of the template.
        let pair = SyntheticStars.pair(width: n, height: n, stars: 150, seed: 5) { x, y in (x + 40, y) }
        let template = dir.appendingPathComponent("t.fits").path, source = dir.appendingPathComponent("s.fits").path
        try FITSWriter.write([OutputHDU(Image(width: n, height: n, pixels: pair.template, header: Self.header()))], to: template, overwrite: false)
        try FITSWriter.write([OutputHDU(Image(width: n, height: n, pixels: pair.source))], to: source, overwrite: false)
        var o = AlignOptions()
        o.registration.model = model == "affine" ? .affine : nil
        if model == "poly" { (o.registration.polyOrders, o.registration.forcePoly) = (2...2, true) }
        if model == "spline" { o.registration.splineOrder = 3 }
        o.interpolation = .bilinear
        let plain = dir.appendingPathComponent("plain.fits").path, grown = dir.appendingPathComponent("grown.fits").path
        _ = try Align.run(source: source, template: .image(template), sourceCatalogue: nil, output: plain, options: o, overwrite: false)
        o.preserveFootprints = true
        let r = try Align.run(source: source, template: .image(template), sourceCatalogue: nil, output: grown, options: o, overwrite: false)
        #expect((model == "spline") == (r.transform.splineOrder != nil) && (model == "poly") == (r.transform.polyOrder != nil))
        #expect(r.templateOffset == [-40, 0] && r.width == n + 40 && r.height == n, "\(String(describing: r.templateOffset)) \(r.width)x\(r.height)")

        let a = try FITS.readImage(plain), b = try FITS.readImage(grown)
        var worst: Float = 0
        for y in 0..<n {
            for x in 0..<(n - 45) where a.pixels[y * n + x].isFinite {
                worst = max(worst, abs(a.pixels[y * n + x] - b.pixels[y * b.width + x + 40]))
            }
        }
        #expect(worst < 1e-3, "\(worst)")
        // A star left of the template: in the grown output, where the output WCS puts its sky position.
        let star = try #require(pair.stars.filter { $0.x > -35 && $0.x < -5 && $0.y > 5 && $0.y < Double(n - 5) }.max { $0.flux < $1.flux })
        let sky = try #require(try WCS(header: Self.header()).pixelToWorld(x: star.x, y: star.y))
        let p = try #require(try WCS(header: b.header).worldToPixel(ra: sky.ra, dec: sky.dec))
        #expect(abs(p.x - (star.x + 40)) < 1e-6 && abs(p.y - star.y) < 1e-6)
        let peak = b.pixels[Int(p.y.rounded()) * b.width + Int(p.x.rounded())]
        #expect(peak > 10 * abs(b.pixels[Int(p.y.rounded()) * b.width + 1]) || peak > 100, "\(peak)")
    }
}
