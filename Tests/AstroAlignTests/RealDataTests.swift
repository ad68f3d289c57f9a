@testable import AstroAlign
import AstroFITS
import AstroImage
import AstroTestSupport
import AstroWCS
import Foundation
import Testing

/// Registration on real data: a 256² piece of the HST ACS/HRC frame of 47 Tuc
/// (testdata/align/hrc_cutout.fits, made by scripts/fixtures/align_hrc.py) and a rotated,
/// shifted copy resampled from it through a known map, carrying the WCS that map implies.
@Suite struct RealDataTests {
    static let cutout = TestSupport.path("align/hrc_cutout.fits")

    /// Source → template (the cutout): a 7.5° rotation about the centre, a 0.3 % scale change
    /// and a shift of (4.37, −3.61) px.
    static let push: AffineMap = {
        let c = 127.5
        let m = AffineMap.similarity(scale: 1.003, rotation: 7.5)
        return AffineMap(a: 1, b: 0, c: c + 4.37, d: 0, e: 1, f: c - 3.61)
            .composed(after: m.composed(after: AffineMap(a: 1, b: 0, c: -c, d: 0, e: 1, f: -c)))
    }()

    /// RMS of |a − b| over a 21×21 grid of source pixels that both put inside the template.
    static func rms(_ a: AffineMap, _ b: AffineMap) -> Double {
        var sum = 0.0, n = 0
        for j in 0...20 {
            for i in 0...20 {
                let x = Double(i) * 255 / 20, y = Double(j) * 255 / 20
                let p = b.apply(x, y)
                guard p.x >= 0, p.y >= 0, p.x <= 255, p.y <= 255 else { continue }
                let q = a.apply(x, y)
                sum += (q.x - p.x) * (q.x - p.x) + (q.y - p.y) * (q.y - p.y)
                n += 1
            }
        }
        return (sum / Double(max(n, 1))).squareRoot()
    }

    /// The copy: source pixel s shows the cutout at push(s) (spline3; outside the cutout the
    /// cutout's median, as an empty sky), with a WCS tied to the cutout's through `push`
    /// (its true WCS), and a header WCS of the cutout's own when `wrongWCS` (as if the
    /// telescope had not moved).
    static func makeCopy(in dir: URL, wrongWCS: Bool) throws -> (path: String, truth: Header) {
        let image = try FITS.readImage(cutout)
        let median = image.pixels.sorted()[image.count / 2]
        let warped = Warp.warp(image, fillPlane: [Float](repeating: median, count: image.count), pull: push,
                               width: image.width, height: image.height, interpolation: .spline3, fill: median,
                               conserveFlux: false)
        let truth = try AlignWCS.tiedToTemplate(image.header, template: try WCS.read(path: cutout), push: push)
        let path = dir.appendingPathComponent("copy.fits").path
        try FITSWriter.write([OutputHDU(Image(width: image.width, height: image.height, pixels: warped.pixels,
                                              header: wrongWCS ? image.header : truth))],
                             to: path, overwrite: false)
        return (path, truth)
    }

    @Test func recoversAKnownTransformOnHRCData() throws {
        let dir = TestSupport.scratch("align-hrc"); defer { TestSupport.cleanup(dir) }
        let copy = try Self.makeCopy(in: dir, wrongWCS: false)
        let template = try Detector.detect(try FITS.readImage(Self.cutout))
        let source = try Detector.detect(try FITS.readImage(copy.path))
        let reg = try Registrar.register(source: source, template: template, options: RegistrationOptions())
        let r = reg.report
        let rms = Self.rms(reg.push, Self.push)
        print(String(format: "HRC cutout: push vs known %.4f px RMS; %@ fit, %d/%d matches, fit rms %.4f px, rotation %.4f deg, scale %.5f",
                     rms, r.model, r.used, r.matches, r.rms, r.rotation, r.scaleX))
        #expect(rms <= 0.05)
        #expect(abs(r.rotation - 7.5) < 0.02 && abs(r.scaleX - 1.003) < 5e-4)
        #expect(r.used >= 40)
    }

    @Test func updateWCSOnHRCDataRecoversTheCopysWCS() throws {
        let dir = TestSupport.scratch("align-hrc-wcs"); defer { TestSupport.cleanup(dir) }
        let copy = try Self.makeCopy(in: dir, wrongWCS: true)
        let out = dir.appendingPathComponent("reg.fits").path
        var o = AlignOptions()
        o.updateWCS = true
        _ = try Align.run(source: copy.path, template: .image(Self.cutout), sourceCatalogue: nil, output: out,
                          options: o, overwrite: false)
        let fitted = try WCS.read(path: out), truth = try WCS(header: copy.truth)
        var gx: [Double] = [], gy: [Double] = []
        for j in 0..<16 { for i in 0..<16 { gx.append(Double(i) * 17); gy.append(Double(j) * 17) } }
        let sky = truth.pixelToWorld(x: gx, y: gy), back = fitted.worldToPixel(ra: sky.ra, dec: sky.dec)
        let rms = (gx.indices.map { k in
            (back.x[k] - gx[k]) * (back.x[k] - gx[k]) + (back.y[k] - gy[k]) * (back.y[k] - gy[k])
        }.reduce(0, +) / Double(gx.count)).squareRoot()
        print(String(format: "HRC cutout --update-wcs: fitted WCS vs the copy's true WCS %.4f px RMS", rms))
        #expect(rms <= 0.05)
    }
}
